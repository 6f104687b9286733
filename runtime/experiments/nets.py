"""Small image networks for the built-in experiments.

Generators start at the identity — output ``clamp(x + body(x))`` with the last layer
zero-initialised — because an image-to-image map between related domains (a font and
its bold face) is a small change of its input: from the identity, the adversarial
loss only has to learn the change, and the cycle equations hold from step 0.
"""

from __future__ import annotations

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
    blocks at half resolution, a transposed convolution back, a k×k head (zero at start)."""

    def __init__(self, channels: int = 1, width: int = 16, blocks: int = 2, kernel: int = 7):
        super().__init__()
        pad = kernel // 2
        self.body = nn.Sequential(
            nn.Conv2d(channels, width, kernel, padding=pad),
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
        return (x + self.body(x)).clamp(-1, 1)


def patch_critic(channels: int = 1, width: int = 32) -> nn.Module:
    """A PatchGAN critic: one score per 4×4 patch of a 32×32 image (per 8×8 at 64×64…)."""
    return nn.Sequential(
        nn.Conv2d(channels, width, 4, 2, 1), nn.LeakyReLU(0.2),
        nn.Conv2d(width, 2 * width, 4, 2, 1), nn.InstanceNorm2d(2 * width, affine=True),
        nn.LeakyReLU(0.2),
        nn.Conv2d(2 * width, 1, 3, 1, 1))
