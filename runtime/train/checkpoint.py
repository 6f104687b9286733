"""Checkpoints: written atomically, verified on load, rotated.

A checkpoint is a folder ``RUN/checkpoints/step-00000020/`` holding

- ``weights.safetensors`` — every network's ``state_dict``, keyed ``arrow/<name>/<param>``
  and ``critic/<object>/<param>`` (readable by any safetensors tool), and for a run that
  keeps one the arrows' moving average, ``average/arrow/<name>/<param>``
  (:mod:`~runtime.train.average`);
- ``state.pt`` — optimizers, schedulers, RNG states, data position, the program's own
  state (the fake pool): everything an exact resume needs besides the weights
  (``torch.load(weights_only=True)``-safe);
- ``meta.json`` — the step, the *fingerprint* of what was trained (schema, spaces,
  networks' parameter shapes), and the SHA-256 of the two files.

Writing: the files go into a hidden temporary folder, each flushed and fsynced, the
folder is renamed into place, then the ``latest`` pointer is replaced atomically (temp
file + fsync + rename) — so a crash at any moment leaves the previous checkpoint and
``latest`` intact. Rotation (``keep_last``) renames an old checkpoint aside before
deleting it, so a crash never leaves a half-deleted ``step-*`` folder; and a folder whose
files do not stand as its ``meta.json`` records them is never listed. A failed write
(a full disk) removes its own temporary folder and names the checkpoint that stands;
stale temporaries of a dead writer are removed when the run folder is next claimed
(:mod:`runtime.run_folder`), never by a save. Loading checks the hashes, so a truncated
or corrupt file is refused with its name, and the fingerprint, so a checkpoint of another
schema or network shape is refused with what differs.

>>> import tempfile, torch
>>> run = Path(tempfile.mkdtemp())
>>> w = {"arrow/f/weight": torch.ones(2, 2)}
>>> _ = save_checkpoint(run, 5, w, {"step": 5}, {"schema": "s"})
>>> ck = load_checkpoint(run)
>>> ck.step, ck.weights["arrow/f/weight"].sum().item()
(5, 4.0)
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors.torch import load as load_safetensors
from safetensors.torch import save as save_safetensors

from category.files import write_atomic

from ..errors import CheckpointError

WEIGHTS, STATE, META, LATEST = "weights.safetensors", "state.pt", "meta.json", "latest"
FORMAT = 1


@dataclass(frozen=True)
class Checkpoint:
    """A loaded checkpoint: its folder, step, weights, state and fingerprint."""

    path: Path
    step: int
    weights: dict[str, torch.Tensor]
    state: dict
    fingerprint: dict


def folder(run: Path) -> Path:
    return Path(run) / "checkpoints"


def step_name(step: int) -> str:
    return f"step-{step:08d}"


def list_checkpoints(run: Path) -> list[Path]:
    """The complete checkpoint folders of a run, oldest first.

    Temporary folders are excluded, and so is any ``step-*`` folder whose files do not all
    stand as its ``meta.json`` records them (a folder half-deleted by a crash, from a cdl
    older than atomic rotation): such a folder can never be chosen to resume from.
    """
    root = folder(run)
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir()
                  if p.is_dir() and p.name.startswith("step-") and _complete(p))


def latest(run: Path) -> Path | None:
    """The checkpoint ``latest`` points to (``None`` if there is none)."""
    pointer = folder(run) / LATEST
    if not pointer.is_file():
        return None
    name = pointer.read_text().strip()
    return folder(run) / name if name else None


def save_checkpoint(run: Path, step: int, weights: dict[str, torch.Tensor], state: dict,
                    fingerprint: dict, keep_last: int | None = None) -> Path:
    """Write a checkpoint atomically, point ``latest`` at it, keep the newest ``keep_last``.

    Stages: encode; write the files into this call's own hidden temporary folder; rename it
    into place; move ``latest``; rotate. A failure while writing (a full disk) removes this
    call's temporary folder and raises :class:`CheckpointError` naming the checkpoint;
    ``latest`` and every earlier checkpoint stand as they were.
    """
    root = folder(run)
    final = root / step_name(step)
    blobs = _encode(step, weights, state, fingerprint)
    try:
        root.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{final.name}-", dir=root))
    except OSError as e:
        raise _unwritten(final, run, e) from None
    try:
        for name, data in blobs.items():
            _write_synced(tmp / name, data)
        _fsync_dir(tmp)
    except OSError as e:
        shutil.rmtree(tmp, ignore_errors=True)
        raise _unwritten(final, run, e) from None
    replaced = _set_aside(final, root) if final.exists() else None  # saved again (resume)
    os.replace(tmp, final)
    _fsync_dir(root)
    if replaced is not None:
        shutil.rmtree(replaced, ignore_errors=True)
    try:
        _replace_text(root / LATEST, final.name)
    except OSError as e:
        raise _unwritten(root / LATEST, run, e) from None
    if keep_last is not None:
        for old in list_checkpoints(run)[:-keep_last]:
            if old != final:
                shutil.rmtree(_set_aside(old, root), ignore_errors=True)
    return final


def _encode(step: int, weights: dict[str, torch.Tensor], state: dict,
            fingerprint: dict) -> dict[str, bytes]:
    """The three files' bytes; ``meta.json`` records the others' SHA-256 and sizes."""
    blobs = {WEIGHTS: save_safetensors({k: v.detach().contiguous().cpu()
                                        for k, v in weights.items()}),
             STATE: _torch_bytes(state)}
    meta = {"format": FORMAT, "step": step, "fingerprint": fingerprint,
            "sha256": {name: hashlib.sha256(b).hexdigest() for name, b in blobs.items()},
            "bytes": {name: len(b) for name, b in blobs.items()}}
    blobs[META] = json.dumps(meta, indent=1, sort_keys=True).encode()
    return blobs


def _set_aside(path: Path, root: Path) -> Path:
    """Rename a checkpoint folder (atomically) to a hidden temporary name, to delete it
    from there: a crash while deleting never leaves a half-deleted ``step-*`` folder, only
    a temporary, which the next claim of the run folder removes."""
    aside = tempfile.mkdtemp(prefix=f".tmp-old-{path.name}-", dir=root)
    os.replace(path, aside)  # onto the fresh empty folder: POSIX rename allows it
    _fsync_dir(root)
    return Path(aside)


def _unwritten(final: Path, run: Path, e: OSError) -> CheckpointError:
    good = latest(run)
    stands = (f"the last good checkpoint {good.name} stands" if good else
              "no earlier checkpoint exists")
    return CheckpointError(f"checkpoint {final} could not be written: {e.strerror or e} "
                           f"({e.filename or final}); {stands}. Free some disk space, then "
                           f"resume with cdl train --resume --out {run}")


def load_checkpoint(run: Path, which: str | Path | None = None) -> Checkpoint:
    """The checkpoint ``which`` (a folder, or its name) or the latest one, verified."""
    run = Path(run)
    path = _latest_or_last(run) if which is None else _named(run, which)
    meta = _read_meta(path, run)
    blobs = {}
    for name in (WEIGHTS, STATE):
        try:
            blobs[name] = (path / name).read_bytes()
        except OSError as e:
            raise _corrupt(path, run, f"{name} cannot be read ({e.strerror})") from None
        if hashlib.sha256(blobs[name]).hexdigest() != meta["sha256"].get(name):
            raise _corrupt(path, run, f"{name} does not match its recorded SHA-256 "
                                      f"(truncated or modified)")
    try:
        weights = load_safetensors(blobs[WEIGHTS])
        state = torch.load(io.BytesIO(blobs[STATE]), weights_only=True)
    except Exception as e:  # noqa: BLE001 - any decoding failure is a corrupt file
        raise _corrupt(path, run, f"cannot be decoded: {e}") from None
    return Checkpoint(path, int(meta["step"]), weights, state, meta["fingerprint"])


def _latest_or_last(run: Path) -> Path:
    """What ``latest`` names, checked; else the newest complete checkpoint."""
    pointer = folder(run) / LATEST
    path = latest(run)
    if path is None and pointer.is_file():
        raise CheckpointError(f"{pointer} is empty: it should name the newest checkpoint "
                              f"(there are: {_names(run) or 'none'}); pick one with "
                              f"--checkpoint NAME")
    if path is None:
        found = list_checkpoints(run)
        if not found:
            raise CheckpointError(f"{run}: no checkpoint to resume from (no "
                                  f"{folder(run)}/{LATEST}); start a new run instead, "
                                  f"without --resume")
        return found[-1]
    if not path.is_dir():
        raise CheckpointError(f"{pointer} names {path.name}, which does not exist (there "
                              f"are: {_names(run) or 'none'}); pick one with --checkpoint NAME")
    return path  # its files are verified as it loads, with a message naming the bad one


def _named(run: Path, which: str | Path) -> Path:
    """The checkpoint the user named (a folder or a name); verified as it loads."""
    path = Path(which) if Path(which).is_dir() else folder(run) / str(which)
    if not path.is_dir():
        raise CheckpointError(f"{path}: no such checkpoint; there are: "
                              f"{_names(run) or 'none'}")
    return path


def _complete(path: Path) -> bool:
    """Whether the checkpoint's files all stand as its ``meta.json`` records them: present,
    and of the recorded size where it is recorded (their hashes are checked on load)."""
    try:
        meta = json.loads((path / META).read_text())
        recorded = set(meta["sha256"])
        sizes = meta.get("bytes", {})
        if not recorded >= {WEIGHTS, STATE}:
            return False
        for name in recorded:
            size = (path / name).stat().st_size  # raises if the file is gone
            if name in sizes and size != sizes[name]:
                return False
        return True
    except (OSError, ValueError, KeyError, TypeError):
        return False


def fingerprint_diff(saved: dict, now: dict) -> list[str]:
    """What differs between two fingerprints, one line per difference."""
    out: list[str] = []
    for key in sorted(set(saved) | set(now)):
        a, b = saved.get(key), now.get(key)
        if a == b:
            continue
        if isinstance(a, dict) and isinstance(b, dict):
            out += [f"{key}: {line}" for line in fingerprint_diff(a, b)]
        elif a is None:
            out.append(f"{key}: not in the checkpoint, now {_short(b)}")
        elif b is None:
            out.append(f"{key}: in the checkpoint ({_short(a)}), absent now")
        else:
            out.append(f"{key}: checkpoint has {_short(a)}, now {_short(b)}")
    return out


# ---------------------------------------------------------------------- internals
def _short(v: object) -> str:
    text = json.dumps(v) if not isinstance(v, str) else repr(v)
    return text if len(text) <= 120 else text[:117] + "..."


def _names(run: Path) -> str:
    return ", ".join(p.name for p in list_checkpoints(run))


def _corrupt(path: Path, run: Path, why: str) -> CheckpointError:
    others = [p.name for p in list_checkpoints(run) if p != path]
    hint = (f"; an earlier checkpoint may still load: Trainer.resume(run, checkpoint="
            f"{others[-1]!r}) or cdl train --resume --checkpoint {others[-1]}") if others else ""
    return CheckpointError(f"checkpoint {path} is corrupt: {why}{hint}")


def _read_meta(path: Path, run: Path) -> dict:
    try:
        meta = json.loads((path / META).read_text())
    except (OSError, ValueError) as e:
        raise _corrupt(path, run, f"{META} unreadable ({e})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT or "sha256" not in meta:
        raise _corrupt(path, run, f"{META} is not a cdl checkpoint of format {FORMAT}")
    return meta


def _torch_bytes(obj: object) -> bytes:
    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()


def _write_synced(path: Path, data: bytes) -> None:
    with open(path, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _replace_text(path: Path, text: str) -> None:
    write_atomic(path, text.encode())
    _fsync_dir(path.parent)  # the rename itself reaches the disk
