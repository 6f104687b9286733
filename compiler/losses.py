"""Adversarial losses and path distances, as dispatch tables keyed by name.

Each adversarial loss is a row of :data:`ADVERSARIAL`: three reductions of critic
scores (the generator's term on fakes, the critic's term on reals and the critic's term
on fakes) and, optionally, the :class:`Regulariser` its critics are trained with — a
penalty on the critics' input gradients at points the row names (reals, fakes, or
interpolates of reals and fakes). ``wgan-gp`` carries the gradient penalty
``E[(‖∇D(x̂)‖₂ − 1)²]`` on interpolates ``x̂``; ``nsgan-r1`` carries R1, the
zero-centred penalty ``E[‖∇D(x)‖₂²]`` on reals (weighted ``γ/2``, StyleGAN2's). A new
regulariser is one :class:`Regulariser` (its penalty function, where it is taken, the
option giving its weight) in a new row; the plan, the lowering and the program read
the row.

>>> import torch
>>> s = torch.tensor([1.0, 1.0])
>>> float(ADVERSARIAL["lsgan"].generator(s)), float(ADVERSARIAL["lsgan"].fake(s))
(0.0, 0.5)
>>> float(DISTANCES["l1"](torch.ones(2), torch.zeros(2)))
1.0
>>> [(a.name, a.regulariser.name) for a in ADVERSARIAL.values() if a.regulariser]
[('wgan-gp', 'gp'), ('nsgan-r1', 'r1')]
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as nnf

Reduce = Callable[[torch.Tensor], torch.Tensor]


def lsgan_generator(s: torch.Tensor) -> torch.Tensor:
    return (s - 1).square().mean()


def lsgan_real(s: torch.Tensor) -> torch.Tensor:
    return 0.5 * (s - 1).square().mean()


def lsgan_fake(s: torch.Tensor) -> torch.Tensor:
    return 0.5 * s.square().mean()


def nsgan_generator(s: torch.Tensor) -> torch.Tensor:
    return nnf.softplus(-s).mean()


def nsgan_real(s: torch.Tensor) -> torch.Tensor:
    return nnf.softplus(-s).mean()


def nsgan_fake(s: torch.Tensor) -> torch.Tensor:
    return nnf.softplus(s).mean()


def negated_mean(s: torch.Tensor) -> torch.Tensor:
    return -s.mean()


def mean(s: torch.Tensor) -> torch.Tensor:
    return s.mean()


def hinge_real(s: torch.Tensor) -> torch.Tensor:
    return nnf.relu(1 - s).mean()


def hinge_fake(s: torch.Tensor) -> torch.Tensor:
    return nnf.relu(1 + s).mean()


def gradient_penalty(grads: torch.Tensor) -> torch.Tensor:
    """``mean((‖g‖₂ − 1)²)`` over samples of per-sample input gradients ``grads``."""
    norms = grads.flatten(1).norm(dim=1)
    return (norms - 1).square().mean()


def squared_norm(grads: torch.Tensor) -> torch.Tensor:
    """``mean(‖g‖₂²)`` over samples of per-sample input gradients ``grads`` (R1, R2)."""
    return grads.flatten(1).square().sum(1).mean()


POINTS = ("reals", "fakes", "interpolates")
"""Where a regulariser takes the critic's input gradients (see :class:`Regulariser`)."""


@dataclass(frozen=True)
class Regulariser:
    """A penalty on a critic's input gradients, one more loss of each critic.

    ``penalty`` maps the critic's per-sample input gradients at a batch of points to a
    number; ``at`` names the points (:data:`POINTS`): ``"reals"`` (the object's real
    samples: one term per critic), ``"fakes"`` (each fake the critic scores) or
    ``"interpolates"`` (per fake, ``α·real + (1−α)·fake`` with one uniform ``α`` per
    sample, drawn outside the graph); a critic's terms are averaged. The loss is named
    ``<name>:<object>`` (``gp:Horse``) and counts in the critics' total with the weight
    ``scale × <weight>``, ``weight`` naming the ``compile_functor`` option that gives it.
    """

    name: str
    penalty: Callable[[torch.Tensor], torch.Tensor]
    at: str
    weight: str
    scale: float = 1.0
    describe: str = "gradient penalty"

    def __post_init__(self):
        if self.at not in POINTS:
            raise ValueError(f"regulariser {self.name}: at must be one of "
                             f"{', '.join(POINTS)}, got {self.at!r}")

    @property
    def interpolates(self) -> bool:
        """Whether its points are interpolates (which need random weights)."""
        return self.at == "interpolates"


GP = Regulariser("gp", gradient_penalty, "interpolates", "gp_weight",
                 describe="gradient penalty on interpolates")
R1 = Regulariser("r1", squared_norm, "reals", "r1_gamma", scale=0.5,
                 describe="zero-centred gradient penalty on reals")


@dataclass(frozen=True)
class Adversarial:
    """One adversarial objective: the generator's and the critic's reductions, and the
    regulariser (if any) the critics are trained with."""

    name: str
    generator: Reduce
    real: Reduce
    fake: Reduce
    regulariser: Regulariser | None = None


ADVERSARIAL: dict[str, Adversarial] = {
    a.name: a
    for a in (
        Adversarial("lsgan", lsgan_generator, lsgan_real, lsgan_fake),
        Adversarial("nsgan", nsgan_generator, nsgan_real, nsgan_fake),
        Adversarial("hinge", negated_mean, hinge_real, hinge_fake),
        Adversarial("wgan-gp", negated_mean, negated_mean, mean, GP),
        Adversarial("nsgan-r1", nsgan_generator, nsgan_real, nsgan_fake, R1),
    )
}


def l1(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return (a - b).abs().mean()


def l2(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return (a - b).square().mean()


DISTANCES: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {"l1": l1, "l2": l2}


def interpolate(real: torch.Tensor, fake: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
    """``alpha·real + (1−alpha)·fake`` with one ``alpha`` per sample."""
    a = alpha.reshape(-1, *([1] * (real.dim() - 1)))
    return a * real + (1 - a) * fake


def lookup(table: dict, name: str, what: str):
    if name not in table:
        raise ValueError(f"unknown {what} {name!r}; choose one of {', '.join(table)}")
    return table[name]
