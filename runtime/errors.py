"""The exceptions of the runtime; every one is a :class:`RunError`."""

from __future__ import annotations


class RunError(ValueError):
    """Base of every error raised while preparing or running training."""


class SourceError(RunError):
    """A data source is unusable: no images, wrong shape or dtype, mismatched lengths.

    >>> issubclass(SourceError, ValueError)
    True
    """


class CheckpointError(RunError):
    """A checkpoint is missing, corrupt, or of another schema, functor or network shape."""


class ExperimentError(RunError):
    """An experiment cannot be found or loaded, or its ``build`` returned something unusable."""


class RunFolderError(RunError):
    """The run folder cannot be used: not empty without resume, or not a run folder."""


class Interrupted(RunError):
    """Training was stopped by SIGINT or SIGTERM after saving a checkpoint.

    ``signal`` is the signal number, ``step`` the step saved, ``run`` the run folder.
    """

    def __init__(self, message: str, signal: int, step: int, run: str):
        super().__init__(message)
        self.signal, self.step, self.run = signal, step, run


class TrainingDiverged(RunError):
    """A step's losses were NaN or infinite; the last good checkpoint is kept."""


class SpecError(RunError):
    """A schema file run's flags (``--data``, ``--latent``, ``--space``, ``--size`` …) are
    wrong or do not fit the schema's objects; the message names the object and the flag
    that fixes it."""


class ApplyError(RunError):
    """A path cannot be applied to an input or exported: it does not parse or compose, its
    domain's data is of another kind than the input's, or the output cannot be written."""
