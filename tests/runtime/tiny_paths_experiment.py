"""A tiny experiment with every kind of path ``cdl apply`` and ``cdl export`` meet: images
(RGB 8×8: ``h``), a product codomain and domain (an image and a code: ``f``, ``g``), a
latent domain (``gen``); it trains in a second. Used as a user's experiment file."""

import math

import torch
from torch import nn

from category import Schema
from compiler import Euclid, Functor
from runtime import Experiment
from runtime.sources import GaussianPrior, TensorSource

SCHEMA = """schema Tiny
object A, B, C, Z
object BxC = B * C
f : A -> BxC
g : BxC -> A
h : A -> A
gen : Z -> A
f.g = id(A)
"""


class Split(nn.Module):
    def __init__(self):
        super().__init__()
        self.image, self.code = nn.Conv2d(3, 3, 3, padding=1), nn.Linear(3 * 8 * 8, 2)

    def forward(self, x):
        return torch.tanh(self.image(x)), self.code(x.flatten(1))


class Join(nn.Module):
    def __init__(self):
        super().__init__()
        self.image, self.code = nn.Conv2d(3, 3, 3, padding=1), nn.Linear(2, 3)

    def forward(self, b, c):
        return torch.tanh(self.image(b) + self.code(c)[:, :, None, None])


class Gen(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Linear(4, 3 * 8 * 8)

    def forward(self, z):
        return torch.tanh(self.net(z)).view(-1, 3, 8, 8)


def critic(shape):
    return nn.Sequential(nn.Flatten(), nn.Linear(math.prod(shape), 1))


def build(options):
    S = Schema.parse(SCHEMA)
    image = Euclid(3, 8, 8)
    F = Functor(S, ob={"A": image, "B": image, "C": Euclid(2), "Z": Euclid(4)},
                ar={"f": Split(), "g": Join(),
                    "h": nn.Sequential(nn.Conv2d(3, 3, 3, padding=1), nn.Tanh()), "gen": Gen()})
    g = torch.Generator().manual_seed(options.seed)
    data = {"A": TensorSource(torch.rand(32, 3, 8, 8, generator=g) * 2 - 1),
            "B": TensorSource(torch.rand(32, 3, 8, 8, generator=g) * 2 - 1),
            "C": TensorSource(torch.randn(32, 2, generator=g)),
            "Z": GaussianPrior(4, seed=options.seed)}
    return Experiment(functor=F, critics={"A": critic((3, 8, 8)), "B": critic((3, 8, 8)),
                                          "C": critic((2,))},
                      data=data, compile={"backend": "eager"},
                      train={"steps": 2, "batch_size": 8})
