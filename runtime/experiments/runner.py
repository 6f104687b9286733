"""The runner: an experiment (a built-in's name, a ``.py`` path, or a schema file run's
record) built on a device with a seed, and compiled.

:func:`prepare` seeds torch, builds the experiment with the device as torch's default
device (so networks and data are made there), and compiles it with the experiment's
options, the caller's overrides on top (:func:`compile_options`).
"""

from __future__ import annotations

import inspect
import random
import traceback
from collections.abc import Mapping
from types import ModuleType

import torch

from category import SchemaError
from compiler import CompilerError, Program, compile_functor

from ..devices import resolve_device
from ..errors import ExperimentError, RunError
from .experiment import Experiment, Options
from .registry import Entry, load

__all__ = ["compile_experiment", "compile_options", "prepare"]


def prepare(ref: str | Mapping, device: str | torch.device | None = None, seed: int = 0,
            **compile_overrides) -> tuple[Experiment, Program]:
    """Build experiment ``ref`` on ``device`` (default: CUDA when present) and compile it:
    ``ref`` is a built-in's name, a ``.py`` path or a schema file run's record
    (:meth:`~runtime.experiments.from_schema.SchemaRun.record`)."""
    module, ref = load(ref)
    dev = resolve_device(device)
    torch.manual_seed(seed)
    random.seed(seed)
    exp = _build(module, ref, Options(dev, seed))
    if not isinstance(exp, Experiment):
        raise ExperimentError(f"experiment {ref}: build(options) must return a "
                              f"runtime.Experiment, got {type(exp).__name__}")
    return exp, compile_experiment(exp, compile_overrides)


def compile_experiment(exp: Experiment, overrides: Mapping[str, object]) -> Program:
    """``exp``'s functor and critics compiled with :func:`compile_options` (also after a
    warm start replaced some of its networks: one way to compile an experiment)."""
    return compile_functor(exp.functor, exp.critics, **compile_options(exp, overrides))


def compile_options(exp: Experiment, overrides: Mapping[str, object]) -> dict:
    """The experiment's compile options with ``overrides`` on top.

    ``equation_weight`` given as a mapping overrides the named equations only (the rest
    keep the experiment's weights; a ``"*"`` entry sets theirs instead); a number sets
    every equation's. An equation is named by its text, spaces aside (``f.g=id(A)``).

    >>> from category import Schema
    >>> S = Schema.parse("object A, B\\nf : A -> B\\ng : B -> A\\nf.g = id(A)\\ng.f = id(B)")
    >>> exp = Experiment(functor=type("F", (), {"schema": S})(), critics={}, data={},
    ...                  compile={"equation_weight": 10.0, "lr": 1e-3})
    >>> compile_options(exp, {"equation_weight": {"f.g=id(A)": 5}})
    {'equation_weight': {'f.g = id(A)': 5, 'g.f = id(B)': 10.0}, 'lr': 0.001}
    """
    out = {**exp.compile, **overrides}
    given = overrides.get("equation_weight")
    if isinstance(given, Mapping):
        equations = {str(eq).replace(" ", ""): str(eq) for eq in exp.schema.equations}
        base = given.get("*", exp.compile.get("equation_weight", 10.0))
        if isinstance(base, Mapping):  # the experiment weighs equations apart
            table = {str(eq): 1.0 for eq in exp.schema.equations}
            table.update({str(k): v for k, v in base.items()})
        else:
            table = {str(eq): base for eq in exp.schema.equations}
        for key, weight in given.items():
            if key != "*":
                table[equations.get(str(key).replace(" ", ""), str(key))] = weight
        out["equation_weight"] = table
    return out


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
