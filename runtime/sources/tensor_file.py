"""``tensor_file``: the samples stored in a ``.npy``, ``.pt`` or ``.safetensors`` file.

The file holds one array or tensor of samples along its first dimension (``N × …``).
Floating-point values are taken as they are (as float32); ``uint8`` values are taken as
8-bit images and scaled to [-1, 1] like :class:`~runtime.sources.ImageFolder`'s; other
integers become float32 unscaled.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file

from ..errors import SourceError
from . import args
from .tensor import TensorSource

SUFFIXES = (".npy", ".pt", ".safetensors")


def tensor_file(path: str | Path) -> TensorSource:
    """The :class:`TensorSource` of the tensor in ``path`` (see the module's docstring)."""
    path = args.path("tensor_file", "path", path)
    if path.suffix.lower() not in SUFFIXES:
        raise SourceError(f"{str(path)!r} is not a tensor file: expected {', '.join(SUFFIXES)}")
    if not path.is_file():
        raise SourceError(f"tensor file {str(path)!r} does not exist")
    try:
        tensor = _read(path)
    except SourceError:
        raise
    except Exception as e:  # noqa: BLE001 - any failure to read is the file's
        raise SourceError(f"cannot read tensor file {str(path)!r}: {type(e).__name__}: "
                          f"{str(e).splitlines()[0] if str(e) else ''}") from None
    if tensor.dim() < 2:
        raise SourceError(f"tensor file {str(path)!r} holds shape {tuple(tensor.shape)}: "
                          f"expected samples along the first dimension (N × …)")
    if tensor.dtype == torch.uint8:
        tensor = tensor.to(torch.float32).mul_(2 / 255).sub_(1)
    elif tensor.dtype == torch.bool or not tensor.is_floating_point():
        tensor = tensor.to(torch.float32)
    return TensorSource(tensor.to(torch.float32).contiguous())


def _read(path: Path) -> torch.Tensor:
    suffix = path.suffix.lower()
    if suffix == ".npy":
        return torch.from_numpy(np.load(path, allow_pickle=False).copy())
    if suffix == ".pt":
        value = torch.load(path, map_location="cpu", weights_only=True)
        if not isinstance(value, torch.Tensor):
            raise SourceError(f"tensor file {str(path)!r} holds a {type(value).__name__}, "
                              f"not one tensor: save the samples with torch.save(tensor, …)")
        return value
    tensors = load_file(str(path))
    if len(tensors) != 1:
        raise SourceError(f"tensor file {str(path)!r} holds {len(tensors)} tensors "
                          f"({', '.join(sorted(tensors)) or 'none'}): keep the samples as "
                          f"the one tensor of the file")
    return next(iter(tensors.values()))
