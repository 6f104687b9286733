"""cdl's runtime: data sources, the trainer, checkpoints, experiments and the ``cdl`` CLI.

Typical use::

    from runtime import Trainer, sources
    trainer = Trainer(prog, data={"Horse": sources.ImageFolder("horses/", size=32)},
                      out="runs/cyclegan", steps=10_000)
    trainer.fit()

The names load on first use, so that ``cdl check`` (which needs no torch) starts at once.
"""

from __future__ import annotations

import importlib

# public name -> the module that defines it
_WHERE = {
    "Batches": "loader",
    "Checkpoint": "checkpoint",
    "CheckpointError": "errors",
    "DataParallel": "distributed",
    "Experiment": "experiment",
    "ExperimentError": "errors",
    "Interrupted": "errors",
    "Options": "experiment",
    "RankFailure": "distributed",
    "RunError": "errors",
    "RunFolderError": "errors",
    "SourceError": "errors",
    "Trainer": "trainer",
    "TrainingDiverged": "errors",
    "format_table": "evaluation",
    "load_checkpoint": "checkpoint",
    "main": "cli",
    "open_run": "experiment",
    "prepare": "experiment",
    "save_checkpoint": "checkpoint",
}

__all__ = sorted([*_WHERE, "sources"])


def __getattr__(name: str):
    if name == "sources":
        return importlib.import_module(".sources", __name__)
    if name in _WHERE:
        return getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
    raise AttributeError(f"module 'runtime' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__
