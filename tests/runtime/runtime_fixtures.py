"""A tiny CycleGAN program and its data, for the runtime's tests (eager unless asked)."""

from __future__ import annotations

import torch
from torch import nn

from category import Schema
from compiler import Euclid, Functor, compile_functor
from runtime.sources import TensorSource

SCHEMA = "schema Tiny\nobject A, B\nf : A -> B\ng : B -> A\nf.g = id(A)\ng.f = id(B)\n"


def mlp(d_in: int, d_out: int, width: int = 8) -> nn.Module:
    return nn.Sequential(nn.Linear(d_in, width), nn.Tanh(), nn.Linear(width, d_out))


def tiny_program(init_seed: int = 0, backend: str = "eager", width: int = 8, **options):
    """The program with networks initialised from ``init_seed``."""
    torch.manual_seed(init_seed)
    S = Schema.parse(SCHEMA)
    F = Functor(S, ob={"A": Euclid(2), "B": Euclid(2)},
                ar={"f": mlp(2, 2, width), "g": mlp(2, 2, width)})
    return compile_functor(F, critics={"A": mlp(2, 1, width), "B": mlp(2, 1, width)},
                           backend=backend, lr=1e-2, **options)


def tiny_data(n: int = 64) -> dict[str, TensorSource]:
    gen = torch.Generator().manual_seed(123)
    return {"A": TensorSource(torch.randn(n, 2, generator=gen) - 2),
            "B": TensorSource(torch.randn(n, 2, generator=gen) + 2)}


def parameters(program) -> dict[str, torch.Tensor]:
    out = {}
    for a, m in program.functor.modules.items():
        out.update({f"{a}/{k}": v.detach().clone() for k, v in m.state_dict().items()})
    for name, m in program.critics.items():
        out.update({f"critic {name}/{k}": v.detach().clone() for k, v in m.state_dict().items()})
    return out


def assert_bitwise_equal(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    differ = [k for k in a if not torch.equal(a[k], b[k])]
    assert not differ, f"parameters differ: {differ}"
