"""The built-in experiments, run by name (``cdl train cyclegan_fonts``; see runtime.experiment)."""

from __future__ import annotations

from importlib import resources

from category import Schema


def schema_file(name: str) -> Schema:
    """The schema ``NAME.schema`` shipped beside the built-in experiments (package data)."""
    return Schema.parse(resources.files(__package__).joinpath(f"{name}.schema").read_text())
