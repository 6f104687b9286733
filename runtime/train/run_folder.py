"""The run folder: made, claimed, found, opened and rebuilt — what ``cdl train``,
``--resume``, ``eval`` and ``sample`` share.

A run folder made by ``cdl train`` records in ``run.json`` which experiment it trained
(a built-in's name, a ``.py`` file's path, or a schema file run's record: the schema's
text, its data as absolute paths, its latents and spaces), with which seed, device and
compile options (and, for a warm start, which networks were put in place of the
experiment's): :func:`rebuild` builds that experiment and program again, and
:func:`open_run` loads a checkpoint's weights into it — from any working directory.

One process writes a run folder at a time. The writer *claims* it: it holds an exclusive
``flock`` on ``RUN/.lock`` for as long as it trains. The lock is the kernel's, so it is
released the moment its process ends, however it ends (kill -9 included): a lock file left
behind by a dead run never blocks anybody, and a live one always does. Two ``cdl train
--out SAME`` started together therefore meet at the lock: one trains, the other is refused
with the holder's pid — checking "is the folder empty?" alone is a race both can win.

Holding the lock also makes the folder's temporaries the holder's to clean: a hidden
``.tmp-*`` folder found under ``checkpoints/`` by the lock holder was left by a writer that
died mid-write (never by a live one), and is removed when the folder is claimed.

A fresh run refuses a non-empty folder — cdl never overwrites a run — with one exception:
a folder that a run *abandoned* before its first checkpoint (only the files a run writes,
no complete checkpoint, nobody holding the lock) cannot be resumed, so a fresh run takes it
over and says so.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path

import torch

from compiler import Program, init_arrow

from ..errors import RunFolderError
from ..experiments import Experiment, prepare
from ..experiments.runner import compile_experiment
from .average import load_average
from .checkpoint import Checkpoint, list_checkpoints, load_checkpoint
from .checkpoint import folder as checkpoint_folder
from .compiled import ARCHIVE
from .networks import arrow_modules, restore_weights

__all__ = ["LOCK", "RunClaim", "claim", "fresh_out", "occupied", "open_run", "read_run_info",
           "rebuild"]

LOCK = ".lock"
# Everything a run writes into its folder; a folder holding only these (and no complete
# checkpoint) is a run's leftover, which a fresh run may take over.
RUN_FILES = frozenset({"run.json", "metrics.jsonl", "schema.png", "curves.png", "index.html",
                       "samples", "tensorboard", "checkpoints", ARCHIVE, LOCK})


def occupied(path: Path) -> bool:
    """Whether a new run may not use ``path``: it exists and is a file or a non-empty folder
    (a lone lock file left by a finished claim does not count)."""
    path = Path(path)
    if not path.exists():
        return False
    return not path.is_dir() or any(p.name != LOCK for p in path.iterdir())


def fresh_out(name: str, root: Path = Path("runs")) -> Path:
    """``runs/NAME``, or ``runs/NAME-2``, … : a new run never lands in an old one (the
    default run folder of ``cdl train``)."""
    base = Path(root) / name
    out, k = base, 1
    while occupied(out):
        k += 1
        out = base.with_name(f"{base.name}-{k}")
    return out


def read_run_info(run: str | Path) -> dict:
    """``RUN/run.json``, checked to be what a trainer writes (a JSON object)."""
    path = Path(run) / "run.json"
    try:
        info = json.loads(path.read_text())
    except FileNotFoundError:
        raise RunFolderError(f"{run} is not a run folder (no run.json): nothing to resume, "
                             f"sample or evaluate") from None
    except (OSError, ValueError) as e:
        raise RunFolderError(f"{path} is not readable JSON ({e})") from None
    if not isinstance(info, dict):
        raise RunFolderError(f"{path} holds a JSON {type(info).__name__}, not the object a "
                             f"cdl trainer writes (experiment, options, trainer settings): "
                             f"the file was damaged or is not cdl's")
    return info


class RunClaim:
    """The exclusive right to write a run folder: an open, ``flock``-ed ``RUN/.lock``.

    Released by :meth:`release` (or leaving the ``with`` block), and by the kernel when the
    process ends.
    """

    def __init__(self, out: Path, fd: int):
        self.out, self._fd = out, fd

    @property
    def held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> RunClaim:
        return self

    def __exit__(self, *exc) -> bool:
        self.release()
        return False


def claim(out: str | Path, resume: bool = False) -> RunClaim:
    """Claim ``out`` for writing: for a resumed run, the run folder it is; for a fresh run,
    a missing or empty folder (or a run's leftover without a checkpoint, taken over).

    Raises :class:`RunFolderError` when another live process holds the folder, when a fresh
    run's folder is not empty, or when a resumed one is not a run folder.
    """
    out = Path(out)
    if resume and not (out / "run.json").is_file():
        raise RunFolderError(f"--resume: {out} is not a run folder (no run.json); start a "
                             f"new run without --resume")
    if out.exists() and not out.is_dir():
        raise RunFolderError(f"{out} is a file, not a run folder: choose another --out")
    out.mkdir(parents=True, exist_ok=True)
    fd = _lock(out)
    try:
        if not resume:
            _take_empty(out)
        _remove_stale_temporaries(out)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
    except BaseException:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
        raise
    return RunClaim(out, fd)


def _lock(out: Path) -> int:
    """``out/.lock`` opened and locked, or the error naming the process that holds it."""
    try:
        fd = os.open(out / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as e:
        raise RunFolderError(f"cannot claim run folder {out}: {e.strerror}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.read(fd, 32).decode(errors="replace").strip() or "?"
        os.close(fd)
        raise RunFolderError(f"{out} is being written by another process (pid {holder}): "
                             f"two runs cannot share a folder; wait for it to end, or choose "
                             f"another --out") from None
    return fd


def _take_empty(out: Path) -> None:
    """A fresh run's folder: empty, or a run's leftover without a checkpoint (removed)."""
    entries = [p for p in out.iterdir() if p.name != LOCK]
    if not entries:
        return
    names = {p.name for p in entries}
    if "run.json" in names and names <= RUN_FILES and not list_checkpoints(out):
        for p in entries:
            shutil.rmtree(p) if p.is_dir() and not p.is_symlink() else p.unlink()
        print(f"cdl: note: {out} held a run that stopped before its first checkpoint "
              f"(nothing to resume); this run takes the folder over", file=sys.stderr)
        return
    raise RunFolderError(f"{out} exists and is not empty: pass --resume to continue that run, "
                         f"or choose another --out (cdl never overwrites a run)")


def _remove_stale_temporaries(out: Path) -> None:
    """Under the claim, every hidden temporary of ``checkpoints/`` is a dead writer's."""
    root = checkpoint_folder(out)
    if root.is_dir():
        for stale in root.glob(".tmp-*"):
            shutil.rmtree(stale, ignore_errors=True) if stale.is_dir() else stale.unlink()


def rebuild(info: Mapping, device: str | torch.device | None = None, hint: str = "",
            backend: str | None = None) -> tuple[Experiment, Program]:
    """The experiment and compiled program a run folder's ``run.json`` records (``info``),
    built again with the recorded seed, device (unless ``device``) and compile options
    (the backend replaced by ``backend``: it changes how, not what, is computed)."""
    if not info.get("experiment"):
        raise RunFolderError(f"this run was trained from a Program built in Python, not an "
                             f"experiment{': ' + hint if hint else ''}")
    options = info.get("options", {})
    compile_options = {**options.get("compile", {}),
                       **({"backend": backend} if backend is not None else {})}
    device = device or options.get("device")
    exp, program = prepare(info["experiment"], device=device, seed=options.get("seed", 0),
                           **compile_options)
    if _warm_networks(exp, info.get("warm_start") or {}, device):
        program = compile_experiment(exp, compile_options)
    return exp, program


def _warm_networks(exp: Experiment, warm: Mapping, device) -> bool:
    """The networks a warm start put in place of the experiment's (``"warm_start"`` of
    ``run.json``, written by :mod:`runtime.train.warm_start`), built again: a copy of a
    recorded run's network is rebuilt from that run's recorded experiment, a composite from
    this functor's own; their weights are the checkpoint's to load. Whether any was."""
    F, sources, replaced = exp.functor, {}, False
    arrows = warm.get("arrows", {})
    for name, start in arrows.items():  # copies of another run's networks
        if start["how"] in ("module", "path"):
            k = start["from"]
            if k not in sources:
                sources[k] = rebuild(warm["pairs"][k]["source"], device)[0].functor
            init_arrow(F, name, sources[k], start["path"])
            replaced = True
    for name, start in arrows.items():  # then composites of the (rebuilt) networks
        if start["how"] == "composite":
            init_arrow(F, name, F, start["path"])
            replaced = True
    return replaced


def open_run(run: str | Path, checkpoint: str | None = None,
             device: str | torch.device | None = None, forward_only: bool = False,
             live: bool = False) -> tuple[Experiment, Program, Checkpoint]:
    """Experiment, program and checkpoint of a finished or running run folder, with the
    checkpoint's weights loaded (for ``cdl sample``, ``eval``, ``apply`` and ``export``):
    the arrows hold the moving average of their weights where the run kept one
    (:mod:`~runtime.train.average`; ``live``: the optimizer's weights instead).

    ``forward_only``: the program is built with the ``"eager"`` backend, so that nothing
    is ever compiled — for a caller that only runs the networks forward (its modules are
    the same either way; the backend changes how the training graphs run, not what)."""
    exp, program = rebuild(read_run_info(run), device,
                           hint=f"load {run}'s checkpoint with runtime.load_checkpoint",
                           backend="eager" if forward_only else None)
    ck = load_checkpoint(run, checkpoint)
    restore_weights(program, ck)
    if not live:
        load_average(arrow_modules(program), ck.weights, ck.path)
    return exp, program, ck
