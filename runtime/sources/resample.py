"""``resample``: a batch of images ``[N, C, H, W]`` in [-1, 1] brought to another size or
number of channels — what ``ImageFolder(size=, channels=)`` does with Pillow, for images
that are already tensors (a tensor file, a built-in source).

>>> x = torch.linspace(-1, 1, 2 * 3 * 8 * 8).view(2, 3, 8, 8)
>>> tuple(resample(x, size=(4, 4), channels=1).shape), tuple(resample(x, channels=4).shape)
((2, 1, 4, 4), (2, 4, 8, 8))
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from . import args

LUMA = (0.299, 0.587, 0.114)  # ITU-R 601, as Pillow's convert("L")


def resample(x: torch.Tensor, size: tuple[int, int] | None = None, channels: int | None = None,
             background: tuple[int, int, int] = (255, 255, 255)) -> torch.Tensor:
    """``x`` resized (bicubic, antialiased) to ``size`` and converted to ``channels``:
    grey is repeated into colour, colour is weighed into grey (as Pillow does), an alpha
    channel is composited on ``background`` (RGB, 0..255) when dropped and is opaque
    when added. None keeps the size or channels."""
    if x.dim() != 4:
        args.refuse("resample", "x", "images [N, C, H, W]", x)
    if channels is not None and channels != x.shape[1]:
        x = _channels(x, args.choice("resample", "channels", channels, (1, 3, 4)), background)
    if size is not None and tuple(x.shape[-2:]) != tuple(size):
        x = F.interpolate(x, size=tuple(size), mode="bicubic", antialias=True,
                          align_corners=False).clamp(-1, 1)
    return x


def _channels(x: torch.Tensor, channels: int, background: tuple[int, int, int]) -> torch.Tensor:
    c = x.shape[1]
    if c not in (1, 3, 4):
        args.refuse("resample", "images", "1 (grey), 3 (RGB) or 4 (RGBA) channels",
                    f"{c} channels")
    colour, alpha = (x[:, :3] if c >= 3 else x.expand(-1, 3, -1, -1)), (
        x[:, 3:] if c == 4 else None)
    if channels == 4:
        opaque = torch.ones_like(x[:, :1]) if alpha is None else alpha
        return torch.cat([colour, opaque], 1)
    if alpha is not None:  # composited on the background, as ImageFolder does
        a = (alpha + 1) / 2
        ground = torch.tensor(background, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
        colour = a * colour + (1 - a) * (ground * (2 / 255) - 1)
    if channels == 3:
        return colour.contiguous()
    weights = torch.tensor(LUMA, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
    return (colour * weights).sum(1, keepdim=True)
