"""cdl's runtime: data sources, trainer, checkpoints and the ``cdl`` command line."""

from .cli import main

__all__ = ["main"]
