"""`cdl train S.schema --data …`: a schema file and the user's data, no Python written.

The end-to-end runs go through the command line in subprocesses (eager backend, a few
steps, 16×16 images generated here); the refusals are checked in-process through
``runtime.cli.main``, which is what the command runs (one line, exit 1), and once in a
subprocess for the absence of a traceback.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from runtime.cli import main

ROOT = Path(__file__).parents[2]
CYCLEGAN = ROOT / "examples" / "cyclegan.schema"
GAN = ROOT / "examples" / "gan.schema"
PRODUCT = ROOT / "examples" / "product.schema"
FAST = ["--backend", "eager", "--no-progress", "--no-tensorboard", "--batch", "4",
        "--sample-every", "0", "--checkpoint-every", "0"]


def image_folder(root: Path, n: int, tint: int, seed: int) -> Path:
    """``n`` 16×16 images, RGBA (partly transparent), palette PNGs with a transparent
    entry (in a subfolder) and JPEGs, in turn."""
    rng = np.random.default_rng(seed)
    (root / "nested").mkdir(parents=True, exist_ok=True)
    for i in range(n):
        a = (rng.random((16, 16, 3)) * 80 + tint).clip(0, 255).astype(np.uint8)
        if i % 3 == 0:
            alpha = (rng.random((16, 16)) > 0.3).astype(np.uint8) * 255
            Image.fromarray(np.dstack([a, alpha]), "RGBA").save(root / f"{i}.png")
        elif i % 3 == 1:
            p = Image.fromarray(a).convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
            p.save(root / "nested" / f"{i}.png", transparency=0)
        else:
            Image.fromarray(a).save(root / f"{i}.jpg", quality=90)
    return root


@pytest.fixture(scope="module")
def folders(tmp_path_factory) -> Path:
    data = tmp_path_factory.mktemp("data")
    image_folder(data / "horses", 12, 40, 0)
    image_folder(data / "zebras", 12, 150, 1)
    return data


def cdl(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TORCHINDUCTOR_CACHE_DIR":
           os.environ.get("TORCHINDUCTOR_CACHE_DIR", "/tmp/ci/inductor")}
    return subprocess.run([sys.executable, "-m", "runtime", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, env=env, timeout=600)


def run(args, capsys):
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


# ---------------------------------------------------------------------- end to end
def test_cyclegan_on_two_folders_then_resume_eval_sample_from_elsewhere(folders, tmp_path):
    """Relative data paths at the start; the run folder alone (run.json) serves a resume,
    eval and sample from another working directory."""
    first = cdl("train", CYCLEGAN, "--data", "Horse=horses", "--data", "Zebra=zebras",
                "--steps", "3", "--out", tmp_path / "run", *FAST, cwd=folders)
    assert first.returncode == 0, first.stderr
    assert "residual generator (identity start)" in first.stdout  # the networks table
    assert "PatchGAN critic" in first.stdout and "f.g = id(Horse)" in first.stdout
    info = json.loads((tmp_path / "run" / "run.json").read_text())
    spec = info["experiment"]
    assert spec["schema"] == CYCLEGAN.read_text()
    assert spec["data"] == {"Horse": str(folders / "horses"), "Zebra": str(folders / "zebras")}
    assert [r["name"] for r in info["networks"]] == ["f", "g", "critic:Zebra", "critic:Horse"]
    page = (tmp_path / "run" / "index.html").read_text()
    assert "<h3>Networks</h3>" in page and "residual generator" in page

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    more = cdl("train", "--resume", "--out", tmp_path / "run", "--steps", "5",
               "--no-progress", cwd=elsewhere)
    assert more.returncode == 0, more.stderr
    steps = [json.loads(x)["step"] for x in (tmp_path / "run" / "metrics.jsonl").read_text()
             .splitlines() if "step" in json.loads(x)]
    assert max(steps) == 5
    ev = cdl("eval", tmp_path / "run", cwd=elsewhere)
    assert ev.returncode == 0, ev.stderr
    assert "at step 5" in ev.stdout and "kid_identity" in ev.stdout and "residual" in ev.stdout
    grid = elsewhere / "grid.png"
    sample = cdl("sample", tmp_path / "run", "-o", grid, cwd=elsewhere)
    assert sample.returncode == 0, sample.stderr
    assert Image.open(grid).size[1] > 6 * 16  # x, f(x), g(f(x)) for each object

    # the trained f on a folder of new images, and exported, from the run folder alone
    applied = cdl("apply", tmp_path / "run", "f", folders / "horses", "-o", "out",
                  cwd=elsewhere)
    assert applied.returncode == 0, applied.stderr
    inputs = sorted(p.relative_to(folders / "horses").as_posix()
                    for p in (folders / "horses").rglob("*") if p.is_file())
    outputs = sorted(p.relative_to(elsewhere / "out").as_posix()
                     for p in (elsewhere / "out").rglob("*") if p.is_file())
    assert outputs == inputs  # one output per input, names, subfolders and formats kept
    exported = cdl("export", tmp_path / "run", "f.g", "-o", "fg.pt2", cwd=elsewhere)
    assert exported.returncode == 0, exported.stderr
    assert (elsewhere / "fg.pt2").is_file()


def test_a_gan_from_a_latent_trains(tmp_path):
    done = cdl("train", GAN, "--latent", "Latent=8", "--data", "Image=glyphs:DejaVuSans",
               "--size", "16", "--steps", "2", "--out", tmp_path / "gan", *FAST, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "upsampling generator" in done.stdout and "kid" in done.stdout
    codes = cdl("apply", tmp_path / "gan", "gen", "-n", "5", "-o", tmp_path / "drawn",
                cwd=tmp_path)
    assert codes.returncode == 0, codes.stderr
    assert len(list((tmp_path / "drawn").glob("*.png"))) == 5


def test_a_product_schema_trains(folders, tmp_path):
    """``f: A -> BxC``, ``g: BxC -> A``; data for A and B, C a one-number latent."""
    done = cdl("train", PRODUCT, "--data", f"A={folders / 'horses'}", "--data",
               f"B={folders / 'zebras'}", "--latent", "C=1", "--steps", "2",
               "--out", tmp_path / "product", *FAST, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "per-factor heads on a shared trunk" in done.stdout and "MLP critic" in done.stdout
    assert "f (B)" in done.stdout and "g.f = id(BxC)" in done.stdout
    split = cdl("apply", tmp_path / "product", "f", folders / "horses", "-o",
                tmp_path / "split", cwd=tmp_path)
    assert split.returncode == 0, split.stderr
    assert sorted(p.name for p in (tmp_path / "split").iterdir()) == ["B", "C"]  # per factor


def test_a_refusal_is_one_line_without_a_traceback(folders, tmp_path):
    done = cdl("train", CYCLEGAN, "--data", "Horse=horses", cwd=folders)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.count("\n") == 1
    assert "object Zebra has no data: give --data Zebra=SOURCE" in done.stderr


# ---------------------------------------------------------------------- in process
def test_an_object_without_samples_is_reached_through_arrows(folders, tmp_path, capsys):
    """``--space``: an autoencoder's code, no critic, only the equation trains."""
    schema = tmp_path / "ae.schema"
    schema.write_text("schema AE\nobject Image, Code\nencode : Image -> Code\n"
                      "decode : Code -> Image\nencode.decode = id(Image)\n")
    code, out, err = run(["train", schema, "--data", f"Image={folders / 'horses'}", "--space",
                          "Code=8", "--steps", "2", "--out", tmp_path / "ae", *FAST], capsys)
    assert code == 0, err
    assert "convolutional encoder" in out and "upsampling generator" in out
    assert "critic:" not in out and "encode.decode = id(Image)" in out


def test_tensor_files_of_each_kind_and_a_run_file(tmp_path, capsys, monkeypatch):
    """Samples from .npy, .pt and .safetensors files; the run written as TOML, its paths
    relative to the file, a flag on the command line winning over the file's."""
    from safetensors.torch import save_file

    g = torch.Generator().manual_seed(0)
    np.save(tmp_path / "a.npy", (torch.randn(20, 3, generator=g) - 2).numpy())
    torch.save(torch.randn(20, 3, generator=g) + 2, tmp_path / "b.pt")
    save_file({"x": torch.randn(20, 3, generator=g)}, tmp_path / "c.safetensors")
    (tmp_path / "tri.schema").write_text("schema Tri\nobject A, B, C\nf : A -> B\n"
                                         "g : B -> C\nh : A -> C\nf.g = h\n")
    (tmp_path / "run.toml").write_text(
        'schema = "tri.schema"\nsteps = 50\nbackend = "eager"\nprogress = false\n'
        'batch = 4\ntensorboard = false\nequation-weight = {"f.g = h" = 3}\n'
        'betas = [0.5, 0.9]\n[data]\nA = "a.npy"\nB = "b.pt"\nC = "c.safetensors"\n')
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    code, out, err = run(["train", tmp_path / "run.toml", "--steps", "2", "--out",
                          tmp_path / "tri"], capsys)
    assert code == 0, err
    assert "residual MLP (identity start)" in out and "MLP critic" in out
    info = json.loads((tmp_path / "tri" / "run.json").read_text())
    assert info["trainer"]["steps"] == 2 and info["trainer"]["batch_size"] == 4
    assert info["experiment"]["data"]["B"] == str(tmp_path / "b.pt")
    assert info["options"]["compile"]["equation_weight"] == {"f.g = h": 3.0}
    assert info["options"]["compile"]["betas"] == [0.5, 0.9]


def test_a_flag_per_option_reaches_the_program_and_the_trainer(folders, tmp_path, capsys):
    code, _, err = run(["train", CYCLEGAN, "--data", f"Horse={folders / 'horses'}", "--data",
                        f"Zebra={folders / 'zebras'}", "--steps", "2", "--out",
                        tmp_path / "run", "--adversarial", "hinge", "--lr", "1e-3",
                        "--fake-pool", "4", "--n-critic", "2", "--decay-from", "1",
                        "--equation-weight", "g.f=id(Zebra)=2", "--equation-weight", "7",
                        "--width", "8", "--holdout", "0.25", *FAST], capsys)
    assert code == 0, err
    info = json.loads((tmp_path / "run" / "run.json").read_text())
    assert info["options"]["compile"] == {
        "backend": "eager", "adversarial": "hinge", "equation_weight":
        {"g.f=id(Zebra)": 2.0, "*": 7.0}, "lr": 0.001, "fake_pool": 4}
    assert info["trainer"]["n_critic"] == 2 and info["trainer"]["decay_from"] == 1.0
    assert info["experiment"]["width"] == 8 and info["experiment"]["holdout"] == 0.25
    from runtime.train.run_folder import rebuild

    _, program = rebuild(info)
    weights = {loss.name: loss.weight for loss in program.plan.losses if loss.kind == "eq"}
    assert weights == {"eq:f.g = id(Horse)": 7.0, "eq:g.f = id(Zebra)": 2.0}
    assert program.fake_pool == 4 and program.optimizers[0].param_groups[0]["lr"] == 1e-3


@pytest.mark.parametrize("args, message", [
    (["--data", "Horse=H", "--latent", "Horse=4", "--data", "Zebra=Z"],
     "object Horse has both --data and --latent"),
    (["--data", "Horse=H", "--data", "Zebra=Z", "--space", "Zebra=1x8x8"],
     "object Zebra: --space Zebra=1x8x8 but its data (--data Zebra="),
    (["--data", "Horse=H", "--data", "Zebar=Z"],
     "--data Zebar=…: unknown object 'Zebar' in schema 'CycleGAN' (did you mean 'Zebra'?)"),
    (["--data", "Horse=H", "--data", "Zebra=nowhere"], "--data Zebra="),
    (["--data", "Horse=H", "--data", "Zebra"], "--data takes OBJECT=SOURCE"),
    (["--data", "Horse=H", "--latent", "Zebra=big"], "--latent Zebra=big: expected a shape"),
    (["--data", "Horse=H", "--data", "Zebra=Z", "--channels", "2"], "--channels takes 1, 3, 4"),
    (["--data", "Horse=H", "--data", "Zebra=Z", "--background", "plaid"],
     "--background plaid"),
    (["--data", "Horse=H", "--data", "Zebra=glyphs:NoSuchFont"], "unknown font"),
    (["--data", "Horse=H", "--data", "Zebra=Z", "--adversarial", "lsgn"],
     "unknown adversarial loss 'lsgn' (did you mean 'lsgan'?)"),
])
def test_bad_schema_run_inputs_are_one_clear_line(folders, args, message, capsys, tmp_path):
    args = [a.replace("=H", f"={folders / 'horses'}").replace("=Z", f"={folders / 'zebras'}")
            for a in args]
    code, _, err = run(["train", CYCLEGAN, *args, "--out", tmp_path / "run", *FAST], capsys)
    assert code == 1 and message in err and "Traceback" not in err, err
    assert err.startswith("cdl train: error: ")


def test_bad_combinations_are_refused(folders, tmp_path, capsys):
    code, _, err = run(["train", PRODUCT, "--data", "A=x", "--data", "BxC=y"], capsys)
    assert code == 1 and "BxC is a product object (B * C); its data is its factors'" in err
    code, _, err = run(["train", "gaussians", "--data", "A=x"], capsys)
    assert code == 1 and "--data give a schema file's objects their data" in err
    code, _, err = run(["train", "--resume", "--out", tmp_path, "--data", "A=x"], capsys)
    assert code == 1 and "so --data cannot change: the run's schema, data" in err
    (tmp_path / "bad.toml").write_text("schema = 'x.schema'\nstepz = 3\n")
    code, _, err = run(["train", tmp_path / "bad.toml"], capsys)
    assert code == 1 and "unknown key 'stepz' (did you mean 'steps'?)" in err
