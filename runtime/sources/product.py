"""``Product``: the data of a product object, one source per factor, paired by index."""

from __future__ import annotations

import torch
from torch.utils.data import Dataset

from ..errors import SourceError
from . import args
from .prior import UNBOUNDED


def is_unbounded(source: object) -> bool:
    """Whether ``source`` draws fresh samples (a prior) rather than holding a finite set."""
    return callable(getattr(source, "sample", None)) and len(source) >= UNBOUNDED


class Product(Dataset):
    """Sample ``i`` is ``(s[i] for s in sources)``: the factors are paired by index.

    The finite factors must have the same length; an unbounded factor (a prior such
    as :class:`GaussianPrior`) is drawn alongside them.

    >>> from .tensor import TensorSource
    >>> p = Product(TensorSource(torch.arange(3.)), TensorSource(10 * torch.arange(3.)))
    >>> len(p), p[2]
    (3, (tensor(2.), tensor(20.)))
    """

    def __init__(self, *sources: Dataset):
        if len(sources) < 2:
            raise SourceError(f"a Product needs a source per factor (at least two), "
                              f"got {len(sources)}")
        for k, s in enumerate(sources):
            args.dataset("Product", f"factor {k}", s)
        lengths = [len(s) for s in sources]
        finite = {n for s, n in zip(sources, lengths) if not is_unbounded(s)}
        if len(finite) > 1:
            found = ", ".join(f"factor {k}: {n}" for k, n in enumerate(lengths))
            raise SourceError(f"the factors of a Product are paired by index, so their lengths "
                              f"must agree; got {found}")
        self.sources = tuple(sources)
        self._length = finite.pop() if finite else UNBOUNDED

    def __len__(self) -> int:
        return self._length

    def __getitem__(self, i: int) -> tuple[torch.Tensor, ...]:
        return tuple(s[i] for s in self.sources)
