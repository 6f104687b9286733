"""The equalizer schema on circle images: f learns to draw where two given maps h, g agree.

Objects: ``Plain`` — 32×32 images of one colour X; ``Circle`` — a background of colour X
with a circle of fixed size and position of colour Y (X and Y independent, uniform in
[-1, 1]³); ``Disc`` — a disc of one colour where the circle is, 0 elsewhere. The arrows
``h, g : Circle -> Disc`` are *given*, not learned (the seed: "given two networks
h, g : B → C, find the subset B' of B on which they agree"): ``h`` keeps the pixels
inside the circle, ``g`` paints that disc with the complement of the background colour
(−X). Their equalizer is the set E of circle images whose circle is, pixel by pixel, the
complement of their background. The one learned arrow ``f : Plain -> Circle`` must land
on Circle's data (its adversarial loss) and, by the equation ``f.h = f.g``, in E.

The seed's schema alone does not say which map into E: any one will do, and training
finds a constant one (measured: every input drawn as the same cyan image with a red
circle — equalizer residual 0.006, but 5× the identity's error). So the schema has one
more given arrow, ``back : Circle -> Plain`` (the background's pixels, the circle filled
with the background's mean colour), and the equation ``f.back = id(Plain)``: f keeps
its input as background. The two equations pin f down except on the circle's two-pixel
rim, which the adversarial loss draws: X ↦ the circle of colour −X on X. On held-out
plain images the evaluation measures f's distance to that map, each equation's residual
(mean absolute difference over the pixels the equation constrains) and how far f's
images are from clean circle images.
"""

from __future__ import annotations

import torch
from torch import nn

from category import Schema
from compiler import Euclid, Functor
from runtime.report.measures import per_input_mae, worst_decile_ratio
from runtime.sources import TensorSource, draw_circles

from . import schema_file
from .experiment import Experiment, Options, WorstInputs
from .nets import PlaceEdit, patch_critic

SIZE, RADIUS = 32, 8.0
CENTER = (SIZE / 2, SIZE / 2)


def schema() -> Schema:
    return schema_file("equalizer_circles")


def disc(inner: bool, margin: float = 1.0) -> torch.Tensor:
    """``[1, 1, SIZE, SIZE]`` mask: the pixels well inside the circle, or well outside it."""
    pix = torch.arange(SIZE, dtype=torch.float32) + 0.5
    d = ((pix[None, :] - CENTER[0]) ** 2 + (pix[:, None] - CENTER[1]) ** 2).sqrt()
    mask = d < RADIUS - margin if inner else d > RADIUS + margin
    return mask.float()[None, None]


def region_mean(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """``[n, c, 1, 1]``: the mean colour of the pixels under ``mask``."""
    return (x * mask).sum((2, 3), keepdim=True) / mask.sum()


class Inside(nn.Module):
    """Given ``h``: the pixels well inside the circle, 0 elsewhere."""

    def __init__(self):
        super().__init__()
        self.register_buffer("inner", disc(True))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.inner


class ComplementInside(nn.Module):
    """Given ``g``: the circle's disc painted with the complement of the background colour."""

    def __init__(self):
        super().__init__()
        self.register_buffer("inner", disc(True))
        self.register_buffer("outer", disc(False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return -region_mean(x, self.outer) * self.inner


class Background(nn.Module):
    """Given ``back``: the pixels well outside the circle, the rest filled with their mean."""

    def __init__(self):
        super().__init__()
        self.register_buffer("outer", disc(False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.outer + region_mean(x, self.outer) * (1 - self.outer)


def region_error(a: torch.Tensor, b: torch.Tensor, mask: torch.Tensor) -> float:
    """Mean absolute difference over the pixels under ``mask`` (every channel)."""
    return ((a - b).abs() * mask).sum().item() / (mask.sum().item() * a.shape[0] * a.shape[1])


def circle_images(background: torch.Tensor, foreground: torch.Tensor) -> torch.Tensor:
    n = len(background)
    return draw_circles(torch.tensor([CENTER]).expand(n, 2), torch.full((n,), RADIUS),
                        foreground, background, SIZE)


def plain(colour: torch.Tensor) -> torch.Tensor:
    return colour[:, :, None, None].expand(-1, -1, SIZE, SIZE).contiguous()


def build(options: Options) -> Experiment:
    S = schema()
    P, B, C = S["Plain"], S["Circle"], S["Disc"]
    gen = torch.Generator().manual_seed(1000 + options.seed)
    colours = lambda n: torch.rand(n, 3, generator=gen) * 2 - 1  # noqa: E731
    n, n_test = 4096, 256
    data = {P: TensorSource(plain(colours(n)).to(options.device)),
            B: TensorSource(circle_images(colours(n), colours(n)).to(options.device)),
            C: TensorSource((plain(colours(n)) * disc(True)).to(options.device))}
    held_colour = colours(n_test)
    held = plain(held_colour).to(options.device)
    truth = circle_images(held_colour, -held_colour).to(options.device)
    space = Euclid(3, SIZE, SIZE)
    inner, outer = (disc(k).to(options.device) for k in (True, False))
    h, g, back = Inside(), ComplementInside(), Background()
    F = Functor(S, ob={P: space, B: space, C: space},
                ar={"f": PlaceEdit(3, SIZE),
                    "h": h, "g": g, "back": back})
    critics = {ob: patch_critic(3) for ob in (P, B, C)}

    def evaluate(program) -> dict[str, dict[str, float]]:
        f = F.modules[S["f"]]
        with torch.no_grad():
            out = f(held)
            fg, bg = region_mean(out, inner)[:, :, 0, 0], region_mean(out, outer)[:, :, 0, 0]
            real = data[B].tensor[:n_test]
            errors, identity = per_input_mae(out, truth), per_input_mae(held, truth)
            mae, base = errors.mean().item(), identity.mean().item()
            return {
                "f": {"mae": mae, "identity_mae": base, "ratio": mae / base,
                      "worst_decile_ratio": worst_decile_ratio(errors, identity)},
                "equalizer": {"residual": region_error(h(out), g(out), inner),
                              "identity_residual": region_error(h(held), g(held), inner),
                              "data_residual": region_error(h(real), g(real), inner)},
                "f.back": {"residual": region_error(back(out), held, outer)},
                "circle": {"shape_error": (out - circle_images(bg, fg)).abs().mean().item(),
                           "background_error": (bg - held_colour.to(bg)).abs().mean().item()},
            }

    def worst(program, n: int) -> dict:
        """The held-out plain images whose equalizer circle ``f`` draws worst (the per-image
        MAE of ``evaluate``'s worst decile), with that circle."""
        with torch.no_grad():
            out = F.modules[S["f"]](held)
        return {P: WorstInputs.ranked("f's MAE", per_input_mae(out, truth), held,
                                      [("truth: the equalizer's circle", truth)], n)}

    return Experiment(
        functor=F, critics=critics, data=data, evaluate=evaluate, worst=worst,
        # the equations' L1 is a mean over every pixel, a tenth of which they constrain
        compile={"adversarial": "lsgan", "distance": "l1", "equation_weight": 100.0,
                 "lr": 5e-4, "betas": (0.5, 0.999)},
        train={"steps": 1200, "batch_size": 16, "decay_from": 0.5},
        samples={P: held[:8], B: data[B].tensor[:8]},
        references={P: [("truth: the equalizer's circle", truth[:8])]},
        description=__doc__.splitlines()[0])
