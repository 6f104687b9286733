"""Networks for any pair of spaces: what a schema file's arrows and critics are made of.

Each class maps one kind of space to another at any size (images ``[C, H, W]``, vectors
of any shape, flattened inside). ``width`` is the base number of channels (or a fourth
of an MLP's hidden units); images are in [-1, 1] (outputs end in ``tanh`` or a clamp),
vectors are unbounded. Which class an arrow gets is decided by :mod:`.networks`.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .nets import IdentityStartGenerator, MinibatchStd, PixelNorm, ResidualBlock, patch_critic

Shape = tuple[int, ...]


def downsamplings(h: int, w: int, most: int = 3) -> int:
    """How many stride-2 steps an image of ``h × w`` takes and stays at least 4 px."""
    return max(0, min(most, int(math.log2(min(h, w) / 4))))


class AnySizeIdentityStart(IdentityStartGenerator):
    """The built-ins' identity-start residual generator (``clamp(x + body(x))``), for any
    image size: on an odd side the body's output is resized back to the input's."""

    def forward(self, x):
        d = self.body(x)
        if d.shape[-2:] != x.shape[-2:]:
            d = F.interpolate(d, size=x.shape[-2:], mode="bilinear", align_corners=False)
        return (x + d).clamp(-1, 1)


class Resampler(nn.Module):
    """Image → image of another size or channels: a convolutional encoder (down by two
    where the image allows), residual blocks, resampled to the output's size, and a
    convolutional decoder to its channels (``tanh``)."""

    def __init__(self, dom: Shape, cod: Shape, width: int = 32, blocks: int = 2):
        super().__init__()
        down = downsamplings(*dom[1:], most=1)
        self.size = tuple(cod[1:])
        self.encode = nn.Sequential(
            nn.Conv2d(dom[0], width, 3, padding=1), nn.LeakyReLU(0.2),
            *([nn.Conv2d(width, 2 * width, 4, 2, 1)] if down else
              [nn.Conv2d(width, 2 * width, 3, padding=1)]),
            nn.InstanceNorm2d(2 * width, affine=True), nn.LeakyReLU(0.2),
            *[ResidualBlock(2 * width) for _ in range(blocks)])
        self.decode = nn.Sequential(
            nn.Conv2d(2 * width, width, 3, padding=1), nn.LeakyReLU(0.2),
            nn.Conv2d(width, cod[0], 3, padding=1), nn.Tanh())

    def forward(self, x):
        h = F.interpolate(self.encode(x), size=self.size, mode="bilinear", align_corners=False)
        return self.decode(h)


class Upsampler(nn.Module):
    """Vector → image (a GAN's generator): a linear map to a small grid, transposed
    convolutions doubling it (``PixelNorm``, as the built-in GAN), ``tanh``."""

    def __init__(self, dom: Shape, cod: Shape, width: int = 32):
        super().__init__()
        c, h, w = cod
        ups = downsamplings(h, w)
        self.size = (h, w)
        self.start = (math.ceil(h / 2 ** ups), math.ceil(w / 2 ** ups))
        chans = [max(width, 4 * width // 2 ** k) for k in range(ups + 1)]
        self.chans = chans[0]
        self.stem = nn.Linear(math.prod(dom), chans[0] * self.start[0] * self.start[1])
        layers: list[nn.Module] = [PixelNorm(), nn.LeakyReLU(0.2)]
        for a, b in zip(chans, chans[1:]):
            layers += [nn.ConvTranspose2d(a, b, 4, 2, 1), PixelNorm(), nn.LeakyReLU(0.2)]
        layers += [nn.Conv2d(chans[-1], c, 3, padding=1), nn.Tanh()]
        self.body = nn.Sequential(*layers)

    def forward(self, z):
        x = self.body(self.stem(z.flatten(1)).view(-1, self.chans, *self.start))
        if x.shape[-2:] != self.size:  # a side that is no power of two times the start
            x = F.interpolate(x, size=self.size, mode="bilinear", align_corners=False)
        return x


class ConvEncoder(nn.Module):
    """Image → vector: stride-2 convolutions, global average pooling, a linear map."""

    def __init__(self, dom: Shape, cod: Shape, width: int = 32):
        super().__init__()
        down = downsamplings(*dom[1:])
        layers: list[nn.Module] = [nn.Conv2d(dom[0], width, 3, padding=1), nn.LeakyReLU(0.2)]
        chans = width
        for _ in range(down):
            layers += [nn.Conv2d(chans, 2 * chans, 4, 2, 1), nn.LeakyReLU(0.2)]
            chans *= 2
        layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(chans, math.prod(cod))]
        self.body = nn.Sequential(*layers)
        self.cod = tuple(cod)

    def forward(self, x):
        return self.body(x).view(-1, *self.cod)


class ResidualMLP(nn.Module):
    """Vector → vector: a linear map in, residual blocks, a linear map out; between
    equal spaces it starts at the identity (``x + out(…)``, the last layer zero)."""

    def __init__(self, dom: Shape, cod: Shape, width: int = 32, blocks: int = 2):
        super().__init__()
        hidden = 4 * width
        self.inp = nn.Linear(math.prod(dom), hidden)
        self.blocks = nn.ModuleList(nn.Sequential(nn.LeakyReLU(0.2), nn.Linear(hidden, hidden),
                                                  nn.LeakyReLU(0.2), nn.Linear(hidden, hidden))
                                    for _ in range(blocks))
        self.out = nn.Sequential(nn.LeakyReLU(0.2), nn.Linear(hidden, math.prod(cod)))
        self.residual, self.cod = tuple(dom) == tuple(cod), tuple(cod)
        if self.residual:
            nn.init.zeros_(self.out[-1].weight)
            nn.init.zeros_(self.out[-1].bias)

    def forward(self, x):
        h = self.inp(x.flatten(1))
        for block in self.blocks:
            h = h + block(h)
        y = self.out(h).view(-1, *self.cod)
        return x + y if self.residual else y


class ProductNet(nn.Module):
    """Between products (or a product and a plain space): a head per input factor into a
    shared trunk, a head per output factor out of it.

    With an image among the factors the trunk is a feature map at the size of the first
    output image (else the first input image): an input image is resized to it and read
    by a convolution, an input vector is mapped to features at every position; an output
    image is a convolution resized to its size, an output vector the pooled features
    through a linear map. Without images the trunk is an MLP. An output factor shaped
    like an input factor starts at that input (its head zero: ``clamp(x + head)`` for an
    image), so that removing or adding an attribute starts from changing nothing.
    """

    def __init__(self, dom: tuple[Shape, ...], cod: tuple[Shape, ...], width: int = 32,
                 blocks: int = 2):
        super().__init__()
        self.dom, self.cod = tuple(map(tuple, dom)), tuple(map(tuple, cod))
        images = [s for s in (*self.cod, *self.dom) if is_image(s)]
        self.grid = tuple(images[0][1:]) if images else None
        feat = width if self.grid else 4 * width
        self.inputs = nn.ModuleList(
            nn.Conv2d(s[0], feat, 3, padding=1) if self.grid and is_image(s)
            else nn.Linear(math.prod(s), feat) for s in self.dom)
        if self.grid:
            self.trunk = nn.Sequential(nn.LeakyReLU(0.2),
                                       *[ResidualBlock(feat) for _ in range(blocks)])
        else:
            self.trunk = nn.Sequential(*[m for _ in range(blocks) for m in
                                         (nn.LeakyReLU(0.2), nn.Linear(feat, feat))],
                                       nn.LeakyReLU(0.2))
        self.outputs = nn.ModuleList(
            nn.Conv2d(feat, s[0], 3, padding=1) if self.grid and is_image(s)
            else nn.Sequential(*([nn.AdaptiveAvgPool2d(1), nn.Flatten()] if self.grid else []),
                               nn.Linear(feat, math.prod(s)))
            for s in self.cod)
        # each output factor's identity start: the first input factor of its shape
        self.start = [self.dom.index(s) if s in self.dom else -1 for s in self.cod]
        for head, k in zip(self.outputs, self.start):
            if k >= 0:
                last = head if isinstance(head, nn.Conv2d) else head[-1]
                nn.init.zeros_(last.weight)
                nn.init.zeros_(last.bias)

    def forward(self, *xs):
        h = 0
        for x, s, head in zip(xs, self.dom, self.inputs):
            if self.grid and is_image(s):
                if tuple(x.shape[-2:]) != self.grid:
                    x = F.interpolate(x, size=self.grid, mode="bilinear", align_corners=False)
                h = h + head(x)
            elif self.grid:
                h = h + head(x.flatten(1))[:, :, None, None]
            else:
                h = h + head(x.flatten(1))
        h = self.trunk(h)
        out = []
        for s, head, k in zip(self.cod, self.outputs, self.start):
            y = head(h)
            if self.grid and is_image(s):
                if tuple(y.shape[-2:]) != tuple(s[1:]):
                    y = F.interpolate(y, size=s[1:], mode="bilinear", align_corners=False)
                y = (xs[k] + y).clamp(-1, 1) if k >= 0 else torch.tanh(y)
            else:
                y = y.view(-1, *s)
                y = xs[k] + y if k >= 0 else y
            out.append(y)
        return tuple(out) if len(out) > 1 else out[0]


def is_image(shape: Shape) -> bool:
    """A shape read as an image: ``[C, H, W]`` with sides of at least 4 pixels."""
    return len(shape) == 3 and min(shape[1:]) >= 4


def image_critic(shape: Shape, width: int = 32) -> nn.Module:
    """A PatchGAN critic (the built-ins'), or for images under 8 px two plain
    convolutions; with the batch's spread as a channel (``MinibatchStd``) below 8 px."""
    c, h, w = shape
    if min(h, w) >= 8:
        return patch_critic(c, width)
    return nn.Sequential(nn.Conv2d(c, width, 3, padding=1), nn.LeakyReLU(0.2),
                         MinibatchStd(), nn.Conv2d(width + 1, 1, 3, padding=1))


class VectorCritic(nn.Module):
    """An MLP critic on (flattened) vectors."""

    def __init__(self, shape: Shape, width: int = 32):
        super().__init__()
        hidden = 2 * width
        self.body = nn.Sequential(nn.Linear(math.prod(shape), hidden), nn.LeakyReLU(0.2),
                                  nn.Linear(hidden, hidden), nn.LeakyReLU(0.2),
                                  nn.Linear(hidden, 1))

    def forward(self, x):
        return self.body(x.flatten(1))
