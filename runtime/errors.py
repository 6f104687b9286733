"""The exceptions of the runtime; every one is a :class:`RunError`."""

from __future__ import annotations


class RunError(ValueError):
    """Base of every error raised while preparing or running training."""


class SourceError(RunError):
    """A data source is unusable: no images, wrong shape or dtype, mismatched lengths.

    >>> issubclass(SourceError, ValueError)
    True
    """
