"""What a user sees in a run folder: sample grids, loss curves and a static ``index.html``.

The trainer writes ``run.json`` and ``metrics.jsonl``; these functions turn them, and
the samples it draws, into files a browser opens straight from the folder (no server,
relative links, so the folder can be copied). Every file is written atomically.
"""

from .curves import plot_curves
from .grid import save_grid
from .page import write_index

__all__ = ["plot_curves", "save_grid", "write_index"]
