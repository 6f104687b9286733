import json

import pytest
import torch

import runtime.checkpoint as ckpt
from runtime.checkpoint import (
    fingerprint_diff,
    latest,
    list_checkpoints,
    load_checkpoint,
    save_checkpoint,
)
from runtime.errors import CheckpointError

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
    with pytest.raises(OSError, match="simulated"):
        save(tmp_path, 2)
    monkeypatch.setattr(ckpt, "_write_synced", real)
    assert written[:2] == ["weights.safetensors", "state.pt"]
    assert latest(tmp_path).name == "step-00000001"
    assert [p.name for p in list_checkpoints(tmp_path)] == ["step-00000001"]
    assert load_checkpoint(tmp_path).step == 1
    save(tmp_path, 3)  # the next save cleans the half-written temporary folder
    assert not list((tmp_path / "checkpoints").glob(".tmp-*"))


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
