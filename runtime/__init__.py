"""cdl's runtime, laid out as the user's workflow: data in (``sources/``), training
(``train/``: the loop, its options, checkpoints, batches, data-parallel, the run folder),
what comes out (``report/``: grids, curves, the page, evaluation tables), a trained path
put to use (``apply/``: ``cdl apply`` and ``cdl export``), the built-in experiments
(``experiments/``, with their registry) and the commands (``cli/``).

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
    "Batches": "train.loader",
    "Checkpoint": "train.checkpoint",
    "CheckpointError": "errors",
    "DataParallel": "train.distributed",
    "Experiment": "experiments",
    "ExperimentError": "errors",
    "Hooks": "train",
    "Interrupted": "errors",
    "Options": "experiments",
    "RankFailure": "train.distributed",
    "RunError": "errors",
    "RunFolderError": "errors",
    "SourceError": "errors",
    "SpecError": "errors",
    "TrainOptions": "train",
    "Trainer": "train",
    "TrainingDiverged": "errors",
    "format_table": "report.evaluation",
    "load_checkpoint": "train.checkpoint",
    "main": "cli",
    "open_run": "train.run_folder",
    "prepare": "experiments",
    "save_checkpoint": "train.checkpoint",
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
