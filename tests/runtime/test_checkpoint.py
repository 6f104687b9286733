import json

import pytest
import torch

import runtime.train.checkpoint as ckpt
from runtime.errors import CheckpointError
from runtime.train.checkpoint import (
    fingerprint_diff,
    latest,
    list_checkpoints,
    load_checkpoint,
    save_checkpoint,
)

W = {"arrow/f/weight": torch.arange(6.0).reshape(2, 3)}
STATE = {"step": 1, "rng": torch.get_rng_state(), "nested": {"lr": 0.1, "t": [1, 2]}}


def save(run, step, value=1.0, **kw):
    return save_checkpoint(run, step, {k: v * value for k, v in W.items()}, STATE,
                           {"schema": "s"}, **kw)


def test_round_trip_of_weights_and_state(tmp_path):
    save(tmp_path, 3)
    ck = load_checkpoint(tmp_path)
    assert ck.step == 3 and ck.path.name == "step-00000003"
    assert torch.equal(ck.weights["arrow/f/weight"], W["arrow/f/weight"])
    assert torch.equal(ck.state["rng"], STATE["rng"]) and ck.state["nested"]["t"] == [1, 2]
    assert ck.fingerprint == {"schema": "s"}


def test_latest_points_at_the_newest_and_keep_last_rotates(tmp_path):
    for step in (1, 2, 3, 4):
        save(tmp_path, step, keep_last=2)
    assert [p.name for p in list_checkpoints(tmp_path)] == ["step-00000003", "step-00000004"]
    assert latest(tmp_path).name == "step-00000004"
    assert load_checkpoint(tmp_path, "step-00000003").step == 3


def test_saving_the_same_step_again_replaces_it(tmp_path):
    save(tmp_path, 2, value=1.0)
    save(tmp_path, 2, value=2.0)
    assert load_checkpoint(tmp_path).weights["arrow/f/weight"][0, 1] == 2.0
    assert [p.name for p in (tmp_path / "checkpoints").iterdir()].count("step-00000002") == 1


def test_a_crash_mid_write_leaves_the_previous_checkpoint(tmp_path, monkeypatch):
    save(tmp_path, 1)
    real = ckpt._write_synced
    written = []

    def crash_on_state(path, data):
        written.append(path.name)
        if path.name == "state.pt":
            real(path, data[: len(data) // 2])  # half a file, then the process dies
            raise OSError("simulated power loss")
        real(path, data)

    monkeypatch.setattr(ckpt, "_write_synced", crash_on_state)
    with pytest.raises(CheckpointError) as e:
        save(tmp_path, 2)
    # names the checkpoint that failed, why, and the one that stands
    assert "step-00000002 could not be written: simulated power loss" in str(e.value)
    assert "step-00000001 stands" in str(e.value)
    monkeypatch.setattr(ckpt, "_write_synced", real)
    assert written[:2] == ["weights.safetensors", "state.pt"]
    assert latest(tmp_path).name == "step-00000001"
    assert [p.name for p in list_checkpoints(tmp_path)] == ["step-00000001"]
    assert load_checkpoint(tmp_path).step == 1
    assert not list((tmp_path / "checkpoints").glob(".tmp-*"))  # its own temporary removed


@pytest.mark.parametrize("damage", ["truncate", "flip", "delete"])
def test_a_corrupt_checkpoint_is_refused_and_the_previous_still_loads(tmp_path, damage):
    save(tmp_path, 1)
    path = save(tmp_path, 2)
    target = path / "weights.safetensors"
    data = target.read_bytes()
    if damage == "truncate":
        target.write_bytes(data[: len(data) // 3])
    elif damage == "flip":
        target.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))
    else:
        target.unlink()
    with pytest.raises(CheckpointError) as e:
        load_checkpoint(tmp_path)
    assert "step-00000002 is corrupt" in str(e.value) and "weights.safetensors" in str(e.value)
    assert "step-00000001" in str(e.value)  # says which one may still load
    assert load_checkpoint(tmp_path, "step-00000001").step == 1


def test_a_foreign_meta_file_is_refused(tmp_path):
    path = save(tmp_path, 1)
    (path / "meta.json").write_text(json.dumps({"step": 1}))
    with pytest.raises(CheckpointError, match="not a cdl checkpoint"):
        load_checkpoint(tmp_path)


def test_no_checkpoint_and_unknown_names(tmp_path):
    with pytest.raises(CheckpointError, match="no checkpoint to resume from"):
        load_checkpoint(tmp_path)
    save(tmp_path, 1)
    with pytest.raises(CheckpointError, match="there are: step-00000001"):
        load_checkpoint(tmp_path, "step-00000009")


def test_fingerprint_diff_says_what_differs():
    a = {"schema": "s", "networks": {"arrow/f": {"shapes": {"w": [8, 2]}}}}
    b = {"schema": "t", "networks": {"arrow/f": {"shapes": {"w": [16, 2]}}, "arrow/h": {}}}
    lines = fingerprint_diff(a, b)
    assert "schema: checkpoint has 's', now 't'" in lines
    assert "networks: arrow/f: shapes: w: checkpoint has [8, 2], now [16, 2]" in lines
    assert "networks: arrow/h: not in the checkpoint, now {}" in lines
    assert fingerprint_diff(a, a) == []


@pytest.mark.parametrize("left", [["meta.json"], ["state.pt", "meta.json"], ["weights.safetensors"],
                                  []])
def test_a_half_deleted_checkpoint_is_never_listed(tmp_path, left):
    """What a kill -9 in the middle of deleting a folder leaves (any subset of its files):
    never listed, never offered as the one that may still load, never counted by rotation."""
    first = save(tmp_path, 1)
    save(tmp_path, 2)
    for f in first.iterdir():
        if f.name not in left:
            f.unlink()
    assert [p.name for p in list_checkpoints(tmp_path)] == ["step-00000002"]
    (tmp_path / "checkpoints" / "step-00000002" / "state.pt").write_bytes(b"torn")
    with pytest.raises(CheckpointError) as e:
        load_checkpoint(tmp_path)
    assert "step-00000001" not in str(e.value)  # not offered as a fallback
    if left:
        with pytest.raises(CheckpointError, match="step-00000001"):
            load_checkpoint(tmp_path, "step-00000001")


def test_a_save_leaves_other_writers_temporaries_alone(tmp_path):
    save(tmp_path, 1)
    other = tmp_path / "checkpoints" / ".tmp-step-00000007-inprogress"
    other.mkdir()
    (other / "weights.safetensors").write_bytes(b"half")
    save(tmp_path, 2, keep_last=1)
    assert other.is_dir()  # only the claim of the run folder removes stale temporaries


def test_an_emptied_latest_pointer_is_named(tmp_path):
    save(tmp_path, 1)
    (tmp_path / "checkpoints" / "latest").write_text("")
    with pytest.raises(CheckpointError, match=r"latest is empty.*step-00000001"):
        load_checkpoint(tmp_path)
    (tmp_path / "checkpoints" / "latest").write_text("step-00000005\n")
    with pytest.raises(CheckpointError, match=r"latest names step-00000005, which does not"):
        load_checkpoint(tmp_path)


ROTATE = """
import sys, torch
from runtime.train.checkpoint import save_checkpoint
run = sys.argv[1]
w = {f"arrow/f/w{i}": torch.randn(64, 64) for i in range(64)}
for step in range(1, 10_000):
    save_checkpoint(run, step, w, {"step": step}, {"schema": "s"}, keep_last=1)
    print(step, flush=True)
"""


def test_kill_9_at_random_moments_of_rotation_leaves_only_loadable_checkpoints(tmp_path):
    """A writer saving with ``keep_last=1`` (a rotation per save) is killed with SIGKILL
    at random moments; every listed checkpoint, and the latest, must then load."""
    import random
    import signal
    import subprocess
    import sys
    import time

    rng = random.Random(0)
    for attempt in range(6):
        run = tmp_path / f"run{attempt}"
        proc = subprocess.Popen([sys.executable, "-c", ROTATE, str(run)],
                                stdout=subprocess.PIPE, text=True)
        for _ in range(2 + attempt):  # a few saves in, then at a random moment
            proc.stdout.readline()
        time.sleep(rng.uniform(0, 0.05))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        listed = list_checkpoints(run)
        assert listed, "the first saves completed"
        for path in listed:
            assert load_checkpoint(run, path.name).step == int(path.name[5:])
        assert load_checkpoint(run).path in listed


DISK_FULL = """
import resource, signal, sys, torch
from runtime.train.checkpoint import save_checkpoint
from runtime.errors import CheckpointError
run = sys.argv[1]
save_checkpoint(run, 1, {"arrow/f/w": torch.ones(4)}, {"step": 1}, {"schema": "s"})
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG
resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))
try:
    save_checkpoint(run, 2, {"arrow/f/w": torch.ones(100_000)}, {"step": 2}, {"schema": "s"})
except CheckpointError as e:
    print(e)
"""


def test_a_full_disk_names_the_checkpoint_and_the_one_that_stands(tmp_path):
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", DISK_FULL, str(tmp_path)], text=True,
                         capture_output=True, check=True).stdout
    assert "step-00000002 could not be written: File too large" in out
    assert "the last good checkpoint step-00000001 stands" in out
    assert load_checkpoint(tmp_path).step == 1
    assert not list((tmp_path / "checkpoints").glob(".tmp-*"))
