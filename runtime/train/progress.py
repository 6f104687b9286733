"""What the loop reports while it runs: the progress bar and the metrics log.

:class:`Progress` is a tqdm bar (step, steps/s, main losses, ETA), or nothing;
:class:`MetricsLog` appends window means of the losses to ``metrics.jsonl`` (and to
TensorBoard when it is installed), and on a resume first takes back what the dead run
logged after its checkpoint.
"""

from __future__ import annotations

import json
import math
import time

import torch
from tqdm import tqdm

from ..report.metrics import trim_metrics

try:  # TensorBoard is optional: its events are written only where it is installed
    from torch.utils.tensorboard import SummaryWriter
except ImportError:  # pragma: no cover - depends on the environment
    SummaryWriter = None

__all__ = ["MetricsLog", "Progress"]


class Progress:
    """A tqdm bar (step, steps/s, main losses, ETA), or nothing when ``progress=False``."""

    def __init__(self, trainer, stop: int):
        self.trainer, self.stop, self.bar = trainer, stop, None

    def __enter__(self):
        if self.trainer.progress and self.trainer.is_writer:
            self.bar = tqdm(total=self.stop, initial=self.trainer.step, unit="step",
                            dynamic_ncols=True, desc=self.trainer.out.name)
        return self

    def update(self) -> None:
        if self.bar is not None:
            self.bar.update()

    def note(self, text: str | None) -> None:
        """A word after the run's name (``compiling`` while the first step compiles)."""
        if self.bar is not None:
            name = self.trainer.out.name
            self.bar.set_description_str(f"{name} ({text})" if text else name)

    def show(self, means: dict[str, float]) -> None:
        if self.bar is not None:
            keys = [k for k in means if k in ("total", "critic_total") or k.startswith("eq:")]
            self.bar.set_postfix({_short(k): f"{means[k]:.3g}" for k in keys}, refresh=False)

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.close()
        return False


def _short(name: str) -> str:
    return name.split(" = ")[0] if name.startswith("eq:") else name


class MetricsLog:
    """Window means of the losses to ``metrics.jsonl`` (and TensorBoard when installed).

    Both logs are appended to. A resumed run (its step restored from a checkpoint at
    ``S``) first takes back what the dead run logged after ``S``, since it logs those
    steps again: ``metrics.jsonl`` is cut back to step ``S`` (rewritten atomically; a
    torn last line dropped), and the new TensorBoard event file starts with
    ``purge_step=S + 1``, so TensorBoard discards the old files' events from there on.
    """

    def __init__(self, trainer):
        self.trainer, self.sums, self.n, self.tb = trainer, {}, 0, None

    def __enter__(self):
        self.t_start, self.fh = time.time(), None
        t = self.trainer
        if not t.is_writer:
            return self
        resumed_at = t.step if t.resuming else None
        if resumed_at is not None:
            trim_metrics(t.out / "metrics.jsonl", resumed_at)
        self.fh = open(t.out / "metrics.jsonl", "a")  # noqa: SIM115
        if t.tensorboard and SummaryWriter is not None:
            self.tb = SummaryWriter(str(t.out / "tensorboard"), purge_step=None
                                    if resumed_at is None else resumed_at + 1)
        return self

    def add(self, losses: dict[str, torch.Tensor]) -> None:
        # summed on the device: no host synchronisation until the window is written
        for k, v in losses.items():
            self.sums[k] = v if k not in self.sums else self.sums[k] + v
        self.n += 1

    def write(self, step: int, elapsed: float, lr: float) -> dict[str, float]:
        if not self.n:
            return {}
        names = list(self.sums)
        values = torch.stack([self.sums[k] for k in names]).float() / self.n
        if self.trainer.parallel is not None:  # the mean over the ranks
            values = self.trainer.parallel.average(values)
        values = values.cpu()
        means = dict(zip(names, values.tolist(), strict=True))
        line = {"step": step, "time": round(time.time() - self.t_start, 3), "lr": lr,
                "step_time": elapsed / self.n, "steps_per_s": self.n / max(elapsed, 1e-9)}
        line.update({f"loss/{k}": _json_float(v) for k, v in means.items()})
        self._emit(line)
        self.sums, self.n = {}, 0
        return means

    def write_eval(self, step: int, table: dict[str, dict[str, float]]) -> None:
        line: dict[str, object] = {"step": step}
        for row, cols in table.items():
            line.update({f"eval/{row}/{c}": _json_float(v) for c, v in cols.items()})
        self._emit(line)

    def _emit(self, line: dict) -> None:
        if self.fh is None:
            return
        self.fh.write(json.dumps(line) + "\n")
        self.fh.flush()
        if self.tb is not None:
            for k, v in line.items():
                if k != "step" and isinstance(v, (int, float)):
                    self.tb.add_scalar(k, v, line["step"])

    def __exit__(self, *exc):
        if self.fh is not None:
            self.fh.close()
        if self.tb is not None:
            self.tb.close()
        return False


def _json_float(v: float) -> float | None:
    return float(v) if math.isfinite(v) else None
