"""Experiments: a Python file whose ``build(options)`` returns an :class:`Experiment`.

An experiment is everything a run needs besides the loop: the functor (schema, spaces,
networks), the critics, the data per object, the evaluation, and defaults for
``compile_functor`` and the :class:`~runtime.Trainer`. The built-in ones live in
``runtime/experiments/`` (installed with the package, so ``cdl train`` works anywhere);
a user's own file is run by path (``cdl train my_experiment.py``).

The runner (:func:`prepare`) seeds torch, builds the experiment with the device as
torch's default device (so networks and data are made there), and compiles it.
"""

from __future__ import annotations

import inspect
import random
import traceback
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import ModuleType

import torch
from torch import nn

from category import Schema, SchemaError
from compiler import CompilerError, Functor, Program, compile_functor

from ..devices import resolve_device
from ..errors import ExperimentError, RunError
from ..report.evaluation import Evaluate
from .registry import Entry, load


@dataclass(frozen=True)
class Options:
    """What ``build`` is given: the device to build on and the run's seed."""

    device: torch.device
    seed: int = 0


@dataclass(frozen=True)
class Experiment:
    """What ``build(options)`` returns.

    ``compile``: keyword options for ``compile_functor``; ``train``: defaults for the
    :class:`~runtime.Trainer` (``steps``, ``batch_size``, ``decay_from``…; the command
    line overrides them); ``samples``: fixed inputs per object for the sample grids
    (e.g. held-out data) and ``references``: extra rows under them, object →
    ``[(label, tensor)]`` (e.g. the ground truth); ``evaluate(program) -> {row: {column:
    value}}``.
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

    @property
    def schema(self) -> Schema:
        return self.functor.schema

    def trainer_extras(self) -> dict:
        """The trainer arguments that are code, not settings (not stored in ``run.json``)."""
        return {"evaluate": self.evaluate, "sample_inputs": self.samples,
                "sample_references": self.references}


def prepare(ref: str, device: str | torch.device | None = None, seed: int = 0,
            **compile_overrides) -> tuple[Experiment, Program]:
    """Build experiment ``ref`` on ``device`` (default: CUDA when present) and compile it."""
    module, ref = load(ref)
    dev = resolve_device(device)
    torch.manual_seed(seed)
    random.seed(seed)
    exp = _build(module, ref, Options(dev, seed))
    if not isinstance(exp, Experiment):
        raise ExperimentError(f"experiment {ref}: build(options) must return a "
                              f"runtime.Experiment, got {type(exp).__name__}")
    program = compile_functor(exp.functor, exp.critics, **{**exp.compile, **compile_overrides})
    return exp, program


def _build(module: ModuleType | Entry, ref: str, options: Options) -> Experiment:
    """``module.build(options)`` on the options' device; a failure inside it is the
    experiment's, reported with the file and line where it was raised."""
    build = module.build
    try:
        inspect.signature(build).bind(options)
    except TypeError:
        raise ExperimentError(f"experiment {ref}: build must take one argument, the options "
                              f"(def build(options) -> runtime.Experiment), but it is "
                              f"build{inspect.signature(build)}") from None
    except ValueError:  # no signature to inspect (a builtin): let the call decide
        pass
    try:
        with options.device:
            return build(options)
    except (RunError, SchemaError, CompilerError):
        raise  # cdl's own errors already say what is wrong and where
    except Exception as e:  # noqa: BLE001 - any other failure in build is the experiment's
        frames = traceback.extract_tb(e.__traceback__)[1:]  # [0] is this function
        file = inspect.getsourcefile(build) if inspect.isfunction(build) else None
        frame = ([f for f in frames if f.filename == file] or frames)[-1]
        raise ExperimentError(f"experiment {ref}: build(options) failed at {frame.filename}, "
                              f"line {frame.lineno}: {type(e).__name__}: {e}") from e
