"""What a torchrun restart does with the run folder (``cdl train --nproc N --max-restarts K``).

When a worker of a data-parallel run dies, torchrun's agent restarts all of them (up to
``K`` times) with the same command line. Every attempt's workers record this launch
(:func:`launch_id`) and their attempt in ``run.json``; in a restarted attempt rank 0
decides where to train (:func:`restart_plan`) and every rank follows
(:func:`follow_restart`):

- the folder this launch began, with a checkpoint: resumed from its latest checkpoint;
- the folder this launch began, without a checkpoint (the workers died before the
  first): set aside as ``OUT.attempt-K`` (``K`` the attempt that began it; nothing is
  deleted), and the run starts over in ``OUT``;
- any other folder: left to the usual rules (resumed with ``--resume``, refused when
  occupied) — a restart never takes over another launch's run.

:func:`restart_note` tells the user, after a failure, what torchrun does next.
"""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

from .checkpoint import latest
from .run_folder import fresh_out, occupied, read_run_info


def launch_id() -> str:
    """This torchrun launch, as the workers of every attempt see it: torchrun's run id
    (a fresh uuid per ``--standalone`` launch), the host and the agent's pid (the workers'
    parent). Recorded in ``run.json``, it tells a restarted worker that the run folder
    it finds was begun by this launch, not by an earlier one."""
    return (f"{os.environ.get('TORCHELASTIC_RUN_ID', 'none')}@{socket.gethostname()}:"
            f"{os.getppid()}")


def follow_restart(out: str | None, name: str, launch: str, resume: bool,
                   parallel) -> tuple[str, bool]:
    """Every rank of a restarted attempt: rank 0's :func:`restart_plan`, broadcast — the
    run folder, and whether to resume it (then the experiment is the one its ``run.json``
    records)."""
    plan = restart_plan(out, name, launch, resume, parallel) if parallel.is_writer else None
    out, resume = parallel.broadcast_object(plan)
    return out, resume


def restart_plan(out: str | None, name: str, launch: str, resume: bool,
                 parallel) -> tuple[str, bool]:
    """Rank 0 of a restarted attempt: the run folder and whether to resume it.

    A folder begun by this launch (``run.json``'s ``launch`` id) with a checkpoint is
    resumed from it; one without a checkpoint (the workers died before the first) is set
    aside as ``OUT.attempt-K`` (nothing is deleted) and the run starts over in ``OUT``.
    Any other folder is left to the usual rules (``--resume``, or refused when occupied).
    ``out`` is the ``--out`` given (None: ``runs/NAME``, the one this launch began).
    """
    k, most = parallel.restart_count, os.environ.get("TORCHELASTIC_MAX_RESTARTS", "?")
    folder = Path(out) if out else _launch_folder(name, launch)
    if folder is None:  # the dead attempt chose no folder yet
        folder = fresh_out(name)
    record = _launch_record(folder)
    ours = record is not None and record.get("id") == launch
    ck = latest(folder)
    if ck is not None and (ours or resume):
        print(f"cdl train: torchrun restart {k} of {most}: resuming {folder} from its "
              f"checkpoint {ck.name}", file=sys.stderr, flush=True)
        return str(folder), True
    if ours and ck is None and occupied(folder):
        aside = _aside(folder, int(record.get("attempt", 0)))
        folder.rename(aside)
        print(f"cdl train: torchrun restart {k} of {most}: {folder} has no checkpoint (the "
              f"workers died before the first); its files are set aside as {aside}, and the "
              f"run starts over in {folder}", file=sys.stderr, flush=True)
    return str(folder), resume


def restart_note(parallel) -> str:
    """After a failure under ``torchrun --max-restarts``: what torchrun does next."""
    if parallel is None:
        return ""
    most = int(os.environ.get("TORCHELASTIC_MAX_RESTARTS", "0"))
    if parallel.restart_count >= most:
        return ""
    return (f"\n(torchrun restarts the workers: restart {parallel.restart_count + 1} of "
            f"{most}; they resume from the latest checkpoint by themselves, or start over if "
            f"there is none)")


def _launch_record(out: Path) -> dict | None:
    """``run.json``'s ``launch`` entry of ``out`` (which launch and attempt began it), or
    ``None``: no run.json, not readable, or not begun under torchrun."""
    try:
        info = read_run_info(out)
    except Exception:  # no run.json, or not readable: not begun by this launch
        return None
    record = info.get("launch")
    return record if isinstance(record, dict) else None


def _launched_by(out: Path, launch: str) -> bool:
    record = _launch_record(out)
    return record is not None and record.get("id") == launch


def _launch_folder(name: str, launch: str) -> Path | None:
    """The ``runs/NAME[-k]`` folder this launch began (torchrun without ``--out``)."""
    base = Path("runs") / name
    if not base.parent.is_dir():
        return None
    for p in sorted(base.parent.glob(f"{name}*")):
        if (p == base or p.name[len(name):].startswith("-")) and _launched_by(p, launch):
            return p
    return None


def _aside(out: Path, attempt: int) -> Path:
    """``OUT.attempt-K`` (``-2``, ``-3``… if taken)."""
    aside, k = out.with_name(f"{out.name}.attempt-{attempt}"), 1
    while aside.exists():
        k += 1
        aside = out.with_name(f"{out.name}.attempt-{attempt}-{k}")
    return aside
