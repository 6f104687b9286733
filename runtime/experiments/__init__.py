"""Experiments: the built-in ones, their registry, and the runner for any of them.

An experiment is a Python file whose ``build(options)`` returns an :class:`Experiment`
(:mod:`.experiment`); the built-in ones are the modules of this package, listed by name in
:mod:`.registry` (``cdl train cyclegan_fonts``); :func:`prepare` builds one and compiles it.
"""

from __future__ import annotations

from importlib import resources

from category import Schema

from .experiment import Experiment, Options, prepare
from .registry import ALIASES, BUILTIN, DEFAULT, describe, load

__all__ = ["ALIASES", "BUILTIN", "DEFAULT", "Experiment", "Options", "describe", "load",
           "prepare", "schema_file"]


def schema_file(name: str) -> Schema:
    """The schema ``NAME.schema`` shipped beside the built-in experiments (package data)."""
    return Schema.parse(resources.files(__package__).joinpath(f"{name}.schema").read_text())
