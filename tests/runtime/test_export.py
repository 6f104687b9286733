"""`cdl export`: a path's network as a ``.pt2`` that a Python without cdl loads and runs,
and as an ``.onnx`` that onnxruntime runs — both equal to ``cdl apply``'s outputs."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnxruntime
import pytest
import torch

from runtime.apply import export as apply_export
from runtime.cli import main

EXPERIMENT = Path(__file__).with_name("tiny_paths_experiment.py")
SITE_PACKAGES = Path(torch.__file__).resolve().parents[1]

# Run with `python -I -S` in a folder of its own: no PYTHONPATH, no current folder, no .pth
# files (the editable install of cdl is one), only torch's site-packages on the path.
WITHOUT_CDL = r"""
import sys
sys.path.append(sys.argv[1])
for name in ("runtime", "compiler", "category"):
    try:
        __import__(name)
    except ModuleNotFoundError:
        continue
    raise SystemExit(f"{name} is importable here: this is not a Python without cdl")
import numpy as np
import torch

for stem, inputs in [("f", ["x"]), ("g", ["b", "c"]), ("fg", ["x"]), ("id", ["x"])]:
    module = torch.export.load(stem + ".pt2").module()
    args = [torch.from_numpy(np.load(i + ".npy")) for i in inputs]
    for n in (1, len(args[0])):  # the batch dimension is dynamic
        out = module(*(a[:n] for a in args))
        outs = out if isinstance(out, (tuple, list)) else (out,)
        for k, y in enumerate(outs):
            np.save(f"{stem}-{n}-{k}.npy", y.detach().numpy())
print("ran without cdl")
"""


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "tiny"
    assert main(["train", str(EXPERIMENT), "--steps", "2", "--out", str(out)]) == 0
    return out


def run(args, capsys):
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


def apply(tiny, path, inputs, out, capsys):
    code, _, err = run(["apply", tiny, path, *inputs, "-o", out], capsys)
    assert code == 0, err


def test_pt2_runs_without_cdl_and_equals_apply(tiny, tmp_path, capsys):
    rng = np.random.default_rng(0)
    data = {"x": rng.uniform(-1, 1, (6, 3, 8, 8)), "b": rng.uniform(-1, 1, (6, 3, 8, 8)),
            "c": rng.normal(size=(6, 2))}
    for name, a in data.items():
        np.save(tmp_path / f"{name}.npy", a.astype(np.float32))
    for stem, path in (("f", "f"), ("g", "g"), ("fg", "f.g"), ("id", "id(A)")):
        code, stdout, err = run(["export", tiny, path, "-o", tmp_path / f"{stem}.pt2"], capsys)
        assert code == 0, err
        assert "torch.export" in stdout and "dynamic" in stdout
    done = subprocess.run([sys.executable, "-I", "-S", "-c", WITHOUT_CDL, str(SITE_PACKAGES)],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "ran without cdl" in done.stdout
    apply(tiny, "f", [tmp_path / "x.npy"], tmp_path / "apply-f.npy", capsys)
    apply(tiny, "g", [tmp_path / "b.npy", tmp_path / "c.npy"], tmp_path / "apply-g.npy", capsys)
    apply(tiny, "f.g", [tmp_path / "x.npy"], tmp_path / "apply-fg.npy", capsys)
    apply(tiny, "id(A)", [tmp_path / "x.npy"], tmp_path / "apply-id.npy", capsys)
    expected = {("f", 0): "apply-f-B", ("f", 1): "apply-f-C", ("g", 0): "apply-g",
                ("fg", 0): "apply-fg", ("id", 0): "apply-id"}
    for (stem, k), name in expected.items():
        want = np.load(tmp_path / f"{name}.npy")
        for n in (1, 6):
            got = np.load(tmp_path / f"{stem}-{n}-{k}.npy")
            np.testing.assert_allclose(got, want[:n], atol=1e-5, rtol=0)
    assert not (tmp_path / "f-6-2.npy").exists() and not (tmp_path / "g-6-1.npy").exists()


def test_onnx_equals_apply_on_onnxruntime(tiny, tmp_path, capsys):
    x = np.random.default_rng(1).uniform(-1, 1, (5, 3, 8, 8)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    code, stdout, err = run(["export", tiny, "f", "-o", tmp_path / "f.onnx"], capsys)
    assert code == 0, err
    assert "ONNX" in stdout and "outputs B, C" in stdout
    session = onnxruntime.InferenceSession(str(tmp_path / "f.onnx"),
                                           providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["x"]
    assert [o.name for o in session.get_outputs()] == ["B", "C"]
    b, c = session.run(None, {"x": x})
    apply(tiny, "f", [tmp_path / "x.npy"], tmp_path / "y.npy", capsys)
    np.testing.assert_allclose(b, np.load(tmp_path / "y-B.npy"), atol=1e-5, rtol=0)
    np.testing.assert_allclose(c, np.load(tmp_path / "y-C.npy"), atol=1e-5, rtol=0)
    assert session.run(None, {"x": x[:1]})[0].shape == (1, 3, 8, 8)  # dynamic batch


def test_onnx_without_the_extra_says_how_to_install_it(tiny, tmp_path, capsys, monkeypatch):
    find = importlib.util.find_spec
    monkeypatch.setattr(apply_export.importlib.util, "find_spec",
                        lambda name, *a: None if name == "onnxscript" else find(name, *a))
    monkeypatch.chdir(tmp_path)
    code, _, err = run(["export", tiny, "f", "-o", "f.onnx"], capsys)
    assert code == 1
    assert err == ("cdl export: error: -o f.onnx: the ONNX export needs onnxscript, which is "
                   "not installed: pip install 'cdl[onnx]' (onnx, onnxscript, onnxruntime)\n")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("args, message", [
    (["h.g", "-o", "net.pt2"], "h.g does not compose: cod(h)=A but dom(g)=BxC"),
    (["h", "-o", "net.pth"], "the extension .pth names no export format (.pt2: "
                             "torch.export, .onnx: ONNX)"),
    (["h", "-o", "taken.pt2"], "-o taken.pt2 exists: pass --overwrite to replace it"),
])
def test_refusals_are_one_clear_line(tiny, tmp_path, capsys, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    Path("taken.pt2").write_bytes(b"")
    code, _, err = run(["export", tiny, *args], capsys)
    assert code == 1 and err.startswith("cdl export: error: ") and err.count("\n") == 1
    assert message in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken.pt2"]


def test_overwrite_replaces_the_file(tiny, tmp_path, capsys):
    target = tmp_path / "net.pt2"
    target.write_bytes(b"old")
    code, _, _ = run(["export", tiny, "h", "-o", target, "--overwrite"], capsys)
    assert code == 0 and target.stat().st_size > 1000
    assert torch.export.load(target).module()(torch.zeros(2, 3, 8, 8)).shape == (2, 3, 8, 8)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.pt2"]
