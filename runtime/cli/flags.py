"""The training commands' flags, declared once.

``cdl train``'s flags are a table: the parser is built from it, and so is the command line
that ``cdl train --nproc N`` hands to each torchrun worker (:func:`worker_argv`) — a flag
added to the table reaches the workers with nothing else to edit. A flag that only the
launcher reads (``--nproc``, ``--max-restarts``, ``--list``) says so in the table.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field

__all__ = ["TRAIN_FLAGS", "Flag", "add_flags", "non_negative_int", "positive_int",
           "positive_seconds", "worker_argv"]


def _whole(text: str, least: int, what: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if v < least:
        raise argparse.ArgumentTypeError(f"expected a {what} number, got {v}")
    return v


def positive_int(text: str) -> int:
    return _whole(text, 1, "positive")


def non_negative_int(text: str) -> int:
    return _whole(text, 0, "non-negative")


def positive_seconds(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds, got {text!r}") from None
    if not v > 0 or v == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {v}")
    return v


@dataclass(frozen=True)
class Flag:
    """One flag: its names, ``argparse`` keywords, and whether a worker gets it."""

    names: tuple[str, ...]
    options: dict = field(default_factory=dict)
    to_worker: bool = True

    @property
    def dest(self) -> str:
        return self.options.get("dest") or self.names[-1].lstrip("-").replace("-", "_")


TRAIN_FLAGS: tuple[Flag, ...] = (
    Flag(("--steps",), dict(type=positive_int, metavar="N", help=(
        "the run's total number of steps (with --resume: continue up to N)"))),
    Flag(("--batch",), dict(type=positive_int, metavar="B", help="batch size")),
    Flag(("--out",), dict(metavar="DIR", help=(
        "run folder (default runs/EXPERIMENT, never an existing non-empty one)"))),
    Flag(("--device",), dict(metavar="D", help="cpu, cuda, cuda:1 … (default: cuda when "
                                               "present)")),
    Flag(("--seed",), dict(type=int, metavar="S", help="the run's seed (default 0)")),
    Flag(("--backend",), dict(metavar="NAME", help=(
        "compile backend (inductor, eager, …) instead of the experiment's"))),
    Flag(("--equation-weight",), dict(type=float, metavar="W", help=(
        "the weight of every equation loss, overriding the experiment's (0: the ablation "
        "without equations; residuals are still logged)"))),
    Flag(("--resume",), dict(action="store_true", help="continue the run in --out")),
    Flag(("--checkpoint",), dict(metavar="NAME", help=(
        "with --resume: this checkpoint (e.g. step-00000500), not the latest"))),
    Flag(("--init",), dict(action="append", metavar="RUN", help=(
        "start from run folder RUN's trained networks along the --along map that goes "
        "with it (repeatable in pairs: --init R1 --along M1 --init R2 --along M2; a later "
        "pair wins)"))),
    Flag(("--along",), dict(action="append", metavar="MAP", help=(
        "with --init RUN: a .map file from this experiment's schema to RUN's (every "
        "arrow it sends to a path of RUN's schema starts from that path's networks, "
        "copied)"))),
    Flag(("--list",), dict(action="store_true", help="list the built-in experiments"),
         to_worker=False),
    Flag(("--nproc",), dict(type=positive_int, metavar="N", help=(
        "data-parallel on N processes of this machine (launches torchrun; --batch stays "
        "the global batch, N must divide it)")), to_worker=False),
    Flag(("--max-restarts",), dict(type=non_negative_int, default=0, metavar="K", help=(
        "with --nproc: torchrun restarts failed workers up to K times; they resume from "
        "the last checkpoint")), to_worker=False),
    Flag(("--dist-timeout",), dict(type=positive_seconds, default=300.0, metavar="S", help=(
        "data-parallel: seconds a collective may wait for the other ranks before the run "
        "stops with an error (default 300)"))),
)


def add_flags(parser: argparse.ArgumentParser, flags: tuple[Flag, ...] = TRAIN_FLAGS) -> None:
    for flag in flags:
        parser.add_argument(*flag.names, **flag.options)


def worker_argv(args: argparse.Namespace, flags: tuple[Flag, ...] = TRAIN_FLAGS) -> list[str]:
    """The ``train`` command line a torchrun worker runs: the experiment, then every flag
    of the table that a worker takes and that is set.

    >>> ns = argparse.Namespace(experiment="gaussians", steps=5, batch=None, out="runs/g",
    ...     device=None, seed=None, backend=None, equation_weight=None, resume=True,
    ...     checkpoint=None, list=False, nproc=2, max_restarts=0, dist_timeout=300.0)
    >>> worker_argv(ns)
    ['train', 'gaussians', '--steps', '5', '--out', 'runs/g', '--resume', '--dist-timeout', '300.0']
    """
    argv = ["train"] + ([args.experiment] if args.experiment else [])
    for flag in flags:
        value = getattr(args, flag.dest, None)
        if not flag.to_worker or value is None or value is False:
            continue
        for v in value if isinstance(value, list) else [value]:  # a repeated flag: each
            argv += [flag.names[0]] if v is True else [flag.names[0], str(v)]
    return argv
