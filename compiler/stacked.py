"""Stacked evaluation: G copies of one architecture applied at once, one kernel per layer.

Layers this module knows (``Linear`` as a batched matmul, elementwise activations,
``Sequential`` of those) are lowered directly; :func:`supports` says whether a whole
network is made of them. Everything else is fused with ``vmap(functional_call)``.

>>> import torch
>>> from torch import nn
>>> net = nn.Sequential(nn.Linear(3, 4), nn.SiLU(), nn.Linear(4, 2))
>>> supports(net), supports(nn.Sequential(nn.Conv2d(1, 1, 3)))
(True, False)
>>> P = {n: torch.stack([p, p]) for n, p in net.named_parameters()}
>>> x = torch.randn(2, 5, 3)
>>> torch.allclose(stacked_forward(net, P, x)[1], net(x[1]), atol=1e-6)
True
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

ELEMENTWISE: tuple[type, ...] = (nn.ReLU, nn.SiLU, nn.LeakyReLU, nn.Tanh, nn.Sigmoid, nn.GELU,
                                 nn.ELU, nn.Softplus, nn.Identity, nn.Mish, nn.Hardtanh)


def _linear(m: nn.Linear, p: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    g, shape = x.shape[0], x.shape[1:-1]
    flat = x.reshape(g, -1, x.shape[-1])
    w = p["weight"].transpose(1, 2)
    y = torch.bmm(flat, w)  # (baddbmm's backward on a transposed view is very slow on CPU)
    if "bias" in p:
        y = y + p["bias"].unsqueeze(1)
    return y.reshape(g, *shape, y.shape[-1])


def _sequential(m: nn.Sequential, p: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    for name, child in m.named_children():
        prefix = name + "."
        sub = {k[len(prefix):]: v for k, v in p.items() if k.startswith(prefix)}
        x = stacked_forward(child, sub, x)
    return x


def _elementwise(m: nn.Module, p: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    return m(x)


STACKED: dict[type, Callable] = {nn.Linear: _linear, nn.Sequential: _sequential,
                                 **{t: _elementwise for t in ELEMENTWISE}}


def supports(m: nn.Module) -> bool:
    """Whether every layer of ``m`` has a stacked lowering (exact types only)."""
    t = type(m)
    if t not in STACKED:
        return False
    if t is nn.Sequential:
        return all(supports(c) for c in m.children())
    if STACKED[t] is _elementwise:
        return not list(m.parameters())
    return True


def stacked_forward(m: nn.Module, p: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """``m`` applied G times: member i with parameters ``p[·][i]`` on ``x[i]``."""
    return STACKED[type(m)](m, p, x)
