"""Reading ``metrics.jsonl``: the trainer's log, one JSON object per line.

The reader is forgiving because the file is read while it is written: a run killed
mid-write leaves a truncated last line, ``NaN`` is logged as ``null``, and a folder from an
older cdl may log a step twice (a resume appended to it; the later value wins).

Resuming from a checkpoint at step ``S``, the trainer first cuts the file back to that
checkpoint with :func:`trim_metrics`: the lines the dead run logged after ``S`` are
logged again by the resumed one, so they would otherwise appear twice.
"""

from __future__ import annotations

import json
import math
import os
import warnings
from pathlib import Path

from category.files import write_atomic

Series = dict[str, tuple[list[int], list[float]]]


def read_metrics(path: str | os.PathLike[str]) -> list[dict]:
    """The records of ``metrics.jsonl`` in file order; ``[]`` if the file is missing.

    A line that does not parse is skipped: silently when it is the last one (a write
    cut short), with a warning elsewhere. ``null`` values become ``nan``.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return []
    lines = text.splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    records = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            if number != len(lines):
                warnings.warn(f"{path}: line {number} skipped, not JSON ({error.msg})",
                              stacklevel=2)
            continue
        if not isinstance(record, dict):
            continue
        records.append({k: (math.nan if v is None else v) for k, v in record.items()})
    return records


def trim_metrics(path: str | os.PathLike[str], step: int) -> int:
    """Cut ``metrics.jsonl`` back to a checkpoint at ``step``; the number of lines dropped.

    Kept, byte for byte and in order: every record whose ``step`` is at most ``step``,
    and every other line (no ``step``, or not JSON) that comes before the first record
    past ``step`` — it was written before the checkpoint. Dropped: the records past
    ``step`` and whatever follows the first of them (the dead run's tail), and a last
    line that does not parse (a write cut short). The file is rewritten atomically, and
    only when something changes (a kept last line without its newline gets one, so the
    next append starts a line of its own). A missing file is left missing.

    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "metrics.jsonl"
    >>> _ = p.write_text('{"step": 1}\\n{"step": 2}\\n{"step": 3}\\n{"step": 4, "lo')
    >>> trim_metrics(p, 2), p.read_text()
    (2, '{"step": 1}\\n{"step": 2}\\n')
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return 0
    lines = data.split(b"\n")
    if lines and not lines[-1].strip():
        lines.pop()  # the empty piece after the final newline
    kept: list[bytes] = []
    past = False
    for number, line in enumerate(lines, 1):
        record = _parse(line)
        at = record.get("step") if isinstance(record, dict) else None
        if is_number(at) and not math.isnan(at):
            past = past or at > step
            if at <= step:
                kept.append(line)
        elif not past and (record is not None or number != len(lines)):
            kept.append(line)  # a line of the kept part; a torn last line is dropped
    text = b"".join(line + b"\n" for line in kept)
    if text != data:
        write_atomic(path, text)
    return len(lines) - len(kept)


def _parse(line: bytes):
    """A line's JSON value, or ``None`` when it is not JSON (a torn or garbled line)."""
    try:
        return json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None


def is_number(value) -> bool:
    """True for ints and floats (NaN included), False for bools and anything else."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def series(records: list[dict], prefix: str = "") -> Series:
    """``{key: (steps, values)}`` for each numeric key starting with ``prefix``.

    Keys keep the order they first appear in; steps are sorted, and a step logged twice
    (a resumed run) keeps its last value.

    >>> series([{"step": 2, "loss/a": 1.0}, {"step": 1, "loss/a": 3.0, "lr": 0.1},
    ...         {"step": 2, "loss/a": 0.5}], "loss/")
    {'loss/a': ([1, 2], [3.0, 0.5])}
    """
    by_key: dict[str, dict[int, float]] = {}
    for record in records:
        step = record.get("step")
        if not is_number(step) or math.isnan(step):
            continue
        for key, value in record.items():
            if key != "step" and key.startswith(prefix) and is_number(value):
                by_key.setdefault(key, {})[int(step)] = float(value)
    out: Series = {}
    for key, points in by_key.items():
        steps = sorted(points)
        out[key] = (steps, [points[s] for s in steps])
    return out


def latest(records: list[dict], prefix: str) -> tuple[int | None, dict[str, float]]:
    """The last record holding a key with ``prefix``: its step and those keys' values.

    >>> latest([{"step": 5, "eval/f/mae": 0.2}, {"step": 9, "loss/total": 1.0}], "eval/")
    (5, {'eval/f/mae': 0.2})
    """
    for record in reversed(records):
        values = {k: float(v) for k, v in record.items()
                  if k.startswith(prefix) and is_number(v)}
        if values:
            step = record.get("step")
            return (int(step) if is_number(step) and not math.isnan(step) else None), values
    return None, {}


def split_eval_key(key: str) -> tuple[str, str]:
    """``eval/<row>/<column>`` as ``(row, column)``; a key with no column (``eval/fid``)
    is in the column ``value``. The row may itself hold ``/``; the column is the last part.

    >>> split_eval_key("eval/f/mae"), split_eval_key("eval/fid")
    (('f', 'mae'), ('fid', 'value'))
    """
    name = key.removeprefix("eval/")
    row, _, column = name.rpartition("/")
    return (row, column) if row else (name, "value")


def eval_table(values: dict[str, float]) -> tuple[list[str], list[str], dict]:
    """Split ``eval/<row>/<column>`` keys into rows, columns (first-seen order) and cells.

    >>> eval_table({"eval/f/mae": 0.1, "eval/f/ratio": 0.4, "eval/g/mae": 0.2})
    (['f', 'g'], ['mae', 'ratio'], {('f', 'mae'): 0.1, ('f', 'ratio'): 0.4, ('g', 'mae'): 0.2})
    """
    rows: list[str] = []
    columns: list[str] = []
    cells: dict[tuple[str, str], float] = {}
    for key, value in values.items():
        row, column = split_eval_key(key)
        if row not in rows:
            rows.append(row)
        if column not in columns:
            columns.append(column)
        cells[row, column] = value
    return rows, columns, cells


def loss_group(key: str) -> str:
    """The panel a ``loss/*`` key is drawn in.

    >>> [loss_group(k) for k in ("loss/adv:f", "loss/eq:f.g = id(H)", "loss/gp:H",
    ...                          "loss/r1:H", "loss/critic_total", "loss/total", "loss/other")]
    ['adversarial', 'equations', 'critics', 'critics', 'totals', 'totals', 'other losses']
    """
    name = key.removeprefix("loss/")
    if name.startswith("adv:"):
        return "adversarial"
    if name.startswith("eq:"):
        return "equations"
    if name.startswith(("critic:", "gp:", "r1:")):  # a critic's loss, its regulariser
        return "critics"
    if name == "total" or name.endswith("total"):
        return "totals"
    return "other losses"


LOSS_GROUPS = ("adversarial", "equations", "critics", "totals", "other losses")
