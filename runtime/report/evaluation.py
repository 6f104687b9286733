"""Evaluation tables: ``{row: {column: value}}``, printed as a table and logged.

An experiment's ``evaluate(program)`` returns such a table (e.g. per arrow: the
held-out error against ground truth, the identity baseline's error, their ratio and
the cycle residual); the trainer logs it as ``eval/<row>/<column>`` and prints it.
Columns named ``ratio`` are shown as ``0.45×``.

>>> print(format_table({"f": {"mae": 0.0412, "ratio": 0.45}, "g": {"mae": 0.05, "ratio": 0.5}}))
arrow  mae     ratio
f      0.0412  0.45×
g      0.05    0.50×
"""

from __future__ import annotations

import math
from collections.abc import Callable

Table = dict[str, dict[str, float]]
Evaluate = Callable[[object], Table]


def _cell(column: str, v: object) -> str:
    if not isinstance(v, (int, float)):
        return str(v)
    if not math.isfinite(v):
        return str(v)
    if column == "ratio" or column.endswith("_ratio"):
        return f"{v:.2f}×"
    return f"{v:.3g}" if abs(v) >= 1e-3 or v == 0 else f"{v:.2e}"


def format_table(table: Table, first: str = "arrow") -> str:
    """A plain-text table, one line per row, columns aligned."""
    columns: list[str] = []
    for cols in table.values():
        columns += [c for c in cols if c not in columns]
    grid = [[first, *columns]]
    grid += [[row, *(_cell(c, cols[c]) if c in cols else "-" for c in columns)]
             for row, cols in table.items()]
    widths = [max(len(r[i]) for r in grid) for i in range(len(grid[0]))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip()
                     for r in grid)
