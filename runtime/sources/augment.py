"""``Augment``: light, seeded image augmentation (random shift, horizontal flip)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from . import args


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
        # normalised in place (a numpy int becomes an int); frozen, hence object.__setattr__
        object.__setattr__(self, "shift", args.whole("Augment", "shift", self.shift, low=0))
        args.flag("Augment", "flip", self.flip)

    def __call__(self, x: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        if x.dim() == 3:
            return self(x[None], generator)[0]
        if x.dim() != 4 or (self.shift == 0 and not self.flip):
            return x
        B, C, H, W = x.shape
        s = self.shift
        mode = "reflect" if s < min(H, W) else "replicate"
        padded = F.pad(x, (s, s, s, s), mode=mode) if s else x
        Wp = W + 2 * s
        off = torch.randint(0, 2 * s + 1, (B, 2), generator=generator)
        ar = torch.arange(W)
        cols = off[:, 1, None] + ar
        if self.flip:  # read the window right to left
            flip = torch.rand(B, generator=generator) < 0.5
            cols = torch.where(flip[:, None], off[:, 1, None] + (W - 1 - ar), cols)
        rows = off[:, 0, None] + torch.arange(H)
        idx = (rows[:, :, None] * Wp + cols[:, None, :]).view(B, 1, H * W).expand(B, C, H * W)
        return padded.reshape(B, C, -1).gather(2, idx).view(B, C, H, W)
