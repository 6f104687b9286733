"""Experiments: a Python file whose ``build(options)`` returns an :class:`Experiment`.

An experiment is everything a run needs besides the loop: the functor (schema, spaces,
networks), the critics, the data per object, the evaluation, and defaults for
``compile_functor`` and the :class:`~runtime.Trainer`. The built-in ones live in
``runtime/experiments/`` (installed with the package, so ``cdl train`` works anywhere);
a user's own file is run by path (``cdl train my_experiment.py``); a schema file with
data for its objects is one too (:mod:`.from_schema`). The runner (:mod:`.runner`)
builds and compiles any of them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import torch
from torch import nn

from category import Schema
from compiler import Functor

from ..report.evaluation import Evaluate
from ..report.measures import worst_inputs


@dataclass(frozen=True)
class Options:
    """What ``build`` is given: the device to build on and the run's seed."""

    device: torch.device
    seed: int = 0


@dataclass(frozen=True)
class WorstInputs:
    """One object's held-out inputs on which its arrow does worst, for a sample grid beside
    the first ones: ``inputs`` (as ``Experiment.samples`` holds an object's inputs), their
    ``references`` rows (as ``Experiment.references``: e.g. the ground truth) and ``by``,
    what ranks them (e.g. ``"f's MAE"``: the per-input error the evaluation's worst decile
    ranks by), so that the grid can say why they are shown."""

    by: str
    inputs: object
    references: list = field(default_factory=list)

    @classmethod
    def ranked(cls, by: str, errors: torch.Tensor, inputs: torch.Tensor,
               references: list[tuple[str, torch.Tensor]], n: int) -> WorstInputs:
        """The ``n`` rows of ``inputs`` (and of each reference tensor, row for row) with the
        largest ``errors`` (``[N]``, one per input), the worst first."""
        i = worst_inputs(errors, n)
        return cls(by, inputs[i], [(label, t[i]) for label, t in references])


@dataclass(frozen=True)
class Experiment:
    """What ``build(options)`` returns.

    ``compile``: keyword options for ``compile_functor``; ``train``: defaults for the
    :class:`~runtime.Trainer` (``steps``, ``batch_size``, ``decay_from``…; the command
    line overrides them); ``samples``: fixed inputs per object for the sample grids
    (e.g. held-out data) and ``references``: extra rows under them, object →
    ``[(label, tensor)]`` (e.g. the ground truth); ``evaluate(program) -> {row: {column:
    value}}``; ``networks``: what each network is, by arrow name or ``critic:X`` (the
    networks table shows it; a network not named is shown by its class);
    ``worst(program, n) -> {object: WorstInputs}``: for experiments with ground truth,
    each object's ``n`` held-out inputs with the largest per-input error, worst first (a
    mean hides them; ``benchmarks/quality.py`` shows them under the first ones).
    """

    functor: Functor
    critics: Mapping[object, nn.Module]
    data: Mapping[object, object]
    evaluate: Evaluate | None = None
    compile: Mapping[str, object] = field(default_factory=dict)
    train: Mapping[str, object] = field(default_factory=dict)
    samples: Mapping[object, object] | None = None
    references: Mapping[object, list] | None = None
    description: str = ""
    networks: Mapping[str, str] = field(default_factory=dict)
    worst: Callable[[object, int], Mapping[object, WorstInputs]] | None = None

    @property
    def schema(self) -> Schema:
        return self.functor.schema

    def trainer_extras(self) -> dict:
        """The trainer arguments that are code, not settings (not stored in ``run.json``)."""
        return {"evaluate": self.evaluate, "sample_inputs": self.samples,
                "sample_references": self.references}
