"""`cdl apply` end to end: one output per input, composites, products, latent codes, run
folders opened from elsewhere, and a one-line error for every refusal.

Two runs, trained once for the module (2 steps each): the built-in ``gaussians``
(vectors) and ``tiny_paths_experiment.py`` (RGB images, a product, a latent domain).
"""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import load_file, save_file

from runtime.apply import outputs as apply_outputs
from runtime.apply.inputs import Codes
from runtime.cli import main
from runtime.train.run_folder import open_run

ROOT = Path(__file__).resolve().parents[2]
EXPERIMENT = Path(__file__).with_name("tiny_paths_experiment.py")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    for name, ref in (("gauss", "gaussians"), ("tiny", str(EXPERIMENT))):
        assert main(["train", ref, "--steps", "2", "--out", str(root / name),
                     "--backend", "eager"]) == 0
    return root


def run(args, capsys):
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


def images(folder: Path, spec: dict[str, tuple[int, int, str]]) -> Path:
    """Random RGB images at ``folder/name`` of (height, width, mode)."""
    rng = np.random.default_rng(0)
    for name, (h, w, mode) in spec.items():
        p = folder / name
        p.parent.mkdir(parents=True, exist_ok=True)
        a = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        Image.fromarray(a).convert(mode).save(p)
    return folder


def files_under(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def functor_output(run_dir, path: str, *x: torch.Tensor):
    """The path's output computed in Python: the functor of the run's last checkpoint."""
    _, program, _ = open_run(run_dir, forward_only=True)
    with torch.no_grad():
        return program.functor(program.functor.schema.path(path))(x if len(x) > 1 else x[0])


def test_folder_gives_one_output_per_image_with_its_name_and_format(runs, tmp_path, capsys):
    src = images(tmp_path / "in", {"a.png": (8, 8, "RGB"), "b.jpg": (8, 8, "RGB"),
                                   "sub/c.png": (20, 12, "L"), "sub/deep/d.jpeg": (8, 8, "RGB"),
                                   "e.webp": (8, 8, "RGBA")})
    (src / "notes.txt").write_text("not an image")
    (src / "sub" / "broken.png").write_bytes(b"\x89PNG not really")
    out = tmp_path / "out"
    code, stdout, err = run(["apply", runs / "tiny", "h", src, "-o", out], capsys)
    assert code == 0, err
    assert files_under(out) == {"a.png", "b.jpg", "sub/c.png", "sub/deep/d.jpeg", "e.webp"}
    for name, fmt in (("a.png", "PNG"), ("b.jpg", "JPEG"), ("sub/deep/d.jpeg", "JPEG"),
                      ("e.webp", "WEBP")):
        with Image.open(out / name) as im:
            assert (im.format, im.mode, im.size) == (fmt, "RGB", (8, 8))
    assert "wrote 5 output(s)" in stdout and "1 resized" in stdout
    assert "sub/broken.png" in stdout  # skipped, and said so
    assert "100%" in err  # the progress bar, on stderr
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_images_match_the_functor_within_8_bits(runs, tmp_path, capsys):
    src = images(tmp_path / "in", {f"{i}.png": (8, 8, "RGB") for i in range(5)})
    code, _, err = run(["apply", runs / "tiny", "h.h", src, "-o", tmp_path / "out",
                        "--batch", "2"], capsys)
    assert code == 0, err
    for i in range(5):
        x = torch.from_numpy(np.array(Image.open(src / f"{i}.png"))).permute(2, 0, 1)
        want = functor_output(runs / "tiny", "h.h", x[None].float() / 127.5 - 1)[0]
        got = torch.from_numpy(np.array(Image.open(tmp_path / "out" / f"{i}.png")))
        assert ((got.permute(2, 0, 1).float() / 127.5 - 1) - want).abs().max() <= 1 / 127.5


def test_a_composite_is_its_arrows_applied_in_turn(runs, tmp_path, capsys):
    """``apply f.g`` equals ``apply g`` on ``apply f``'s outputs (tensor files: no 8-bit
    rounding); ``f`` has a product codomain (a file per factor), ``g`` a product domain."""
    x = torch.rand(10, 3, 8, 8) * 2 - 1
    np.save(tmp_path / "x.npy", x.numpy())
    tiny = runs / "tiny"
    assert run(["apply", tiny, "f", tmp_path / "x.npy", "-o", tmp_path / "fx.npy"], capsys)[0] == 0
    fb, fc = np.load(tmp_path / "fx-B.npy"), np.load(tmp_path / "fx-C.npy")
    assert fb.shape == (10, 3, 8, 8) and fc.shape == (10, 2)
    assert run(["apply", tiny, "g", tmp_path / "fx-B.npy", tmp_path / "fx-C.npy", "-o",
                tmp_path / "gfx.npy", "--batch", "3"], capsys)[0] == 0
    assert run(["apply", tiny, "f.g", tmp_path / "x.npy", "-o", tmp_path / "fgx.npy"],
               capsys)[0] == 0
    composite, in_turn = np.load(tmp_path / "fgx.npy"), np.load(tmp_path / "gfx.npy")
    assert composite.shape == (10, 3, 8, 8)
    np.testing.assert_allclose(composite, in_turn, atol=1e-6)
    np.testing.assert_allclose(composite, functor_output(tiny, "f.g", x).numpy(), atol=1e-6)


@pytest.mark.parametrize("suffix", [".pt", ".safetensors"])
def test_tensor_files_are_written_back_in_their_format(runs, tmp_path, capsys, suffix):
    x = torch.randn(7, 2)
    src = tmp_path / f"x{suffix}"
    torch.save(x, src) if suffix == ".pt" else save_file({"points": x}, src)
    code, _, err = run(["apply", runs / "gauss", "f.g", src, "-o", tmp_path / f"y{suffix}"],
                       capsys)
    assert code == 0, err
    y = (torch.load(tmp_path / "y.pt") if suffix == ".pt"
         else next(iter(load_file(tmp_path / "y.safetensors").values())))
    torch.testing.assert_close(y, functor_output(runs / "gauss", "f.g", x))


def test_identity_and_one_image_file(runs, tmp_path, capsys):
    src = images(tmp_path, {"one.jpg": (8, 8, "RGB")})
    code, stdout, _ = run(["apply", runs / "tiny", "id(A)", src / "one.jpg", "-o",
                           tmp_path / "same.png"], capsys)
    assert code == 0 and "wrote 1 output(s)" in stdout
    a = np.asarray(Image.open(src / "one.jpg"), dtype=int)
    assert Image.open(tmp_path / "same.png").format == "PNG"
    assert np.abs(np.asarray(Image.open(tmp_path / "same.png"), dtype=int) - a).max() <= 1


def test_a_latent_domain_draws_n_codes(runs, tmp_path, capsys):
    tiny = runs / "tiny"
    code, stdout, _ = run(["apply", tiny, "gen", "-n", "5", "-o", tmp_path / "faces"], capsys)
    assert code == 0 and "wrote 5 output(s)" in stdout
    assert files_under(tmp_path / "faces") == {f"000{i}.png" for i in range(5)}
    for batch, seed, name in (("64", "0", "a"), ("2", "0", "b"), ("64", "1", "c")):
        assert run(["apply", tiny, "gen", "-n", "5", "--seed", seed, "--batch", batch, "-o",
                    tmp_path / f"{name}.npy"], capsys)[0] == 0
    a, b, c = (np.load(tmp_path / f"{k}.npy") for k in "abc")
    assert a.shape == (5, 3, 8, 8)
    # code i depends on (seed, i) only, not on --batch (the network's sums may round apart)
    np.testing.assert_allclose(a, b, atol=1e-6)
    assert not np.allclose(a, c)


def test_codes_of_an_experiments_own_sampler_depend_on_seed_and_index_only():
    def coded(n):  # a disconnected prior, as gan_glyphs draws its latent
        return torch.cat([torch.nn.functional.one_hot(torch.randint(3, (n,)), 3).float(),
                          torch.randn(n, 2)], 1)

    torch.manual_seed(11)
    before = torch.rand(3)
    torch.manual_seed(11)
    codes = Codes(7, (5,), seed=4, sample=coded)
    whole = codes.read(0, 7)[1]
    assert torch.equal(torch.rand(3), before)  # the global generator is left as it was
    assert whole.shape == (7, 5) and whole.dtype == torch.float32
    assert torch.equal(torch.cat([codes.read(0, 2)[1], codes.read(2, 7)[1]]), whole)
    assert torch.equal(Codes(7, (5,), seed=4, sample=coded).read(3, 4)[1], whole[3:4])
    other = Codes(7, (5,), seed=5, sample=coded).read(0, 7)[1]
    assert not torch.equal(other, whole)
    assert len({tuple(r.tolist()) for r in whole}) == 7  # seven different codes


def test_a_named_checkpoint(runs, tmp_path, capsys):
    x = tmp_path / "x.npy"
    np.save(x, np.random.default_rng(0).normal(size=(4, 2)).astype(np.float32))
    for name, flags in (("last", []), ("first", ["--checkpoint", "step-00000001"])):
        code, stdout, _ = run(["apply", runs / "gauss", "f", x, "-o", tmp_path / f"{name}.npy",
                               *flags], capsys)
        assert code == 0
    assert "step 1" in stdout
    assert not np.allclose(np.load(tmp_path / "last.npy"), np.load(tmp_path / "first.npy"))


def test_from_a_fresh_process_elsewhere(runs, tmp_path):
    """A run folder applied by a new process whose working directory is another folder."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    x = np.random.default_rng(1).normal(size=(300, 2)).astype(np.float32)
    np.save(elsewhere / "x.npy", x)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "runtime", "apply", str(runs / "gauss"), "f.g",
                           "x.npy", "-o", "y.npy", "--batch", "128"], cwd=elsewhere, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "wrote 300 output(s) of f.g to y.npy" in done.stdout
    want = functor_output(runs / "gauss", "f.g", torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(np.load(elsewhere / "y.npy"), want, atol=1e-6)


def test_an_existing_out_is_replaced_only_with_overwrite(runs, tmp_path, capsys):
    src = images(tmp_path / "in", {"a.png": (8, 8, "RGB")})
    out = tmp_path / "out"
    out.mkdir()
    (out / "old.png").write_bytes(b"old")
    code, _, err = run(["apply", runs / "tiny", "h", src, "-o", out], capsys)
    assert code == 1 and "--overwrite" in err and files_under(out) == {"old.png"}
    assert run(["apply", runs / "tiny", "h", src, "-o", out, "--overwrite"], capsys)[0] == 0
    assert files_under(out) == {"a.png"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in", "out"]  # no temporaries left


def test_a_failure_midway_leaves_nothing_behind(runs, tmp_path, capsys, monkeypatch):
    src = images(tmp_path / "in", {f"{i}.png": (8, 8, "RGB") for i in range(4)})
    calls = []

    def failing(self, kept, batch):
        calls.append(kept)
        if len(calls) == 2:
            raise OSError("disk full")
        return original(self, kept, batch)

    original = apply_outputs.ItemFiles.write
    monkeypatch.setattr(apply_outputs.ItemFiles, "write", failing)
    code, _, err = run(["apply", runs / "tiny", "h", src, "-o", tmp_path / "out", "--batch",
                        "2"], capsys)
    assert code == 1 and "disk full" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in"]


@pytest.mark.parametrize("args, message", [
    (["gauss", "f.f", "x.npy"], "f.f does not compose: cod(f)=B but dom(f)=A"),
    (["gauss", "k", "x.npy"], "unknown arrow 'k'"),
    (["gauss", "f", "imgs"], "INPUT imgs is a folder of images, but path f starts at A "
                             "(vectors R^2)"),
    (["tiny", "h", "x.npy"], "x.npy holds a tensor of shape (3, 2), but path h starts at A "
                             "(images 3×8×8)"),
    (["gauss", "f", "imgs/a.png"], "INPUT imgs/a.png is an image, but path f starts at A"),
    (["tiny", "h", "imgs", "--strict-size"], "--strict-size: big.png is 9×9, but the path "
                                             "takes 8×8 images"),
    (["gauss", "f", "-n", "3"], "-n draws codes of a latent domain (a prior), but path f "
                                "starts at A"),
    (["tiny", "gen"], "no INPUT: path gen starts at Z (vectors R^4)"),
    (["tiny", "gen", "x.npy", "-n", "3"], "give INPUT or -n, not both"),
    (["tiny", "g", "imgs"], "1 INPUTs for 2 factor(s)"),
    (["gauss", "f", "missing.npy"], "INPUT missing.npy does not exist"),
    (["gauss", "f", "x.csv"], "the extension .csv names neither an image"),
    (["tiny", "h", "imgs/a.png", "-o", "out.txt"], "the extension .txt names neither"),
    (["tiny", "gen", "-n", "2", "-o", "one.png"], "OUT one.png names one image, but INPUT "
                                                  "holds 2 points"),
    (["tiny", "h", "imgs", "-o", "y.npy"], "a folder INPUT is written to a folder"),
    (["gauss", "f", "x.npy", "-o", "taken.npy"], "OUT taken.npy exists: pass --overwrite"),
    (["gauss", "f", "x.npy", "--checkpoint", "step-9"], "step-9"),
])
def test_refusals_are_one_clear_line(runs, tmp_path, capsys, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    np.save("x.npy", np.zeros((3, 2), np.float32))
    Path("x.csv").write_text("1,2\n")
    Path("taken.npy").write_bytes(b"")
    images(Path("imgs"), {"a.png": (8, 8, "RGB"), "big.png": (9, 9, "RGB")})
    run_dir, *rest = args
    if "-o" not in rest:
        rest += ["-o", "out"]
    code, stdout, err = run(["apply", runs / run_dir, *rest], capsys)
    assert code == 1
    assert err.startswith("cdl apply: error: ") and err.count("\n") == 1, err
    assert message in err
    assert not Path("out").exists()


def test_a_refusal_in_a_process_is_one_line_without_traceback(runs, tmp_path):
    np.save(tmp_path / "x.npy", np.zeros((3, 2), np.float32))
    done = subprocess.run([sys.executable, "-m", "runtime", "apply", str(runs / "gauss"), "g.g.f",
                           "x.npy", "-o", "y.npy"], cwd=tmp_path, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=300)
    assert done.returncode == 1
    assert done.stderr == ("cdl apply: error: path 'g.g.f': line 1, col 3: g.g does not "
                           "compose: cod(g)=A but dom(g)=B\n")


def test_forward_only_runs_are_never_compiled(runs, tmp_path, capsys):
    """``open_run(forward_only=True)`` — sample, eval, apply, export — builds eager even
    where the run trained compiled, and the commands compile nothing: Dynamo's count of
    compiled frames does not move while they run (a counter, not a timing)."""
    info = (runs / "gauss" / "run.json").read_text()
    assert '"backend": "eager"' in info
    copy = tmp_path / "gauss"
    copy.mkdir()
    (copy / "run.json").write_text(info.replace('"backend": "eager"', '"backend": "inductor"'))
    os.symlink(runs / "gauss" / "checkpoints", copy / "checkpoints")
    _, compiled, _ = open_run(copy)
    _, forward, _ = open_run(copy, forward_only=True)
    assert compiled.backend == "inductor" and forward.backend == "eager"
    np.save(tmp_path / "x.npy", np.zeros((3, 2), np.float32))
    frames = torch._dynamo.utils.counters["frames"]
    before = (frames["total"], frames["ok"])
    for args in (["eval", copy], ["sample", copy, "-o", tmp_path / "s.png"],
                 ["apply", copy, "f", tmp_path / "x.npy", "-o", tmp_path / "y.npy"],
                 ["export", copy, "f", "-o", tmp_path / "f.pt2"]):
        assert run(args, capsys)[0] == 0, args
    assert (frames["total"], frames["ok"]) == before
    assert (tmp_path / "s.png").is_file() and (tmp_path / "f.pt2").is_file()
