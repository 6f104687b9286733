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

import importlib
import importlib.util
import inspect
import random
import sys
import traceback
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

import torch
from torch import nn

from category import Schema, SchemaError
from compiler import CompilerError, Functor, Program, compile_functor

from .devices import resolve_device
from .errors import ExperimentError, RunError, RunFolderError
from .evaluation import Evaluate

# name -> "module" (its build) or "module:function" (a variant built by another function)
BUILTIN = {
    "cyclegan_fonts": "runtime.experiments.cyclegan_fonts",
    "cyclegan_fonts_serif": "runtime.experiments.cyclegan_fonts:build_serif",
    "gan_glyphs": "runtime.experiments.gan_glyphs",
    "equalizer_circles": "runtime.experiments.equalizer_circles",
    "triangle_fonts": "runtime.experiments.triangle_fonts",
    "product_emoji": "runtime.experiments.product_emoji",
    "gaussians": "runtime.experiments.gaussians",
}
ALIASES = {"fonts": "cyclegan_fonts"}  # earlier names, so that older run folders still open
DEFAULT = "cyclegan_fonts"


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


@dataclass(frozen=True)
class Entry:
    """A built-in experiment that is one function of a module (``"module:function"``)."""

    build: object
    doc: str


def load(ref: str) -> tuple[ModuleType | Entry, str]:
    """The experiment (a module or an :class:`Entry`, either with ``build(options)``) for a
    built-in name or a ``.py`` path, and its canonical name."""
    ref = ALIASES.get(ref, ref)
    path = Path(ref)
    if ref.endswith(".py") or path.is_file():
        if not path.is_file():
            raise ExperimentError(f"experiment file {ref} does not exist")
        name = f"cdl_experiment_{abs(hash(str(path.resolve())))}"
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise ExperimentError(f"{ref} cannot be imported as a Python file")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except Exception as e:  # noqa: BLE001 - any import failure is the file's
            del sys.modules[name]
            raise ExperimentError(f"importing experiment {ref} failed: "
                                  f"{type(e).__name__}: {e}") from e
        ref = str(path.resolve())
    elif ref in BUILTIN:
        name, _, function = BUILTIN[ref].partition(":")
        module = importlib.import_module(name)
        if function:
            build = getattr(module, function)
            module = Entry(build, build.__doc__ or "")
    else:
        raise ExperimentError(f"unknown experiment {ref!r}; built-in: {', '.join(BUILTIN)} "
                              f"(or give a path to a .py file with build(options))")
    if not callable(getattr(module, "build", None)):
        raise ExperimentError(f"experiment {ref} has no build(options) function: define "
                              f"def build(options) -> runtime.Experiment in it")
    return module, ref


def describe(ref: str) -> str:
    """The first line of an experiment's docstring."""
    module, _ = load(ref)
    doc = (module.doc if isinstance(module, Entry) else module.__doc__) or ""
    return doc.strip().splitlines()[0] if doc.strip() else ""


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
    return prepare(info["experiment"], device=device or options.get("device"),
                   seed=options.get("seed", 0), **compile_options)


def open_run(run: str | Path, checkpoint: str | None = None,
             device: str | torch.device | None = None):
    """Experiment, program and checkpoint of a finished or running run folder, with the
    checkpoint's weights loaded (for ``cdl sample`` and ``cdl eval``)."""
    from .checkpoint import load_checkpoint
    from .run_folder import read_run_info
    from .trainer import restore_weights

    exp, program = rebuild(read_run_info(run), device,
                           hint=f"load {run}'s checkpoint with runtime.load_checkpoint")
    ck = load_checkpoint(run, checkpoint)
    restore_weights(program, ck)
    return exp, program, ck
