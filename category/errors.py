"""The exceptions of the category layer; every one is a :class:`SchemaError`."""

from __future__ import annotations


class SchemaError(ValueError):
    """Base of every error raised for an invalid schema, path or equation."""


class NamingError(SchemaError):
    """A name is empty, malformed, unknown or already taken."""


class InvalidNameError(NamingError):
    """A name is not an identifier (empty, spaces, punctuation…)."""


class DuplicateNameError(NamingError):
    """A name is declared twice in one schema."""


class UnknownNameError(NamingError, LookupError):
    """A name (object or arrow) is not declared in the schema."""

    def __str__(self) -> str:  # LookupError would quote the message like a key
        return str(self.args[0]) if self.args else ""


class CompositionError(SchemaError):
    """Two arrows or paths do not compose (codomain ≠ domain)."""


class EquationError(SchemaError):
    """The two sides of an equation have different domains or codomains."""


class ParseError(SchemaError):
    """The ``.schema`` text is malformed; ``line`` and ``col`` are 1-based."""

    def __init__(self, message: str, line: int = 0, col: int = 0):
        super().__init__(message)
        self.line = line
        self.col = col


class Undecided(SchemaError):
    """Equality could not be decided within the given bounds.

    Raised instead of guessing or hanging; the message says which bound was hit.
    ``system`` is the partial :class:`~category.RewriteSystem` reached so far (sound:
    every rule follows from the equations), when there is one.
    """

    def __init__(self, message: str, system: object = None):
        super().__init__(message)
        self.system = system


class Infinite(SchemaError):
    """A set of morphisms is infinite where a finite one was needed (no ``max_length``)."""


class BoundError(SchemaError):
    """A bound or size is invalid (``max_seconds=-1``, ``max_length=-1``).

    Also a ``ValueError`` (as every :class:`SchemaError`), so either may be caught."""


class CountTooLarge(BoundError):
    """A count would have more than the allowed number of bits; ``at_least`` is a lower
    bound found on the way (the count of the paths up to ``reached`` arrows)."""

    def __init__(self, message: str, at_least: int = 0, reached: int = 0):
        super().__init__(message)
        self.at_least, self.reached = at_least, reached


class SchemaTypeError(SchemaError, TypeError):
    """A value of the wrong type where the category layer expects a schema value
    (``Schema.parse(b"...")``, a path of strings); also a ``TypeError``."""


class ProofError(SchemaError):
    """A proof does not check: a step's equation side is not where the step says."""


# A mistake found while parsing text keeps its kind: `S.equate("f.k", "f")` raises
# an error that is both a ParseError (with line and column) and an UnknownNameError.
class UnknownNameParseError(ParseError, UnknownNameError):
    pass


class DuplicateNameParseError(ParseError, DuplicateNameError):
    pass


class InvalidNameParseError(ParseError, InvalidNameError):
    pass


class CompositionParseError(ParseError, CompositionError):
    pass


class EquationParseError(ParseError, EquationError):
    pass


_PARSE_VARIANT: dict[type, type] = {
    UnknownNameError: UnknownNameParseError,
    DuplicateNameError: DuplicateNameParseError,
    InvalidNameError: InvalidNameParseError,
    CompositionError: CompositionParseError,
    EquationError: EquationParseError,
}


def parse_variant(kind: type) -> type:
    """The ParseError class that is also ``kind`` (ParseError itself if none)."""
    for cls in kind.__mro__:
        if cls in _PARSE_VARIANT:
            return _PARSE_VARIANT[cls]
    return ParseError
