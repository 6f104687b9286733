"""cdl's symbolic layer: finitely presented categories (schemas) and their paths.

This package never imports torch.
"""

from .core import Arrow, Equation, Ob, Path, as_path
from .errors import (
    CompositionError,
    DuplicateNameError,
    EquationError,
    InvalidNameError,
    NamingError,
    ParseError,
    SchemaError,
    Undecided,
    UnknownNameError,
)
from .schema import Schema

__all__ = [
    "Arrow",
    "CompositionError",
    "DuplicateNameError",
    "Equation",
    "EquationError",
    "InvalidNameError",
    "NamingError",
    "Ob",
    "ParseError",
    "Path",
    "Schema",
    "SchemaError",
    "Undecided",
    "UnknownNameError",
    "as_path",
]
