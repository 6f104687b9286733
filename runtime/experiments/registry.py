"""The built-in experiments by name, and how a name, a ``.py`` path or a schema file
run's record becomes one.

A built-in is a module of this package with ``build(options)`` — or a second function of
such a module, a variant (``"module:function"``); a user's experiment is any ``.py`` file
with ``build(options)``, run by path; a schema file with data for its objects is the
record of a :class:`~.from_schema.SchemaRun` (what ``run.json`` keeps). Adding a
built-in is one module here plus one line in :data:`BUILTIN`.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from ..errors import ExperimentError
from .from_schema import SchemaRun, is_schema_record

__all__ = ["ALIASES", "BUILTIN", "DEFAULT", "Entry", "describe", "load"]

# name -> "module" (its build) or "module:function" (a variant built by another function)
BUILTIN = {
    "cyclegan_fonts": "runtime.experiments.cyclegan_fonts",
    "cyclegan_fonts_serif": "runtime.experiments.cyclegan_fonts:build_serif",
    "cyclegan_fonts_oblique": "runtime.experiments.cyclegan_fonts:build_oblique",
    "gan_glyphs": "runtime.experiments.gan_glyphs",
    "equalizer_circles": "runtime.experiments.equalizer_circles",
    "triangle_fonts": "runtime.experiments.triangle_fonts",
    "product_emoji": "runtime.experiments.product_emoji",
    "gaussians": "runtime.experiments.gaussians",
}
ALIASES = {"fonts": "cyclegan_fonts"}  # earlier names, so that older run folders still open
DEFAULT = "cyclegan_fonts"



@dataclass(frozen=True)
class Entry:
    """A built-in experiment that is one function of a module (``"module:function"``)."""

    build: object
    doc: str


def load(ref: str | Mapping) -> tuple[ModuleType | Entry, str]:
    """The experiment (a module or an :class:`Entry`, either with ``build(options)``) for a
    built-in name, a ``.py`` path or a schema file run's record, and its canonical name."""
    if is_schema_record(ref):
        run = SchemaRun.from_record(ref)
        return Entry(run.build, f"schema file {run.file}"), run.file
    if isinstance(ref, str) and ref.endswith(".schema"):
        raise ExperimentError(f"{ref} is a schema file: its objects need data, given by "
                              f"flags (cdl train {ref} --data OBJ=SOURCE …) or from Python "
                              f"as runtime.experiments.SchemaRun.from_flags({ref!r}, data=…)"
                              f".record()")
    if not isinstance(ref, str):
        raise ExperimentError(f"an experiment is a built-in's name, a .py path or a schema "
                              f"file run's record, got {type(ref).__name__}")
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
