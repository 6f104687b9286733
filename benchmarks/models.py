"""Model definitions shared by the benchmarks (written once, used by every variant).

``ResnetGenerator`` and ``PatchCritic`` follow the reference CycleGAN code
(Zhu et al., pytorch-CycleGAN-and-pix2pix): a 7×7 stem, two stride-2 down-sampling
convolutions, residual blocks, two transposed-convolution up-sampling layers, a 7×7
head and ``tanh``; instance norm throughout. ``MLP`` is the small arrow / critic of the
many-arrows benchmark (``mlp``: an ``nn.Sequential``; ``MLP``: the same network as a
module class).
"""

from __future__ import annotations

from torch import Tensor, nn

__all__ = ["MLP", "PatchCritic", "ResnetBlock", "ResnetGenerator", "mlp"]


class ResnetBlock(nn.Module):
    """Two reflection-padded 3×3 convolutions with instance norm and a skip connection."""

    def __init__(self, channels: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3), nn.InstanceNorm2d(channels),
            nn.ReLU(inplace=True),
            nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3), nn.InstanceNorm2d(channels),
        )

    def forward(self, x: Tensor) -> Tensor:
        return x + self.body(x)


class ResnetGenerator(nn.Module):
    """CycleGAN's residual generator: image (C×H×W) to image of the same shape."""

    def __init__(self, channels: int = 3, width: int = 32, blocks: int = 4):
        super().__init__()
        w = width
        layers: list[nn.Module] = [
            nn.ReflectionPad2d(3), nn.Conv2d(channels, w, 7), nn.InstanceNorm2d(w),
            nn.ReLU(inplace=True),
        ]
        for mult in (1, 2):  # down-sampling
            layers += [nn.Conv2d(w * mult, w * mult * 2, 3, stride=2, padding=1),
                       nn.InstanceNorm2d(w * mult * 2), nn.ReLU(inplace=True)]
        layers += [ResnetBlock(w * 4) for _ in range(blocks)]
        for mult in (4, 2):  # up-sampling
            layers += [nn.ConvTranspose2d(w * mult, w * mult // 2, 3, stride=2, padding=1,
                                          output_padding=1),
                       nn.InstanceNorm2d(w * mult // 2), nn.ReLU(inplace=True)]
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(w, channels, 7), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


class PatchCritic(nn.Module):
    """PatchGAN critic: stride-2 4×4 convolutions, instance norm, LeakyReLU(0.2); one
    score per patch (``layers=2`` at 32×32 gives a 6×6 map of 34×34-pixel patches)."""

    def __init__(self, channels: int = 3, width: int = 64, layers: int = 2):
        super().__init__()
        mods: list[nn.Module] = [nn.Conv2d(channels, width, 4, stride=2, padding=1),
                                 nn.LeakyReLU(0.2, inplace=True)]
        c = width
        for _ in range(1, layers):
            mods += [nn.Conv2d(c, c * 2, 4, stride=2, padding=1), nn.InstanceNorm2d(c * 2),
                     nn.LeakyReLU(0.2, inplace=True)]
            c *= 2
        mods += [nn.Conv2d(c, c * 2, 4, stride=1, padding=1), nn.InstanceNorm2d(c * 2),
                 nn.LeakyReLU(0.2, inplace=True),
                 nn.Conv2d(c * 2, 1, 4, stride=1, padding=1)]
        self.net = nn.Sequential(*mods)

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


def mlp(d_in: int = 32, hidden: int = 64, d_out: int = 32) -> nn.Sequential:
    """``Linear(d_in, hidden) → SiLU → Linear(hidden, d_out)`` as a plain ``nn.Sequential``."""
    return nn.Sequential(nn.Linear(d_in, hidden), nn.SiLU(), nn.Linear(hidden, d_out))


class MLP(nn.Module):
    """The same network as :func:`mlp`, written as a user-defined module class."""

    def __init__(self, d_in: int = 32, hidden: int = 64, d_out: int = 32):
        super().__init__()
        self.net = mlp(d_in, hidden, d_out)

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)
