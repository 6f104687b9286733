"""Loss curves: ``metrics.jsonl`` drawn as one PNG of panels.

Losses are grouped the way a user reasons about them — adversarial terms per arrow,
path-equation terms, critics (and gradient penalties), totals — and each evaluation
column (``eval/*/ratio``, ``eval/*/mae`` …) gets a panel with a line per row. GAN losses
are noisy, so each series is drawn raw and faint with an exponential moving average on
top; a panel whose values are all positive uses a log scale.
"""

from __future__ import annotations

import io
import math
import os
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import LogFormatterSciNotation

from category.files import write_atomic

from .metrics import LOSS_GROUPS, loss_group, read_metrics, series, split_eval_key


def ema(values: list[float], points_per_span: int = 20) -> np.ndarray:
    """Exponential moving average with a span of ``len(values) / points_per_span``
    (so a short run is barely smoothed and a long one is); NaNs are passed over.

    >>> ema([1.0, 1.0, float("nan"), 1.0]).tolist()
    [1.0, 1.0, 1.0, 1.0]
    """
    v = np.asarray(values, dtype=float)
    span = min(max(len(v) / points_per_span, 1.0), 200.0)
    alpha = 2.0 / (span + 1.0)
    out = np.empty_like(v)
    acc = math.nan
    for i, x in enumerate(v):
        if math.isfinite(x):
            acc = x if not math.isfinite(acc) else acc + alpha * (x - acc)
        out[i] = acc
    return out


def _plain_log_formatter():
    """Matplotlib's choice of which log ticks to label, written ``0.3`` not ``3×10⁻¹``."""
    class PlainLog(LogFormatterSciNotation):
        def __call__(self, x, pos=None):
            return f"{x:g}" if super().__call__(x, pos) else ""

    return PlainLog


def _panels(records: list[dict]) -> list[tuple[str, dict, bool]]:
    """``(title, {label: (steps, values)}, smooth)`` per panel, in display order."""
    losses = series(records, "loss/")
    panels = []
    for group in LOSS_GROUPS:
        members = {k.removeprefix("loss/"): v for k, v in losses.items() if loss_group(k) == group}
        if members:
            panels.append((group, members, True))
    evals = series(records, "eval/")
    by_column: dict[str, dict] = {}
    for key, value in evals.items():
        row, column = split_eval_key(key)
        by_column.setdefault(column, {})[row] = value
    for column, members in by_column.items():
        panels.append((f"eval: {column}", members, False))
    return panels


def curves_figure(records: list[dict]):
    """The matplotlib figure of :func:`plot_curves` for already-read records."""

    panels = _panels(records)
    if not panels:
        fig = Figure(figsize=(8, 2), dpi=100)
        fig.text(0.5, 0.5, "no losses logged yet", ha="center", va="center",
                 fontsize=14, color="0.4")
        return fig
    ncols = 1 if len(panels) == 1 else 2
    nrows = math.ceil(len(panels) / ncols)
    fig = Figure(figsize=(6.5 * ncols, 3.4 * nrows), dpi=100, layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    all_steps = [s for _, members, _ in panels for steps, _ in members.values() for s in steps]
    first, last = min(0, min(all_steps)), max(all_steps)
    margin = 0.01 * (last - first)
    plain_log = _plain_log_formatter()
    for ax, (title, members, smooth) in zip(axes.flat, panels):
        positive = True
        for i, (label, (steps, values)) in enumerate(members.items()):
            colour = f"C{i % 10}"
            finite = [v for v in values if math.isfinite(v)]
            positive = positive and bool(finite) and min(finite) > 0
            if smooth and len(values) > 2:
                ax.plot(steps, values, color=colour, alpha=0.25, linewidth=0.8)
                ax.plot(steps, ema(values), color=colour, linewidth=1.6, label=label)
            else:
                ax.plot(steps, values, color=colour, linewidth=1.4, marker="o",
                        markersize=3, label=label)
        if positive:
            ax.set_yscale("log")
            ax.yaxis.set_major_formatter(plain_log(labelOnlyBase=False))
            ax.yaxis.set_minor_formatter(plain_log(labelOnlyBase=False,
                                                   minor_thresholds=(1, 0.5)))
        if last > first:  # the same step range in every panel, so they line up
            ax.set_xlim(first - margin, last + margin)
        ax.set_title(title, fontsize=11, loc="left")
        ax.set_xlabel("step")
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(fontsize="small", loc="best")
    for ax in list(axes.flat)[len(panels):]:
        ax.set_visible(False)
    return fig


def plot_curves(metrics_path: str | os.PathLike[str],
                out_png: str | os.PathLike[str]) -> Path:
    """Draw every ``loss/*`` series of ``metrics_path`` against step, plus the
    evaluation series, into ``out_png`` (written atomically); return its path.

    Tolerates a missing file or a truncated last line (a run killed mid-write); with
    nothing logged yet the PNG says so, so a page linking it never shows a broken image.
    """
    buffer = io.BytesIO()
    curves_figure(read_metrics(metrics_path)).savefig(buffer, format="png")
    return write_atomic(out_png, buffer.getvalue())
