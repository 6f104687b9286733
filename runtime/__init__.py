"""cdl's runtime: data sources, the trainer, checkpoints, experiments and the ``cdl`` CLI.

>>> from runtime import Trainer, sources   # doctest: +SKIP
>>> trainer = Trainer(prog, data={"Horse": sources.ImageFolder("horses/", size=32)},
...                   out="runs/cyclegan", steps=10_000)   # doctest: +SKIP
>>> trainer.fit()                                           # doctest: +SKIP
"""

from . import sources
from .checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from .cli import main
from .distributed import DataParallel, RankFailure
from .errors import (
    CheckpointError,
    ExperimentError,
    Interrupted,
    RunError,
    RunFolderError,
    SourceError,
    TrainingDiverged,
)
from .evaluation import format_table
from .experiment import Experiment, Options, open_run, prepare
from .loader import Batches
from .trainer import Trainer

__all__ = [
    "Batches",
    "Checkpoint",
    "CheckpointError",
    "DataParallel",
    "Experiment",
    "ExperimentError",
    "Interrupted",
    "Options",
    "RankFailure",
    "RunError",
    "RunFolderError",
    "SourceError",
    "Trainer",
    "TrainingDiverged",
    "format_table",
    "load_checkpoint",
    "main",
    "open_run",
    "prepare",
    "save_checkpoint",
    "sources",
]
