"""Networks for attribute removal and insertion (``f: A -> B × C``, ``g: B × C -> A``).

Removing a skin tone from an emoji is a recolouring of flat colours: each pixel's new
colour depends mostly on its old colour. So both image maps are *mostly per pixel*
(1×1 convolutions, one small spatial layer for context such as hair next to skin) and
start at the identity (``clamp(x + body(x))``, last layer zero), so that they edit
only where the adversarial loss demands it. ``g`` sees the code ``z`` broadcast to
every pixel (8 extra channels): one colour map per code. ``f``'s code is global (a
small convolutional encoder, global average pooling, a linear map to ``R^code``).
"""

from __future__ import annotations

import torch
from torch import nn


def pixel_body(c_in: int, c_out: int, width: int, kernel: int) -> nn.Sequential:
    """1×1, then one ``kernel``×``kernel`` layer, then 1×1 (zero-initialised) convolutions."""
    body = nn.Sequential(
        nn.Conv2d(c_in, width, 1), nn.LeakyReLU(0.2),
        nn.Conv2d(width, width, kernel, padding=kernel // 2), nn.LeakyReLU(0.2),
        nn.Conv2d(width, width, 1), nn.LeakyReLU(0.2),
        nn.Conv2d(width, c_out, 1))
    nn.init.zeros_(body[-1].weight)
    nn.init.zeros_(body[-1].bias)
    return body


def encoder(channels: int, code: int, width: int) -> nn.Sequential:
    """Image → ``R^code``: two stride-2 convolutions, global average pooling, a linear map."""
    return nn.Sequential(
        nn.Conv2d(channels, width, 3, 1, 1), nn.LeakyReLU(0.2),
        nn.Conv2d(width, 2 * width, 4, 2, 1), nn.LeakyReLU(0.2),
        nn.Conv2d(2 * width, 2 * width, 4, 2, 1), nn.LeakyReLU(0.2),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(2 * width, code))


class Remover(nn.Module):
    """``x ↦ (clamp(x + body(x ‖ c)), c)`` with ``c = encoder(x)``: the attribute's code,
    and the image with it removed. With ``conditioned`` the per-pixel body sees the code
    (broadcast), so the colour map it applies can depend on the tone it found (black
    hair of one tone, black clothes of another), and it can undo a colour map of ``g``
    that depended on ``z``; without, the body sees the pixel only."""

    def __init__(self, channels: int = 3, code: int = 8, width: int = 32, kernel: int = 3,
                 conditioned: bool = False):
        super().__init__()
        self.conditioned = conditioned
        self.body = pixel_body(channels + code * conditioned, channels, width, kernel)
        self.encoder = encoder(channels, code, width // 2)

    def forward(self, x):
        c = self.encoder(x)
        inp = torch.cat([x, broadcast(c, x)], dim=1) if self.conditioned else x
        return (x + self.body(inp)).clamp(-1, 1), c


class Inserter(nn.Module):
    """``(b, z) ↦ clamp(b + body(b ‖ z))``, ``z`` broadcast to every pixel.

    With ``gated`` the change is ``sigmoid(gate(b)) · body(b ‖ z)``: *where* ``g`` edits
    depends on the base alone, the same for every code, so a code cannot recolour a
    background that real tones leave alone (the ``f.g`` equation keeps it unchanged for
    the codes of real emoji, and the gate carries that to every ``z``).
    """

    def __init__(self, channels: int = 3, code: int = 8, width: int = 32, kernel: int = 3,
                 gated: bool = False):
        super().__init__()
        self.body = pixel_body(channels + code, channels, width, kernel)
        self.gate = gate_body(channels, width) if gated else None

    def forward(self, b, z):
        delta = self.body(torch.cat([b, broadcast(z, b)], dim=1))
        if self.gate is not None:
            delta = torch.sigmoid(self.gate(b)) * delta
        return (b + delta).clamp(-1, 1)


def gate_body(channels: int, width: int) -> nn.Sequential:
    """Per pixel (1×1): a base's colour → the logit of how much ``g`` may change it."""
    return nn.Sequential(nn.Conv2d(channels, width, 1), nn.LeakyReLU(0.2),
                         nn.Conv2d(width, 1, 1))


def broadcast(code: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """``[n, d]`` → ``[n, d, h, w]``: the code at every pixel of ``like``."""
    return code[:, :, None, None].expand(-1, -1, *like.shape[2:])


def code_critic(code: int = 8, width: int = 64) -> nn.Module:
    """An MLP critic on the code space."""
    return nn.Sequential(nn.Linear(code, width), nn.LeakyReLU(0.2),
                         nn.Linear(width, width), nn.LeakyReLU(0.2), nn.Linear(width, 1))
