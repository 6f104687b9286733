"""Warm starts along schema maps: a new run's arrows start from a trained run's networks.

``cdl train EXPERIMENT --init RUN --along MAP`` (or :func:`init_along` in Python): ``MAP``
is a schema map ``G : D -> C`` (a ``.map`` file, :class:`category.SchemaMap`) from the new
run's schema ``D`` to the schema ``C`` that ``RUN`` trained, and must be a functor. ``RUN``
is opened at its latest checkpoint (:func:`~runtime.train.run_folder.open_run`) and never
written. Every arrow ``a`` of ``D`` that ``G`` sends to a path with at least one arrow
starts from ``RUN``'s trained network of that path, copied (:func:`compiler.init_arrow`):

- one arrow whose network has the architecture of the experiment's network for ``a``:
  its weights are copied into ``a``'s own module (``"weights"``) — the experiment's
  network choice stands;
- one arrow of another architecture: ``a``'s network *becomes* a copy of ``RUN``'s
  (``"module"``) — the experiment's choice for ``a`` is dropped;
- a longer path: ``a``'s network becomes a :class:`~compiler.PathModule` of copies of the
  path's networks (``"path"``) — deeper than the experiment's choice: each step evaluates
  the whole path, and the copies train on as one network for ``a``.

An arrow sent to an identity keeps its fresh network (an identity has no network to
copy), and so does an arrow that no pair maps.

Pairs repeat (``--init R1 --along M1 --init R2 --along M2``, the i-th ``--along`` going
with the i-th ``--init``) so that several runs seed one schema. Each arrow starts from the
last pair that sends it to a path with an arrow (*a later pair wins*), with one
exception, the **composite rule**: an arrow that two or more pairs send to such paths,
and that an equation of ``D`` makes a composite of other arrows (``p = a``, ``p`` of two
or more arrows, each of them warm-started by some pair), starts as a copy of that
composite of the warm-started networks (``"composite"``) — the one start on which that
equation holds exactly. No single map can give it when the pieces come from different
runs: ``triangle_fonts`` (``ab.bc = ac``) warm-started from a Sans ↔ Bold CycleGAN along
``examples/triangle_fonts.map`` (``ab -> f``, ``bc -> id``, ``ac -> f``) and from a
Bold ↔ Bold Oblique one along ``examples/triangle_fonts_oblique.map`` (``ab -> id``,
``bc -> f``, ``ac -> f``) takes ``ab`` from the first run's ``f``, ``bc`` from the second's,
and ``ac`` — which both maps send to an ``f`` — as the copy of ``ab.bc``: the triangle's
residual is 0 at step 0.

The new run's ``run.json`` records it all under ``"warm_start"`` (:meth:`WarmStart.record`):
each pair's run, checkpoint and step, map file and its text (``"pairs"``), and where each
arrow started (``"arrows"``: ``"from"`` the pair's index in ``"pairs"``, from 0, or
``"composite"``; the path; how). A run whose networks a warm start replaced
(``"module"``, ``"path"``, ``"composite"``) is rebuilt with the same networks — built
again from the recorded experiments, their weights from the run's own checkpoint — for
``--resume``, ``cdl eval`` and ``cdl sample`` (:func:`~runtime.train.run_folder.rebuild`).
"""

from __future__ import annotations

import argparse
import random
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import torch

from category import Schema, SchemaMap
from compiler import Functor, Program, init_arrow

from ..errors import RunError
from ..experiments import Experiment
from ..experiments.runner import compile_experiment
from .run_folder import open_run, read_run_info

__all__ = ["ArrowStart", "PairStart", "WarmStart", "init_along", "init_pairs",
           "warm_start_from_flags"]

# what a warm-started run records of each run it started from, to rebuild its networks
SOURCE_KEYS = ("experiment", "options", "warm_start")


@dataclass(frozen=True)
class ArrowStart:
    """Where one arrow of the new schema started: ``path`` of pair ``pair``'s run (or,
    for ``how="composite"``, the path of the new schema named by ``equation``)."""

    arrow: str
    path: str
    how: str  # "weights", "module", "path" or "composite"
    pair: int | None = None
    equation: str | None = None

    def describe(self, pairs: Sequence[PairStart]) -> str:
        if self.how == "composite":
            return (f"{self.arrow} <- {self.path}: a copy of the composite of the "
                    f"warm-started {', '.join(self.path.split('.'))} ({self.equation}, "
                    f"which holds at step 0; pairs "
                    f"{' and '.join(str(k + 1) for k in self.conflict(pairs))} both map "
                    f"{self.arrow})")
        what = {"weights": "weights copied into its own network",
                "module": "its network replaced by a copy of the run's (another "
                          "architecture)",
                "path": "its network replaced by copies of the path's networks, composed"}
        return f"{self.arrow} <- [{self.pair + 1}] {self.path} ({what[self.how]})"

    def conflict(self, pairs: Sequence[PairStart]) -> list[int]:
        return [k for k, p in enumerate(pairs) if self.arrow in p.images]

    def record(self) -> dict:
        out = {"from": "composite" if self.pair is None else self.pair,
               "path": self.path, "how": self.how}
        return {**out, "equation": self.equation} if self.equation else out


@dataclass(frozen=True)
class PairStart:
    """One ``--init RUN --along MAP`` pair: the run as opened, the map, and the images the
    map gives the new schema's arrows (``images``: those sent to a path with an arrow;
    ``identities``: those sent to an identity)."""

    run: str
    checkpoint: str
    step: int
    map: str
    map_text: str
    schemas: tuple[str, str]
    images: dict[str, str]
    identities: tuple[str, ...]
    source: dict = field(repr=False)
    given: str = ""  # the run as the caller named it (``run`` is its absolute path)

    def record(self) -> dict:
        return {"run": self.run, "checkpoint": self.checkpoint, "step": self.step,
                "map": self.map, "map_text": self.map_text,
                "map_schemas": f"{self.schemas[0]} -> {self.schemas[1]}",
                "images": self.images, "identities": list(self.identities),
                "source": self.source}


@dataclass(frozen=True)
class WarmStart:
    """What a warm start did: the pairs, in order, and where each arrow started
    (``arrows``, by name; ``fresh``: the arrows that kept their fresh networks)."""

    pairs: tuple[PairStart, ...]
    arrows: dict[str, ArrowStart]
    fresh: tuple[str, ...]

    @property
    def replaced(self) -> bool:
        """Whether some arrow's network was replaced (the functor must be compiled again)."""
        return any(s.how != "weights" for s in self.arrows.values())

    def record(self) -> dict:
        """What ``run.json`` keeps under ``"warm_start"``."""
        return {"pairs": [p.record() for p in self.pairs],
                "arrows": {name: s.record() for name, s in self.arrows.items()},
                "fresh": list(self.fresh)}

    def lines(self) -> list[str]:
        """The warm start in words: each pair, then each arrow."""
        out = [f"warm start from {len(self.pairs)} run{'s' if len(self.pairs) > 1 else ''}:"]
        out += [f"  [{k + 1}] {p.given or p.run} ({p.checkpoint}, step {p.step}) along {p.map} "
                f"({p.schemas[0]} -> {p.schemas[1]})" for k, p in enumerate(self.pairs)]
        out += [f"  {s.describe(self.pairs)}" for s in self.arrows.values()]
        if self.fresh:
            why = {a for p in self.pairs for a in p.identities}
            out += [f"  {a}: fresh (" + ("sent to an identity, which has no network"
                                         if a in why else "no pair maps it") + ")"
                    for a in self.fresh]
        return out


def init_along(functor: Functor, run: str | Path, along: str | Path | SchemaMap, *,
               checkpoint: str | None = None,
               device: str | torch.device | None = None) -> WarmStart:
    """Start ``functor``'s arrows from the trained networks of run folder ``run`` along the
    map ``along`` (a ``.map`` file or a :class:`~category.SchemaMap`) from ``functor``'s
    schema to ``run``'s: see the module's docstring. ``checkpoint`` picks one of ``run``'s
    checkpoints (default: the latest); ``device``: where ``run`` is opened (default: where
    ``functor``'s networks are). Compile ``functor`` again if :attr:`WarmStart.replaced`."""
    return init_pairs(functor, [(run, along)], checkpoints=[checkpoint], device=device)


def init_pairs(functor: Functor, pairs: Sequence[tuple[str | Path, str | Path | SchemaMap]],
               *, checkpoints: Sequence[str | None] | None = None,
               device: str | torch.device | None = None) -> WarmStart:
    """:func:`init_along` for several ``(run, map)`` pairs: a later pair wins, and the
    composite rule (the module's docstring) settles an arrow that several pairs map and an
    equation makes a composite."""
    D = functor.schema
    device = device or _device(functor)
    checkpoints = list(checkpoints or [None] * len(pairs))
    opened = [_open(D, run, along, ck, device) for (run, along), ck in
              zip(pairs, checkpoints, strict=True)]
    starts = [p for p, _, _ in opened]
    winner: dict[str, tuple[int, str]] = {}
    for k, p in enumerate(starts):
        winner.update({a: (k, path) for a, path in p.images.items()})
    composites = _composites(D, starts, set(winner))
    arrows: dict[str, ArrowStart] = {}
    for a in D.arrows:
        if a.name in winner and a.name not in composites:
            k, path = winner[a.name]
            how = _start(functor, a.name, opened[k][1], path, starts[k])
            arrows[a.name] = ArrowStart(a.name, path, how, k)
    for name, (path, equation) in composites.items():
        init_arrow(functor, name, functor, path)
        arrows[name] = ArrowStart(name, path, "composite", equation=equation)
    fresh = tuple(a.name for a in D.arrows if a.name not in arrows)
    return WarmStart(tuple(starts), arrows, fresh)


def warm_start_from_flags(args: argparse.Namespace, exp: Experiment, program: Program,
                          info: dict) -> Program:
    """``cdl train``'s ``--init RUN --along MAP`` pairs applied to a fresh run's experiment:
    the warm start printed, recorded into ``info`` (what ``run.json`` will hold) and the
    program compiled again where a network was replaced; ``program`` as it was without
    ``--init``."""
    runs, maps = getattr(args, "init", None) or [], getattr(args, "along", None) or []
    if not runs and not maps:
        return program
    if len(runs) != len(maps):
        raise RunError(_unpaired(runs, maps))
    report = init_pairs(exp.functor, list(zip(runs, maps, strict=True)),
                        device=program.device)
    info["warm_start"] = report.record()
    print("\n".join(f"cdl train: {line}" if i == 0 else line
                    for i, line in enumerate(report.lines())), file=sys.stderr)
    if report.replaced:
        return compile_experiment(exp, info.get("options", {}).get("compile", {}))
    return program


# ---------------------------------------------------------------------- internals
def _unpaired(runs: list[str], maps: list[str]) -> str:
    if len(runs) > len(maps):
        return (f"--init {runs[len(maps)]} has no --along MAP: each --init RUN needs the "
                f"map from this experiment's schema to RUN's (--init RUN --along MAP, the "
                f"i-th --along going with the i-th --init)")
    return (f"--along {maps[len(runs)]} has no --init RUN: each map needs the run it "
            f"leads to (--init RUN --along MAP)")


def _device(functor: Functor) -> torch.device:
    for m in functor.modules.values():
        for t in m.parameters():
            return t.device
    return torch.device("cpu")


@contextmanager
def _rng_kept() -> Iterator[None]:
    """Opening a run builds its experiment, which seeds torch and ``random`` with that
    run's seed: the new run's random state is put back afterwards."""
    state = random.getstate()
    with torch.random.fork_rng():
        yield
    random.setstate(state)


def _read_map(along: str | Path | SchemaMap) -> tuple[SchemaMap, str, str]:
    """The map, how to name it, and its text (the file's, as it is)."""
    if isinstance(along, SchemaMap):
        return along, along.name, along.to_text(inline=True)
    G = SchemaMap.read(along)
    return G, str(along), Path(along).read_text(encoding="utf-8")


def _open(D: Schema, run: str | Path, along, checkpoint: str | None,
          device) -> tuple[PairStart, Functor, SchemaMap]:
    """One pair checked (the map's source first, before the run is opened) and opened."""
    G, name, text = _read_map(along)
    if G.source != D:
        raise RunError(f"--along {name} maps {G.source.name} -> {G.target.name}, but this "
                       f"run's schema is {D.name}{_same_name(G.source, D)}: a warm start "
                       f"needs a map from {D.name} (this run's schema) to {run}'s")
    with _rng_kept():
        _, program, ck = open_run(run, checkpoint, device)
    C = program.functor.schema
    if G.target != C:
        raise RunError(f"--along {name} maps {G.source.name} -> {G.target.name}, but "
                       f"--init {run} trained {C.name}{_same_name(G.target, C)}: a warm "
                       f"start needs a map from {D.name} (this run's schema) to {C.name} "
                       f"({run}'s)")
    failures = G.check()
    if failures:
        raise RunError(f"--along {name} is not a functor {D.name} -> {C.name} "
                       f"({len(failures)} failure{'s' if len(failures) > 1 else ''}): "
                       + "; ".join(failures))
    images = {a.name: str(G.ar[a]) for a in D.arrows if not G.ar[a].is_identity}
    info = read_run_info(run)
    start = PairStart(str(Path(run).resolve()), ck.path.name, ck.step, name, text,
                      (D.name, C.name), images,
                      tuple(a.name for a in D.arrows if G.ar[a].is_identity),
                      {k: info[k] for k in SOURCE_KEYS if k in info}, str(run))
    return start, program.functor, G


def _same_name(a: Schema, b: Schema) -> str:
    return " (the same name, other content)" if a.name == b.name else ""


def _composites(D: Schema, starts: Sequence[PairStart],
                warm: set[str]) -> dict[str, tuple[str, str]]:
    """The composite rule: arrow → (the composite it starts as, the equation saying so),
    for the arrows two or more pairs map and an equation makes a composite of warm-started
    arrows (the first such equation, in the schema's order)."""
    out: dict[str, tuple[str, str]] = {}
    for e in D.equations:
        for single, composite in ((e.rhs, e.lhs), (e.lhs, e.rhs)):
            if len(single) != 1 or len(composite) < 2:
                continue
            a = single.arrows[0]
            mapped = sum(a.name in p.images for p in starts)
            if (mapped >= 2 and a.name not in out and a not in composite.arrows
                    and all(b.name in warm for b in composite.arrows)):
                out[a.name] = (str(composite), str(e))
    return out


def _start(functor: Functor, arrow: str, P: Functor, path: str, pair: PairStart) -> str:
    """:func:`compiler.init_arrow`, its refusal (spaces that differ) naming the pair."""
    try:
        return init_arrow(functor, arrow, P, path)
    except ValueError as e:
        why = getattr(e, "problems", [str(e)])
        raise RunError(f"--init {pair.given} --along {pair.map}: " + "; ".join(why)) from None
