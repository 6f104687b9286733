"""The equalizer schema on circle images: f learns to draw where two given maps h, g agree.

Objects: ``Plain`` — 32×32 images of one colour X; ``Circle`` — a background of colour X
with a circle of fixed size and position of colour Y (X and Y independent, uniform in
[-1, 1]³); ``Colour`` — images of one colour. The arrows ``h, g : Circle -> Colour``
are *given*, not learned (the seed: "given two networks h, g : B → C, find the subset
B' of B on which they agree"): ``h`` fills the image with the circle's colour, ``g``
with the complement of the background's (−X). Their equalizer is the set E of circle
images whose circle is the complement of their background. The one learned arrow
``f : Plain -> Circle`` must land on Circle's data (its adversarial loss) and, by the
equation ``f.h = f.g``, in E.

The seed's schema alone does not say which map into E: any one will do, and training
finds a constant one (measured: every input drawn as the same cyan image with a red
circle — equalizer residual 0.006, but 5× the identity's error). So the schema has one
more given arrow, ``back : Circle -> Plain`` (the image filled with its background
colour), and the equation ``f.back = id(Plain)``: f keeps its input as background.
Together the two equations pin f down exactly: X ↦ the circle of colour −X on X. On
held-out plain images the evaluation measures f's distance to that map, each equation's
residual and how far f's images are from clean circle images.
"""

from __future__ import annotations

from importlib import resources

import torch
from torch import nn

from category import Schema
from compiler import Euclid, Functor
from runtime.experiment import Experiment, Options
from runtime.sources import TensorSource, draw_circles

from .nets import IdentityStartGenerator, patch_critic

SIZE, RADIUS = 32, 8.0
CENTER = (SIZE / 2, SIZE / 2)


def schema() -> Schema:
    return Schema.parse(resources.files(__package__).joinpath("equalizer_circles.schema")
                        .read_text())


def disc(inner: bool, margin: float = 2.0) -> torch.Tensor:
    """``[1, 1, SIZE, SIZE]`` mask: the pixels well inside the circle, or well outside it."""
    pix = torch.arange(SIZE, dtype=torch.float32) + 0.5
    d = ((pix[None, :] - CENTER[0]) ** 2 + (pix[:, None] - CENTER[1]) ** 2).sqrt()
    mask = d < RADIUS - margin if inner else d > RADIUS + margin
    return mask.float()[None, None]


class FillWith(nn.Module):
    """A given map (no parameters): the image filled with ``sign`` × the mean colour
    of the pixels under ``mask``."""

    def __init__(self, mask: torch.Tensor, sign: float):
        super().__init__()
        self.register_buffer("mask", mask / mask.sum())
        self.sign = sign

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        colour = (x * self.mask).sum((2, 3), keepdim=True)
        return (self.sign * colour).expand_as(x)


def circle_images(background: torch.Tensor, foreground: torch.Tensor) -> torch.Tensor:
    n = len(background)
    return draw_circles(torch.tensor([CENTER]).expand(n, 2), torch.full((n,), RADIUS),
                        foreground, background, SIZE)


def plain(colour: torch.Tensor) -> torch.Tensor:
    return colour[:, :, None, None].expand(-1, -1, SIZE, SIZE).contiguous()


def build(options: Options) -> Experiment:
    S = schema()
    P, B, C = S["Plain"], S["Circle"], S["Colour"]
    gen = torch.Generator().manual_seed(1000 + options.seed)
    colours = lambda n: torch.rand(n, 3, generator=gen) * 2 - 1  # noqa: E731
    n, n_test = 4096, 256
    data = {P: TensorSource(plain(colours(n)).to(options.device)),
            B: TensorSource(circle_images(colours(n), colours(n)).to(options.device)),
            C: TensorSource(plain(colours(n)).to(options.device))}
    held_colour = colours(n_test)
    held = plain(held_colour).to(options.device)
    truth = circle_images(held_colour, -held_colour).to(options.device)
    space = Euclid(3, SIZE, SIZE)
    inner, outer = disc(True), disc(False)
    h, g, back = FillWith(inner, 1.0), FillWith(outer, -1.0), FillWith(outer, 1.0)
    F = Functor(S, ob={P: space, B: space, C: space},
                ar={"f": IdentityStartGenerator(channels=3, coords=True),
                    "h": h, "g": g, "back": back})
    critics = {ob: patch_critic(3) for ob in (P, B, C)}

    def evaluate(program) -> dict[str, dict[str, float]]:
        f = F.modules[S["f"]]
        with torch.no_grad():
            out = f(held)
            fg, bg = h(out)[:, :, 0, 0], back(out)[:, :, 0, 0]
            redrawn = circle_images(bg, fg)
            real = data[B].tensor[:n_test]
            mae = (out - truth).abs().mean().item()
            base = (held - truth).abs().mean().item()
            return {
                "f": {"mae": mae, "identity_mae": base, "ratio": mae / base},
                "equalizer": {"residual": (h(out) - g(out)).abs().mean().item(),
                              "identity_residual": (h(held) - g(held)).abs().mean().item(),
                              "data_residual": (h(real) - g(real)).abs().mean().item()},
                "f.back": {"residual": (back(out) - held).abs().mean().item()},
                "circle": {"shape_error": (out - redrawn).abs().mean().item(),
                           "background_error": (bg - held_colour.to(bg)).abs().mean().item()},
            }

    return Experiment(
        functor=F, critics=critics, data=data, evaluate=evaluate,
        compile={"adversarial": "lsgan", "distance": "l1", "equation_weight": 10.0,
                 "lr": 5e-4, "betas": (0.5, 0.999)},
        train={"steps": 800, "batch_size": 16, "decay_from": 0.5},
        samples={P: held[:8], B: data[B].tensor[:8]},
        references={P: [("truth: the equalizer's circle", truth[:8])]},
        description=__doc__.splitlines()[0])
