"""``circles``: a coloured circle on a coloured background, with its parameters."""

from __future__ import annotations

from collections.abc import Mapping

import torch

from ..errors import SourceError
from . import args
from .tensor import TensorSource

PARAMS = ("background", "center", "foreground", "radius")  # draw_circles' tensor arguments


def draw_circles(center: torch.Tensor, radius: torch.Tensor, foreground: torch.Tensor,
                 background: torch.Tensor, size: int) -> torch.Tensor:
    """``[n, 3, size, size]`` images: circle ``k`` at ``center[k]`` (x, y in pixels) of
    ``radius[k]`` pixels, colour ``foreground[k]`` on ``background[k]`` (RGB in [-1, 1]);
    edges antialiased over one pixel.

    >>> x = draw_circles(torch.tensor([[4., 4.]]), torch.tensor([2.]),
    ...                  torch.ones(1, 3), -torch.ones(1, 3), 8)
    >>> x.shape, float(x[0, 0, 4, 4]), float(x[0, 0, 0, 0])
    (torch.Size([1, 3, 8, 8]), 1.0, -1.0)
    """
    pix = torch.arange(size, dtype=torch.float32) + 0.5
    dx = pix[None, None, :] - center[:, 0, None, None]
    dy = pix[None, :, None] - center[:, 1, None, None]
    alpha = (radius[:, None, None] - (dx * dx + dy * dy).sqrt() + 0.5).clamp(0, 1)[:, None]
    return background[:, :, None, None] + alpha * (foreground - background)[:, :, None, None]


class Circles(TensorSource):
    """Rendered circles; ``.params`` holds each one's ``center`` ([n, 2], x and y in
    pixels), ``radius`` ([n], pixels), ``foreground`` and ``background`` ([n, 3], RGB in
    [-1, 1]), so that ``draw_circles(**{**c.params, "background": other}, size=c.size)``
    draws the same circles on other backgrounds."""

    def __init__(self, params: dict[str, torch.Tensor], size: int):
        size = args.whole("Circles", "size", size, low=1)
        if not isinstance(params, Mapping) or sorted(params) != list(PARAMS) or not all(
                isinstance(v, torch.Tensor) for v in params.values()):
            came = (f"a dict with keys {', '.join(map(str, params))}"
                    if isinstance(params, Mapping) else args.got(params))
            raise SourceError(f"Circles: params must be a dict of tensors with keys "
                              f"{', '.join(PARAMS)} (as circles() makes), got {came}")
        super().__init__(draw_circles(**params, size=size))
        self.params, self.size = params, size


def radius_range(radius: object) -> tuple[float, float]:
    """``radius`` as ``(lo, hi)``, fractions of the size with ``0 < lo <= hi < 0.5``."""
    if not (isinstance(radius, (tuple, list)) and len(radius) == 2
            and all(args.is_real(r) for r in radius) and 0 < radius[0] <= radius[1] < 0.5):
        args.refuse("circles", "radius", "a pair (lo, hi) of fractions of size with "
                    "0 < lo <= hi < 0.5", radius)
    return float(radius[0]), float(radius[1])


def circles(n: int, size: int = 32, seed: int = 0,
            radius: tuple[float, float] = (0.15, 0.35)) -> Circles:
    """``n`` images ``[3, size, size]`` in [-1, 1]: one circle each, from a seeded generator.

    The radius is uniform in ``radius`` (fractions of ``size``), the centre uniform over
    the positions that keep the whole circle inside, both colours uniform in [-1, 1]^3.

    >>> a, b = circles(4, seed=1), circles(4, seed=1)
    >>> bool((a.tensor == b.tensor).all()), sorted(a.params)
    (True, ['background', 'center', 'foreground', 'radius'])
    """
    n = args.whole("circles", "n", n, low=1)
    size = args.whole("circles", "size", size, low=1)
    seed = args.whole("circles", "seed", seed)
    lo, hi = radius_range(radius)
    g = torch.Generator().manual_seed(seed)
    r = (lo + (hi - lo) * torch.rand(n, generator=g)) * size
    center = r[:, None] + torch.rand(n, 2, generator=g) * (size - 2 * r[:, None])
    fg = torch.rand(n, 3, generator=g) * 2 - 1
    bg = torch.rand(n, 3, generator=g) * 2 - 1
    params = {"center": center, "radius": r, "foreground": fg, "background": bg}
    return Circles(params, size)
