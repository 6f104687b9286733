"""Experiments: the built-in ones, their registry, schema files as experiments, and the
runner for any of them.

An experiment is a Python file whose ``build(options)`` returns an :class:`Experiment`
(:mod:`.experiment`); the built-in ones are the modules of this package, listed by name in
:mod:`.registry` (``cdl train cyclegan_fonts``); a schema file with data for its objects
is one too (:class:`SchemaRun`, :mod:`.from_schema`: ``cdl train S.schema --data …``);
:func:`prepare` (:mod:`.runner`) builds one and compiles it.
"""

from __future__ import annotations

from importlib import resources

from category import Schema

from .experiment import Experiment, Options, WorstInputs
from .from_schema import SchemaRun, is_schema_record
from .registry import ALIASES, BUILTIN, DEFAULT, describe, load
from .runner import prepare

__all__ = ["ALIASES", "BUILTIN", "DEFAULT", "Experiment", "Options", "SchemaRun", "WorstInputs",
           "describe", "is_schema_record", "load", "prepare", "schema_file"]


def schema_file(name: str) -> Schema:
    """The schema ``NAME.schema`` shipped beside the built-in experiments (package data)."""
    return Schema.parse(resources.files(__package__).joinpath(f"{name}.schema").read_text())
