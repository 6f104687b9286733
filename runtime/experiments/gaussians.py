"""Two Gaussian clouds in the plane: a CycleGAN of small MLPs that trains in seconds.

The map between N((-2, 0), 0.5²) and N((2, 1), 0.5²) that the data pins down is the
translation by (4, 1); the evaluation measures how far each arrow's image of held-out
points lies from the target mean, against the identity map's distance.
"""

from __future__ import annotations

import torch
from torch import nn

from category import Schema
from compiler import Euclid, Functor
from runtime.sources import TensorSource

from .experiment import Experiment, Options

MEANS = ((-2.0, 0.0), (2.0, 1.0))


def mlp(d_in: int, d_out: int, width: int = 32) -> nn.Module:
    return nn.Sequential(nn.Linear(d_in, width), nn.LeakyReLU(0.2), nn.Linear(width, d_out))


def build(options: Options) -> Experiment:
    S = Schema.parse("schema Gaussians\nobject A, B\nf : A -> B\ng : B -> A\n"
                     "f.g = id(A)\ng.f = id(B)\n")
    A, B = S["A"], S["B"]
    gen = torch.Generator().manual_seed(options.seed)
    mean = {A: torch.tensor(MEANS[0]), B: torch.tensor(MEANS[1])}

    def cloud(ob, n):
        return (mean[ob] + 0.5 * torch.randn(n, 2, generator=gen)).to(options.device)

    data = {ob: TensorSource(cloud(ob, 512)) for ob in (A, B)}
    held = {ob: cloud(ob, 256) for ob in (A, B)}
    F = Functor(S, ob={A: Euclid(2), B: Euclid(2)}, ar={"f": mlp(2, 2), "g": mlp(2, 2)})

    def evaluate(program) -> dict[str, dict[str, float]]:
        rows = {}
        with torch.no_grad():
            for name, src, dst in (("f", A, B), ("g", B, A)):
                out = F.modules[S[name]](held[src])
                err = (out.mean(0) - mean[dst].to(out.device)).norm().item()
                base = (held[src].mean(0) - mean[dst].to(out.device)).norm().item()
                rows[name] = {"mean_error": err, "identity_error": base, "ratio": err / base}
        return rows

    return Experiment(
        functor=F, critics={A: mlp(2, 1), B: mlp(2, 1)}, data=data, evaluate=evaluate,
        compile={"lr": 2e-3, "backend": "eager"},
        train={"steps": 300, "batch_size": 64, "decay_from": 1.0},
        samples={ob: t[:64] for ob, t in held.items()},
        description=__doc__.splitlines()[0])
