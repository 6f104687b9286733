"""``TensorSource``: the samples of one tensor, along its first dimension."""

from __future__ import annotations

import torch
from torch.utils.data import Dataset

from ..errors import SourceError


class TensorSource(Dataset):
    """Sample ``i`` is ``tensor[i]``; the loader indexes the tensor directly.

    >>> s = TensorSource(torch.zeros(5, 3, 8, 8))
    >>> len(s), tuple(s[0].shape)
    (5, (3, 8, 8))
    """

    def __init__(self, tensor: torch.Tensor):
        if not isinstance(tensor, torch.Tensor):
            hint = (": convert it with torch.from_numpy(x)"
                    if type(tensor).__module__ == "numpy" else "")
            raise SourceError(f"TensorSource needs a torch.Tensor of samples along dim 0, "
                              f"got {type(tensor).__name__}{hint}")
        if tensor.dim() == 0:
            raise SourceError("TensorSource needs samples along dim 0, got a 0-d tensor "
                              f"({tensor.item()!r}); give a tensor of shape (n, ...)")
        if tensor.shape[0] == 0:
            raise SourceError(f"TensorSource got an empty tensor (shape {tuple(tensor.shape)}): "
                              f"there is nothing to sample")
        self.tensor = tensor

    def __len__(self) -> int:
        return self.tensor.shape[0]

    def __getitem__(self, i: int) -> torch.Tensor:
        return self.tensor[i]

    def gather(self, indices: torch.Tensor) -> torch.Tensor:
        """The samples at ``indices`` as one batch (the loader's fast path)."""
        return self.tensor.index_select(0, indices)
