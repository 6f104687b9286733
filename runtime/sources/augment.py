"""``Augment``: light, seeded image augmentation (random shift, horizontal flip)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class Augment:
    """Shift each image by up to ``shift`` pixels each way (reflect-padded), and flip it
    horizontally with probability 1/2 when ``flip``; per sample, from ``generator``.

    Applies to images (``[C, H, W]`` samples, ``[B, C, H, W]`` batches); other tensors
    pass unchanged.

    >>> x = torch.arange(16.).view(1, 1, 4, 4)
    >>> y = Augment(shift=1, flip=True)(x, torch.Generator().manual_seed(0))
    >>> y.shape == x.shape, Augment(shift=0)(x, None) is x
    (True, True)
    """

    shift: int = 2
    flip: bool = False

    def __post_init__(self):
        if not isinstance(self.shift, int) or self.shift < 0:
            raise ValueError(f"Augment shift must be an int >= 0, got {self.shift!r}")

    def __call__(self, x: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        if x.dim() == 3:
            return self(x[None], generator)[0]
        if x.dim() != 4 or (self.shift == 0 and not self.flip):
            return x
        B, _, H, W = x.shape
        if self.flip:
            flip = torch.rand(B, generator=generator) < 0.5
            x = torch.where(flip[:, None, None, None], x.flip(-1), x)
        s = self.shift
        if s:
            mode = "reflect" if s < min(H, W) else "replicate"
            padded = F.pad(x, (s, s, s, s), mode=mode)
            off = torch.randint(0, 2 * s + 1, (B, 2), generator=generator)
            rows = (off[:, 0, None] + torch.arange(H))[:, :, None]      # [B, H, 1]
            cols = (off[:, 1, None] + torch.arange(W))[:, None, :]      # [B, 1, W]
            b = torch.arange(B)[:, None, None]
            x = padded.permute(0, 2, 3, 1)[b, rows, cols].permute(0, 3, 1, 2).contiguous()
        return x
