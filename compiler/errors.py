"""The exceptions of the compiler; every one is a :class:`CompilerError`."""

from __future__ import annotations


class CompilerError(ValueError):
    """Base of every error raised while building or running a compiled functor."""


class FunctorError(CompilerError):
    """An assignment is wrong; ``problems`` lists every problem found, one per line.

    >>> e = FunctorError(["arrow f: expected R^2, got R^3", "arrow g missing"])
    >>> print(e)
    2 problems with the functor assignment:
      - arrow f: expected R^2, got R^3
      - arrow g missing
    """

    def __init__(self, problems: list[str], what: str = "the functor assignment"):
        self.problems = list(problems)
        n = len(self.problems)
        head = f"{n} problem{'s' if n != 1 else ''} with {what}:"
        super().__init__("\n".join([head, *(f"  - {p}" for p in self.problems)]))


class UnboundSymbolError(CompilerError):
    """A symbolic dimension was used where a number is needed."""


class SpaceError(CompilerError, TypeError):
    """A space is given a bad dimension (``Euclid(0)``, ``Euclid(2.5)``); also a
    ``ValueError`` and a ``TypeError``, as plain Python would raise either."""


class UnknownKeyError(CompilerError, KeyError):
    """A name or value looked up in a functor's table is not there; also a ``KeyError``."""

    def __str__(self) -> str:  # KeyError would quote the message like a key
        return str(self.args[0]) if self.args else ""


class ProgramNotPicklable(CompilerError, TypeError):
    """A :class:`Program` was pickled, copied or ``torch.save``'d (see its message)."""


class BatchError(CompilerError):
    """A batch does not match the program: missing object, wrong shape or batch size."""


class NonFiniteLossError(CompilerError):
    """A training step's losses were NaN or inf; the step was not applied."""
