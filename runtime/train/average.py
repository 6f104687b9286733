"""An exponential moving average of the arrows' weights: the functor a run yields.

StyleGAN's ``G_ema``: beside the weights the optimizer moves (the *live* weights), the
trainer keeps ``average ← β·average + (1 − β)·live`` after every joint step, for the
arrows' networks only (a critic is a training device, not part of the trained functor).
Why: at a large learning rate an adversarial game does not settle, it circles — each
step's generator is a point on an orbit around what the critic can no longer tell from
the data, and the average sits nearer its centre than any one point. On ``gan_glyphs``
(seed 0, lr 1e-3) the average with β 0.99 reads as characters more surely than the live
weights at every evaluation of the second half of the run (the experiment's docstring).

Where the average is kept (``TrainOptions.ema`` = β > 0), it *is* the run's functor: the
evaluation and the sample grids are taken with it, checkpoints store it beside the live
weights (``average/arrow/<name>/<entry>`` in ``weights.safetensors``), and
:func:`~runtime.train.run_folder.open_run` loads it into the arrows — so ``cdl eval``,
``sample``, ``apply``, ``export`` and warm starts see what the run's own evaluation saw.
Training always continues from the live weights; a resume restores both, exactly.

The average starts at the networks' weights when the average is first kept (step 0, or
the step a run resumed without one). Every floating-point ``state_dict`` entry is
averaged (parameters and, say, BatchNorm's running statistics); integer entries (a
step counter) stay live.

>>> import torch
>>> from torch import nn
>>> net = nn.Linear(1, 1, bias=False)
>>> with torch.no_grad():
...     _ = net.weight.fill_(0.0)
>>> avg = WeightAverage({"arrow/f": net}, beta=0.5)
>>> with torch.no_grad():
...     _ = net.weight.fill_(4.0)
>>> avg.update()                     # 0.5·0 + 0.5·4
>>> with avg.applied():
...     net.weight.item()
2.0
>>> net.weight.item()                # the live weight, back
4.0
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping

import torch
from torch import nn

from ..errors import CheckpointError, RunError
from .networks import load_into

__all__ = ["PREFIX", "WeightAverage", "averaged_weights", "load_average"]

PREFIX = "average/"


class WeightAverage:
    """The moving average of ``modules``' weights (checkpoint prefix → network), decaying
    by ``beta`` a step; ``update`` after each step, ``applied()`` to run with it."""

    def __init__(self, modules: Mapping[str, nn.Module], beta: float):
        if not 0.0 < beta < 1.0:
            raise RunError(f"the average's beta must be in (0, 1), got {beta!r}")
        self.beta = beta
        # the live entries, taken once: in-place views (a stacked network's entries are
        # views into its stack), so reading them reads what the optimizer wrote
        live = {f"{prefix}/{k}": v.detach() for prefix, m in modules.items()
                for k, v in m.state_dict(keep_vars=True).items() if v.is_floating_point()}
        with torch.no_grad():
            self.average = {k: v.clone() for k, v in live.items()}
        self._live = list(live.values())
        self._average = list(self.average.values())

    def update(self) -> None:
        """One step of the average toward the live weights."""
        if not self._live:  # no arrow has weights (foreach ops refuse empty lists)
            return
        with torch.no_grad():
            torch._foreach_lerp_(self._average, self._live, 1.0 - self.beta)

    @contextlib.contextmanager
    def applied(self) -> Iterator[None]:
        """The networks hold the average inside the block, their live weights after it
        (also when the block raises)."""
        if not self._live:
            yield
            return
        with torch.no_grad():
            saved = [v.clone() for v in self._live]
            torch._foreach_copy_(self._live, self._average)
        try:
            yield
        finally:
            with torch.no_grad():
                torch._foreach_copy_(self._live, saved)

    def weights(self) -> dict[str, torch.Tensor]:
        """The average as a checkpoint stores it: ``average/<prefix>/<entry>`` (copies)."""
        return {PREFIX + k: v.clone() for k, v in self.average.items()}

    def load(self, saved: Mapping[str, torch.Tensor], where: object) -> bool:
        """The average from a checkpoint's weights; whether it held one (if not, the average
        starts again from the networks' weights as they are now)."""
        found = averaged_weights(saved)
        if not found:
            with torch.no_grad():
                for v, live in zip(self._average, self._live, strict=True):
                    v.copy_(live)
            return False
        missing = sorted(set(self.average) - set(found))
        if missing:
            raise CheckpointError(f"checkpoint {where}: its average lacks {', '.join(missing)}"
                                  f" (it was saved by another program)")
        with torch.no_grad():
            for k, v in self.average.items():
                v.copy_(found[k])
        return True


def averaged_weights(saved: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """A checkpoint's averaged entries, keyed as the live ones (``arrow/f/…``); empty for a
    run that kept no average."""
    return {k[len(PREFIX):]: v for k, v in saved.items() if k.startswith(PREFIX)}


def load_average(modules: Mapping[str, nn.Module], saved: Mapping[str, torch.Tensor],
                 where: object) -> bool:
    """Put a checkpoint's average into the networks it averages (``prefix → network``), in
    place; whether the checkpoint held one. What a run yields is then in the networks."""
    found = averaged_weights(saved)
    load_into(modules, found, where, partial=True)
    return bool(found)
