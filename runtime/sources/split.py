"""``holdout``: a source split into a training part and a held-out part, seeded.

The split is a seeded permutation of the indices that depends on the number of samples
and the seed only, so that two sources of the same length are split alike: the glyphs
of two fonts (sample ``i`` the same character in both) hold out the same characters.

>>> from .tensor import TensorSource
>>> train, test = holdout(TensorSource(torch.arange(10.)), 0.2)
>>> len(train), len(test), sorted(train.indices.tolist() + test.indices.tolist()) == list(range(10))
(8, 2, True)
>>> test2 = holdout(TensorSource(-torch.arange(10.)), 0.2)[1]
>>> bool((test2.indices == test.indices).all())
True
"""

from __future__ import annotations

import torch
from torch.utils.data import Dataset

from ..errors import SourceError
from . import args
from .prior import derive_seed

MIN_HELD_OUT = 2  # a distribution distance (KID) needs two samples


class Part(Dataset):
    """The samples ``indices`` of ``source``, in that order (the loader's ``gather``
    included)."""

    def __init__(self, source: Dataset, indices: torch.Tensor):
        self.source, self.indices = source, indices
        self.shape = getattr(source, "shape", None)

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, i: int):
        return self.source[int(self.indices[i])]

    def gather(self, indices: torch.Tensor) -> torch.Tensor:
        picked = self.indices[indices]
        fast = getattr(self.source, "gather", None)
        if callable(fast):
            return fast(picked)
        return torch.stack([self.source[int(i)] for i in picked])

    def __repr__(self) -> str:
        return f"Part({self.source!r}, {len(self)} samples)"


def holdout(source: Dataset, fraction: float, seed: int = 0) -> tuple[Part, Part]:
    """``(train, test)``: ``fraction`` of the samples held out (at least two), the rest
    to train on, by a permutation seeded by ``seed`` and the number of samples."""
    fraction = args.real("holdout", "fraction", fraction, low=0, high=1, open_low=True,
                         open_high=True)
    seed = args.whole("holdout", "seed", seed)
    n = len(source)
    n_test = max(MIN_HELD_OUT, round(fraction * n))
    if n - n_test < 1:
        raise SourceError(f"{n} samples are too few to hold {fraction:g} of them out (at "
                          f"least {MIN_HELD_OUT} held out and one to train on)")
    g = torch.Generator().manual_seed(derive_seed("holdout", seed, n))
    order = torch.randperm(n, generator=g)
    return Part(source, order[n_test:].sort().values), Part(source, order[:n_test].sort().values)
