"""A few samples of a source as one batch, on a device (the grids' inputs, the data probe).

>>> import torch
>>> first_samples([torch.zeros(3), torch.ones(3)], 5).shape
torch.Size([2, 3])
"""

from __future__ import annotations

import torch

__all__ = ["first_samples", "to_device"]


def first_samples(src, n: int):
    """The first ``n`` samples of a source, stacked (a tuple for a product)."""
    n = min(n, len(src))
    items = [src[i] for i in range(n)]
    if isinstance(items[0], tuple):
        return tuple(torch.stack(parts) for parts in zip(*items, strict=True))
    return torch.stack(items)


def to_device(x, device: torch.device):
    """A batch (a tuple for a product object) on ``device``."""
    if isinstance(x, (tuple, list)):
        return tuple(t.to(device) for t in x)
    return x.to(device)
