"""`cdl train`, `cdl sample`, `cdl eval` end to end (the fast gaussians experiment, eager)."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

from runtime.cli import main

USER_EXPERIMENT = '''
"""A user's experiment: the gaussians one, shorter."""
from runtime.experiments.gaussians import build as base
from dataclasses import replace

def build(options):
    return replace(base(options), train={"steps": 7, "batch_size": 32, "decay_from": 1.0})
'''


def run(args, capsys):
    code = main(args)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_train_then_resume_then_eval_and_sample(tmp_path, capsys):
    out = tmp_path / "run"
    code, stdout, _ = run(["train", "gaussians", "--steps", "20", "--out", str(out)], capsys)
    assert code == 0
    assert "ratio" in stdout and "identity_error" in stdout and "index.html" in stdout
    code, stdout, _ = run(["train", "--resume", "--out", str(out), "--steps", "30"], capsys)
    assert code == 0
    steps = [json.loads(x)["step"] for x in (out / "metrics.jsonl").read_text().splitlines()]
    assert max(steps) == 30 and 20 in steps
    code, stdout, _ = run(["eval", str(out)], capsys)
    assert code == 0 and "at step 30" in stdout and "ratio" in stdout
    png = tmp_path / "grid.png"
    code, stdout, _ = run(["sample", str(out), "-o", str(png)], capsys)
    assert code == 0 and Image.open(png).size[0] > 100


def test_default_experiment_runs_a_few_steps(tmp_path, capsys):
    """`cdl train` with no experiment: the fonts CycleGAN (eager here: CI compiles once
    elsewhere), its evaluation table against the identity baseline and its grids."""
    out = tmp_path / "fonts"
    code, stdout, _ = run(["train", "--steps", "3", "--out", str(out), "--backend", "eager"],
                          capsys)
    assert code == 0
    assert "identity_mae" in stdout and "×" in stdout and "cycle" in stdout
    grid = Image.open(out / "samples" / "step-00000003" / "Sans.png")
    assert grid.size[0] > 8 * 32  # 8 held-out glyphs per row


def test_user_experiment_file(tmp_path, capsys):
    f = tmp_path / "mine.py"
    f.write_text(USER_EXPERIMENT)
    out = tmp_path / "run"
    code, stdout, _ = run(["train", str(f), "--out", str(out)], capsys)
    assert code == 0
    info = json.loads((out / "run.json").read_text())
    assert info["experiment"] == str(f.resolve()) and info["trainer"]["steps"] == 7


def test_list_names_the_default(capsys):
    code, stdout, _ = run(["train", "--list"], capsys)
    assert code == 0 and "cyclegan_fonts (default)" in stdout and "gaussians" in stdout


@pytest.mark.parametrize("args, message", [
    (["train", "nope"], "unknown experiment 'nope'; built-in: cyclegan_fonts, "),
    (["train", "--resume"], "--resume needs --out RUN"),
    (["eval", "/nonexistent/run"], "not a run folder"),
    (["train", "gaussians", "--max-restarts", "1"], "--max-restarts 1 needs --nproc N"),
])
def test_bad_input_is_one_clear_line(args, message, capsys):
    code, _, err = run(args, capsys)
    assert code == 1 and message in err and "Traceback" not in err


@pytest.mark.parametrize("steps", ["0", "-2", "ten"])
def test_steps_must_be_positive(steps, capsys):
    with pytest.raises(SystemExit) as e:
        main(["train", "--steps", steps])
    assert e.value.code == 2
    assert "--steps" in capsys.readouterr().err


@pytest.mark.parametrize("flag, value", [("--max-restarts", "-1"), ("--max-restarts", "one"),
                                         ("--dist-timeout", "0"), ("--dist-timeout", "nan"),
                                         ("--nproc", "0")])
def test_data_parallel_options_are_checked(flag, value, capsys):
    with pytest.raises(SystemExit) as e:
        main(["train", "gaussians", "--nproc", "2", flag, value])
    assert e.value.code == 2
    assert flag in capsys.readouterr().err


def test_non_empty_out_without_resume_is_refused(tmp_path, capsys):
    (tmp_path / "keep.txt").write_text("x")
    code, _, err = run(["train", "gaussians", "--out", str(tmp_path)], capsys)
    assert code == 1 and "not empty: pass --resume" in err
    assert (tmp_path / "keep.txt").read_text() == "x"


def test_resume_on_a_folder_without_checkpoint(tmp_path, capsys):
    out = tmp_path / "run"
    assert run(["train", "gaussians", "--steps", "5", "--out", str(out)], capsys)[0] == 0
    for p in (out / "checkpoints").iterdir():
        if p.is_dir():
            for f in p.iterdir():
                f.unlink()
            p.rmdir()
        else:
            p.unlink()
    code, _, err = run(["train", "--resume", "--out", str(out), "--steps", "9"], capsys)
    assert code == 1 and "no checkpoint to resume from" in err


def test_sigterm_saves_and_says_how_to_resume(tmp_path):
    out = tmp_path / "run"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])}
    proc = subprocess.Popen([sys.executable, "-m", "runtime", "train", "gaussians",
                             "--steps", "1000000", "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    metrics = out / "metrics.jsonl"
    deadline = time.monotonic() + 120
    while not (metrics.is_file() and metrics.read_text().count("\n") >= 2):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "no progress within 120 s"
        time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 128 + signal.SIGTERM
    assert "SIGTERM: stopped at step" in err and "cdl train --resume --out" in err
    assert "Traceback" not in err
    assert (out / "checkpoints" / "latest").is_file()


# ---------------------------------------------------------------------- issue 19
@pytest.mark.parametrize("args, message", [
    (["train", "gaussians", "--checkpoint", "step-5"],
     "--checkpoint step-5 picks the checkpoint a resumed run continues from: add --resume"),
    (["train", "--resume", "--out", "R", "--seed", "3"],
     "--resume continues the run as it was trained, so --seed cannot change"),
    (["train", "--resume", "--out", "R", "--equation-weight", "0"],
     "so --equation-weight cannot change"),
    (["train", "gaussians", "--device", "tpu"], "device 'tpu' is not a device torch knows"),
    (["train", "gaussians", "--device", "cuda:0"], "available here: cpu"),
    (["eval", "R", "--device", "tpu"], "device 'tpu' is not a device torch knows"),
    (["train", "gaussians", "--nproc", "3", "--batch", "16"],
     "--nproc 3 does not divide the global batch 16"),
    (["sample", "R", "-o", "grid.txt"], "the extension .txt names no format"),
])
def test_contradicting_flags_are_one_clear_line(args, message, capsys, tmp_path):
    args = [str(tmp_path / "R") if a == "R" else a for a in args]
    if "--resume" in args or args[0] in ("eval", "sample"):
        assert run(["train", "gaussians", "--steps", "2", "--out", str(tmp_path / "R")],
                   capsys)[0] == 0
    code, _, err = run(args, capsys)
    assert code == 1 and message in err and "Traceback" not in err, err
    if "--nproc" in args:
        assert "worker" not in err  # refused by the launcher, before any worker started


def test_resume_honours_device_and_backend(tmp_path, capsys):
    out = tmp_path / "run"
    assert run(["train", "gaussians", "--steps", "4", "--out", str(out)], capsys)[0] == 0
    code, _, err = run(["train", "--resume", "--out", str(out), "--steps", "6", "--device",
                        "cpu", "--backend", "eager"], capsys)
    assert code == 0, err
    from runtime.train import Trainer

    t = Trainer.resume(out, steps=8, backend="inductor", progress=False)
    assert t.program.backend == "inductor" and t.step == 0  # restored when fit starts


@pytest.mark.parametrize("suffix, magic", [(".png", b"\x89PNG"), (".jpg", b"\xff\xd8"),
                                           (".webp", b"RIFF"), (".pdf", b"%PDF")])
def test_sample_writes_the_format_its_extension_names(tmp_path, capsys, suffix, magic):
    out = tmp_path / "run"
    if not out.exists():
        assert run(["train", "gaussians", "--steps", "2", "--out", str(out)], capsys)[0] == 0
    target = tmp_path / f"grid{suffix}"
    code, stdout, err = run(["sample", str(out), "-o", str(target)], capsys)
    assert code == 0, err
    written = [Path(w.split(" (step")[0].removeprefix("wrote ")) for w in stdout.splitlines()]
    assert written and all(w.read_bytes().startswith(magic) for w in written)


def test_sample_into_a_folder_names_the_folder(tmp_path, capsys):
    out = tmp_path / "run"
    assert run(["train", "gaussians", "--steps", "2", "--out", str(out)], capsys)[0] == 0
    code, _, err = run(["sample", str(out), "-o", str(tmp_path)], capsys)
    assert code == 1 and f"{tmp_path} is a folder: give a file name" in err
    assert ".tmp" not in err


def test_a_second_ctrl_c_after_the_save_is_quiet(tmp_path):
    """SIGINT stops the run and saves; a second SIGINT while the process winds down exits
    at once, never with a traceback from an exit callback (repeated at several delays)."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])}
    for attempt in range(3):
        out = tmp_path / f"run{attempt}"
        proc = subprocess.Popen([sys.executable, "-m", "runtime", "train", "gaussians",
                                 "--steps", "1000000", "--out", str(out)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=env)
        metrics = out / "metrics.jsonl"
        deadline = time.monotonic() + 120
        while not (metrics.is_file() and metrics.read_text().count("\n") >= 2):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "no progress within 120 s"
            time.sleep(0.1)
        proc.send_signal(signal.SIGINT)
        while not (out / "checkpoints" / "latest").is_file() and proc.poll() is None:
            time.sleep(0.005)
        time.sleep(0.05 * attempt)
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=120)
        # 130 from cdl, or the signal's default action in the interpreter's last moments
        # (after it restores default handlers): both are what a shell reports as 130
        assert proc.returncode in (130, -signal.SIGINT), err
        assert "SIGINT: stopped at step" in err and "Traceback" not in err, err
