"""``GaussianPrior``: standard normal samples for latent objects."""

from __future__ import annotations

import hashlib
import math

import torch
from torch.utils.data import Dataset

from . import args

UNBOUNDED = 2 ** 62  # the length of a prior: never exhausted in practice


def derive_seed(*parts: object) -> int:
    """A 63-bit seed from ``parts``, stable across processes and Python versions.

    >>> derive_seed(0, "Horse", 3) == derive_seed(0, "Horse", 3) != derive_seed(0, "Horse", 4)
    True
    """
    key = "\x1f".join(str(p) for p in parts).encode()
    return int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "little") >> 1


class GaussianPrior(Dataset):
    """Standard normal samples of ``shape``; sample ``i`` depends only on (seed, i).

    Its length is effectively unbounded. The loader draws whole batches with
    :meth:`sample` from its own seeded generator instead of indexing.

    >>> p = GaussianPrior((4,), seed=1)
    >>> bool((p[7] == p[7]).all()), bool((p[7] == p[8]).all())
    (True, False)
    >>> tuple(p.sample(3, torch.Generator().manual_seed(0)).shape)
    (3, 4)
    """

    def __init__(self, shape: int | tuple[int, ...], seed: int = 0):
        self.shape = args.shape("GaussianPrior", shape)
        self.seed = args.whole("GaussianPrior", "seed", seed)

    def __len__(self) -> int:
        return UNBOUNDED

    def __getitem__(self, i: int) -> torch.Tensor:
        i = int(i)
        if not 0 <= i < UNBOUNDED:
            raise IndexError(f"GaussianPrior index {i} out of range")
        g = torch.Generator().manual_seed(derive_seed("prior", self.seed, i))
        return torch.randn(self.shape, generator=g)

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``n`` samples in one call, ``[n, *shape]`` float32."""
        return torch.randn(n, *self.shape, generator=generator)

    def __repr__(self) -> str:
        return f"GaussianPrior({self.shape}, seed={self.seed}, dim={math.prod(self.shape)})"
