"""cdl's symbolic layer: finitely presented categories (schemas) and their paths.

This package never imports torch.
"""

from .core import Arrow, Equation, Ob, Path, as_path
from .errors import (
    BoundError,
    CompositionError,
    CountTooLarge,
    DuplicateNameError,
    EquationError,
    Infinite,
    InvalidNameError,
    NamingError,
    ParseError,
    ProofError,
    SchemaError,
    SchemaTypeError,
    Undecided,
    UnknownNameError,
)
from .growth import Entropy, Growth
from .linear import check_linear
from .proof import Proof, ProofStep, check_proof
from .reduction import Reachability
from .rewriting import RewriteSystem, Rule
from .schema import Schema
from .schema_map import SchemaMap

__all__ = [
    "Arrow",
    "BoundError",
    "CompositionError",
    "CountTooLarge",
    "DuplicateNameError",
    "Entropy",
    "Equation",
    "EquationError",
    "Growth",
    "Infinite",
    "InvalidNameError",
    "NamingError",
    "Ob",
    "ParseError",
    "Path",
    "Proof",
    "ProofError",
    "ProofStep",
    "RewriteSystem",
    "Reachability",
    "Rule",
    "Schema",
    "SchemaMap",
    "SchemaError",
    "SchemaTypeError",
    "Undecided",
    "UnknownNameError",
    "as_path",
    "check_linear",
    "check_proof",
]
