"""Small image networks for the built-in experiments.

Generators start at the identity — output ``clamp(x + body(x))`` with the last layer
zero-initialised — because an image-to-image map between related domains (a font and
its bold face) is a small change of its input: from the identity, the adversarial
loss only has to learn the change, and the cycle equations hold from step 0.
"""

from __future__ import annotations

import torch
from torch import nn


class ResidualBlock(nn.Module):
    def __init__(self, width: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(width, width, 3, padding=1), nn.InstanceNorm2d(width, affine=True),
            nn.LeakyReLU(0.2), nn.Conv2d(width, width, 3, padding=1),
            nn.InstanceNorm2d(width, affine=True))

    def forward(self, x):
        return x + self.body(x)


class IdentityStartGenerator(nn.Module):
    """``x ↦ clamp(x + body(x), -1, 1)``: a k×k stem, one stride-2 convolution, residual
    blocks at half resolution, a transposed convolution back, a k×k head (zero at start).

    ``coords=True`` also feeds the body two planes of pixel coordinates (CoordConv), for
    maps that must act at a fixed place of the image, which convolutions alone cannot see.
    """

    def __init__(self, channels: int = 1, width: int = 16, blocks: int = 2, kernel: int = 7,
                 coords: bool = False):
        super().__init__()
        pad = kernel // 2
        self.coords = coords
        self.body = nn.Sequential(
            nn.Conv2d(channels + 2 * coords, width, kernel, padding=pad),
            nn.InstanceNorm2d(width, affine=True), nn.LeakyReLU(0.2),
            nn.Conv2d(width, 2 * width, 4, 2, 1),
            nn.InstanceNorm2d(2 * width, affine=True), nn.LeakyReLU(0.2),
            *[ResidualBlock(2 * width) for _ in range(blocks)],
            nn.ConvTranspose2d(2 * width, width, 4, 2, 1),
            nn.InstanceNorm2d(width, affine=True), nn.LeakyReLU(0.2),
            nn.Conv2d(width, channels, kernel, padding=pad))
        nn.init.zeros_(self.body[-1].weight)
        nn.init.zeros_(self.body[-1].bias)

    def forward(self, x):
        inp = x
        if self.coords:
            n, _, h, w = x.shape
            ys = torch.linspace(-1, 1, h, device=x.device, dtype=x.dtype)
            xs = torch.linspace(-1, 1, w, device=x.device, dtype=x.dtype)
            grid = torch.stack(torch.meshgrid(ys, xs, indexing="ij")).expand(n, 2, h, w)
            inp = torch.cat([x, grid], 1)
        return (x + self.body(inp)).clamp(-1, 1)


def patch_critic(channels: int = 1, width: int = 32) -> nn.Module:
    """A PatchGAN critic: one score per 4×4 patch of a 32×32 image (per 8×8 at 64×64…)."""
    return nn.Sequential(
        nn.Conv2d(channels, width, 4, 2, 1), nn.LeakyReLU(0.2),
        nn.Conv2d(width, 2 * width, 4, 2, 1), nn.InstanceNorm2d(2 * width, affine=True),
        nn.LeakyReLU(0.2),
        nn.Conv2d(2 * width, 1, 3, 1, 1))
