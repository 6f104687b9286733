"""The evaluation any schema gets: equations, critics and distributions on held-out data.

For a run without ground truth (a schema file and the user's data) three things can be
measured on samples the networks never trained on:

- per equation, its **residual**: the mean absolute difference of its two sides on
  held-out samples of its domain (what the equation loss drives to zero);
- per arrow, its codomain's critic on the arrow's outputs from held-out inputs
  (**critic**) beside the same critic on held-out real samples of the codomain
  (**critic_real**): how well the arrow fools it, on data it was not fitted to;
- per arrow, the **kid** between its outputs and held-out real samples of its codomain
  (Kernel Inception Distance, :func:`runtime.report.measures.kid`, on the features of a
  fixed random network: the same for every run, so runs compare), beside
  **kid_identity**, the input's own distance to the codomain, where the arrow's domain
  and codomain have one space (the identity map as the baseline: an arrow that changes
  nothing scores it).

A latent object's "held-out samples" are a fixed draw of its prior. A product's are its
factors', paired by index; an arrow into a product gets a row per factor (``f (B)``,
``f (C)``), since its factors are measured on different scales.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
import torch.nn.functional as F

from category import Ob
from compiler import Functor
from runtime.report.evaluation import Evaluate, Table
from runtime.report.measures import kid

FEATURE_SEED = 1234  # the random feature network: one for every run
PROJECTED = 256  # vectors of more numbers are projected to this many features


class RandomFeatures:
    """Features of a space's samples from a fixed random network: for images three
    random 3×3 convolutions (stride 2 where the image allows), LeakyReLU, then each
    channel's mean and spread; for vectors the numbers themselves (a fixed random
    projection to :data:`PROJECTED` above that many)."""

    def __init__(self, shape: tuple[int, ...], device: torch.device):
        g = torch.Generator().manual_seed(FEATURE_SEED)
        self.image = len(shape) == 3 and min(shape[1:]) >= 4
        self.weights: list[torch.Tensor] = []
        if self.image:
            chans = [shape[0], 32, 64, 128]
            for a, b in zip(chans, chans[1:]):
                w = torch.randn(b, a, 3, 3, generator=g) * (2 / (9 * a)) ** 0.5
                self.weights.append(w.to(device))
        else:
            d = int(torch.tensor(shape).prod())
            if d > PROJECTED:
                self.weights.append((torch.randn(d, PROJECTED, generator=g) / d ** 0.5)
                                    .to(device))

    @torch.no_grad()
    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if not self.image:
            x = x.flatten(1).float()
            return torch.tanh(x @ self.weights[0]) if self.weights else x
        h = x.float()
        for w in self.weights:
            stride = 2 if min(h.shape[-2:]) >= 8 else 1
            h = F.leaky_relu(F.conv2d(h, w, stride=stride, padding=1), 0.2)
        return torch.cat([h.mean((2, 3)), h.std((2, 3))], 1)


def default_evaluation(functor: Functor, critics: Mapping[Ob, torch.nn.Module],
                       held_out: Mapping[Ob, torch.Tensor]) -> Evaluate:
    """``evaluate(program) -> table`` of the module docstring: ``held_out`` holds each
    plain object's held-out samples (a latent's: a fixed draw of its prior) on the
    networks' device; ``critics`` the critic of each object that has one."""
    return _Evaluation(functor, critics, held_out)


class _Evaluation:
    """The default evaluation's stages: inputs per object, scores per landing object,
    rows per arrow, then the equations' residuals."""

    def __init__(self, functor: Functor, critics: Mapping[Ob, torch.nn.Module],
                 held_out: Mapping[Ob, torch.Tensor]):
        self.functor, self.critics, self.held_out = functor, critics, held_out
        self.features: dict[tuple[int, ...], RandomFeatures] = {}

    def feats(self, x: torch.Tensor) -> torch.Tensor:
        key = tuple(x.shape[1:])
        if key not in self.features:
            self.features[key] = RandomFeatures(key, x.device)
        return self.features[key](x)

    def inputs(self, ob: Ob):
        """The held-out samples of ``ob`` (a tuple for a product, cut to the shortest
        factor), or None."""
        if not ob.is_product:
            return self.held_out.get(ob)
        parts = [self.held_out.get(x) for x in ob.factors]
        if any(p is None for p in parts):
            return None
        n = min(len(p) for p in parts)
        return tuple(p[:n] for p in parts)

    def distance(self, real: torch.Tensor, fake: torch.Tensor) -> float:
        if len(real) < 2 or len(fake) < 2:
            return float("nan")
        return kid(self.feats(real), self.feats(fake), subsets=50)[0]

    def scores(self, t: Ob, out: torch.Tensor) -> dict[str, float]:
        """Fakes ``out`` landing on plain object ``t``: its critic on them and on held-out
        reals, and their KID to those reals."""
        row, real = {}, self.held_out.get(t)
        if t in self.critics:
            row["critic"] = self.critics[t](out).mean().item()
            if real is not None:
                row["critic_real"] = self.critics[t](real).mean().item()
        if real is not None:
            row["kid"] = self.distance(real, out)
        return row

    def arrow_rows(self, a, x) -> Table:
        """The rows of arrow ``a`` on inputs ``x``: one, or one per factor of a product."""
        F, rows = self.functor, {}
        y = F(a)(x)
        outs = tuple(y) if a.cod.is_product else (y,)
        targets = a.cod.factors if a.cod.is_product else (a.cod,)
        for t, out in zip(targets, outs):
            row = self.scores(t, out)
            if F.spaces[a.dom] == F.spaces[t] and self.held_out.get(t) is not None:
                row["kid_identity"] = self.distance(self.held_out[t], x)
            if row:  # a product's factors apart: they are measured on other scales
                rows[f"{a.name} ({t})" if a.cod.is_product else a.name] = row
        return rows

    @torch.no_grad()
    def __call__(self, program) -> Table:
        S, table = self.functor.schema, {}
        for a in S.arrows:
            x = self.inputs(a.dom)
            if x is not None:
                table.update(self.arrow_rows(a, x))
        batch = {ob: x for ob in S.objects() if (x := self.inputs(ob)) is not None}
        for eq, value in self.functor.residuals(batch).items():
            table[eq] = {"residual": value}
        return table
