"""Small image networks for the built-in experiments.

Generators start at the identity — output ``clamp(x + body(x))`` with the last layer
zero-initialised — because an image-to-image map between related domains (a font and
its bold face) is a small change of its input: from the identity, the adversarial
loss only has to learn the change, and the cycle equations hold from step 0.
"""

from __future__ import annotations

import torch
import torch.nn.functional as nnf
from torch import nn

from compiler import same_architecture


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


def ink_centres(x: torch.Tensor, threshold: float = 0.5) -> tuple[torch.Tensor, torch.Tensor]:
    """The centre of each image's ink bounding box, ``(column, row)``, each ``[N]``, in pixels.

    Ink is the image's brightness above its black (``x`` in [-1, 1], white on black, as the
    glyph sources render); a row or column holds ink where some pixel of it is more than
    ``threshold`` covered (half: the faint specks a generator leaves in the background
    do not stretch the box — at 0.1 they moved the box of a trained triangle's ``ab``
    outputs by 0.6 px on average, a one-off measurement). Sub-pixel: an
    edge pixel's coverage says how much of it the ink fills, so a box edge is placed
    inside its pixel, not on the grid — a glyph renderer places glyphs at finer than a
    pixel, and half a pixel of placement is most of a thin stroke.
    An image without ink has its centre in the middle.

    >>> x = torch.full((1, 1, 8, 8), -1.0)
    >>> x[0, 0, 2:4, 1:6] = 1.0          # full pixels: columns 1..5, rows 2..3
    >>> x[0, 0, 2:4, 6] = 0.5            # three quarters of column 6
    >>> [round(float(c), 2) for c in ink_centres(x)]
    [3.88, 3.0]
    """
    ink = (x + 1) / 2

    def centre(profile: torch.Tensor) -> torch.Tensor:  # [N, L] ink per column (or row)
        length = profile.shape[1]
        index = torch.arange(length, device=x.device, dtype=profile.dtype)
        inked = profile > threshold
        lo = torch.where(inked, index, torch.full_like(index, length)).amin(1)
        hi = torch.where(inked, index, torch.full_like(index, -1)).amax(1)
        found = hi >= lo
        lo, hi = lo.clamp(0, length - 1), hi.clamp(0, length - 1)
        lo_cover = profile.gather(1, lo.long()[:, None])[:, 0]
        hi_cover = profile.gather(1, hi.long()[:, None])[:, 0]
        middle = (lo + 1 - lo_cover + hi + hi_cover) / 2
        return torch.where(found, middle, torch.full_like(middle, length / 2))

    return centre(ink.amax(dim=(1, 2))), centre(ink.amax(dim=(1, 3)))


class WarpThenEdit(nn.Module):
    """``x ↦ edit(warp_θ(x))``: one learned affine map of the image plane, the same for
    every input (``θ``, zero at start: the identity warp), then an
    :class:`IdentityStartGenerator` — the whole the identity at start.

    For a change of geometry (a slant is a shear): an editor of pixels in place can only
    paint a slanted stroke beside the upright one, a warp moves the ink. On
    ``triangle_fonts`` with ``bc`` and ``ac`` warped (``examples/triangle_fonts_warp.py``,
    eager, 1500 steps) both arrows learn a shear from the adversarial loss alone
    (``θ[0][1]`` 0.125 with seed 0, 0.06 with seed 1); what it does to the held-out
    error is in ``benchmarks/README.md`` ("Slant: a warp before the editor").

    ``place=True`` also keeps each image's ink where it was: the map is followed by the
    translation that puts the warped ink's bounding box centre (:func:`ink_centres`) back
    on the input's, folded into the one resampling (two would blur twice). Glyph sources
    centre every glyph by its ink's box, so a slanted glyph's place depends on its shape
    — one map for all glyphs cannot place them, a convolutional editor cannot see
    where, and a patch critic cannot tell. ``benchmarks/bench_warp_bounds.py``: on the
    Bold → Bold Oblique held-out glyphs the best single map reaches 0.69× the identity's
    error, one shear placed per glyph 0.24×, this network's placed shear 0.36×. The
    translation is a function of the image (no parameters, no gradient); at ``θ = 0`` it
    is zero, so the identity start stays.
    """

    def __init__(self, channels: int = 1, place: bool = False, **editor):
        super().__init__()
        self.place = place
        self.theta = nn.Parameter(torch.zeros(2, 3))
        self.edit = IdentityStartGenerator(channels, **editor)

    def warp(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` resampled through the affine map ``id + θ`` (borders extended: the
        background of a glyph is its border), placed back if ``place``."""
        return affine_warp(x, self.theta, self.place)

    def forward(self, x):
        return self.edit(self.warp(x))

    def start_from(self, other: nn.Module) -> bool:
        """Start as ``other`` if it is an editor of this one's architecture: its weights in
        ``edit`` and the identity warp (θ = 0), so this computes what ``other`` does — how a
        warm start along a schema map (:func:`compiler.init_arrow`) seeds a warped arrow
        from a run whose arrow only edits. False, and nothing changed, otherwise."""
        if not same_architecture(self.edit, other):
            return False
        self.edit.load_state_dict(other.state_dict())
        self.theta.zero_()
        return True


class PlacedWarp(nn.Module):
    """``x ↦ warp_θ(x)``, each image placed back by its ink's box: the warp of
    :class:`WarpThenEdit` ``(place=True)`` without the editor — the identity at start.

    For a change that is geometry alone (a slant): it moves ink and never makes or
    erases any, so it cannot take the trivial way out of an equation — on
    ``triangle_fonts`` an editor after ``bc``'s warp can learn to blacken the glyphs
    ``ab`` draws (the critic judges ``bc`` on real Bold glyphs only), and ``ac`` follows
    it into black through ``ab.bc = ac``; a warp cannot (``benchmarks/README.md``,
    "Slant"). ``shear_only=True`` learns one number, the shear ``s`` of ``x ↦ x + s·y``
    (oblique type is its upright face sheared); otherwise the whole map, of which the
    translation is moot (the placing undoes it).
    """

    def __init__(self, shear_only: bool = False):
        super().__init__()
        self.shear_only = shear_only
        self.theta = nn.Parameter(torch.zeros(1) if shear_only else torch.zeros(2, 3))

    @property
    def map(self) -> torch.Tensor:
        """θ as ``[2, 3]`` (``[[0, s, 0], [0, 0, 0]]`` when ``shear_only``)."""
        if self.shear_only:
            return nnf.pad(self.theta.view(1, 1), (1, 1, 0, 1))
        return self.theta

    def forward(self, x):
        return affine_warp(x, self.map, place=True)


def affine_warp(x: torch.Tensor, theta: torch.Tensor, place: bool) -> torch.Tensor:
    """``x`` resampled through the affine map ``id + theta`` (``[2, 3]``, one map for the
    batch; borders extended), then, if ``place``, each image moved so that its ink's box
    centre is the input's again — folded into the one resampling (two would blur twice)."""
    eye = torch.eye(2, 3, device=x.device, dtype=x.dtype)
    maps = (eye + theta).expand(x.shape[0], 2, 3)
    if not place:
        return resample(x, maps)
    with torch.no_grad():  # only measured, for where the ink lands: no graph kept
        warped = resample(x, maps)
    return resample(x, maps + ink_shift(x, warped))


def resample(x: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
    """``x`` through the affine maps ``theta`` (``[N, 2, 3]``, output to input coordinates
    in [-1, 1]), bilinear, borders extended: the background of a glyph is its border."""
    grid = nnf.affine_grid(theta, list(x.shape), align_corners=False)
    return nnf.grid_sample(x, grid, padding_mode="border", align_corners=False)


def ink_shift(before: torch.Tensor, after: torch.Tensor) -> torch.Tensor:
    """The translation, as ``[N, 2, 3]`` affine entries to add, that moves ``after``'s ink box
    centre back onto ``before``'s (:func:`ink_centres`; both measured with the same bias,
    which cancels). Detached: a function of the images, not a parameter."""
    (col0, row0), (col, row) = ink_centres(before.detach()), ink_centres(after.detach())
    height, width = before.shape[-2:]
    # sampling at p + d moves the content by -d: by (col - col0) back onto the input's
    shift = torch.stack([(col - col0) * 2 / width, (row - row0) * 2 / height], dim=1)
    return nnf.pad(shift[:, :, None], (2, 0))


class PlaceEdit(nn.Module):
    """``x ↦ clamp(x + where ⊙ what(x), -1, 1)``: ``where`` is a learned map of the image
    (one weight per pixel, zero at start: the identity), ``what`` recolours each pixel on
    its own (1×1 convolutions).

    For edits at a fixed place of the image (the equalizer's circle): a convolutional
    generator cannot tell places apart, and one that normalises its features loses a
    plain image's colour; here the place and the colour are learned apart. Measured on
    the equalizer's two equations alone (Adam, 5e-4, batch 16): this reaches residual
    0.010 in 500 steps where a per-pixel MLP fed the pixel coordinates stays at 0.10
    after 1,000.
    """

    def __init__(self, channels: int = 3, size: int = 32, width: int = 32):
        super().__init__()
        self.where = nn.Parameter(torch.zeros(1, 1, size, size))
        self.what = nn.Sequential(nn.Conv2d(channels, width, 1), nn.LeakyReLU(0.2),
                                  nn.Conv2d(width, channels, 1))

    def forward(self, x):
        return (x + self.where * self.what(x)).clamp(-1, 1)


class PixelNorm(nn.Module):
    """Each pixel's feature vector scaled to unit mean square (ProGAN): a normalisation
    without statistics, so training and eval mode compute the same thing."""

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(1, keepdim=True) + 1e-8)


class MinibatchStd(nn.Module):
    """One more channel: the batch's standard deviation, averaged over features (ProGAN).

    With it the critic sees how varied a batch is, so a generator that draws the same
    glyph for every latent is told apart from the data: without it, on 167 glyphs, the
    generator collapses to a single character (an ``I``) within a few hundred steps.
    The program scores real and fake batches in separate calls, so they do not mix.
    """

    def forward(self, x):
        std = (x.var(0, unbiased=False) + 1e-8).sqrt().mean()
        return torch.cat([x, std.expand(x.shape[0], 1, *x.shape[2:])], 1)


def patch_critic(channels: int = 1, width: int = 32) -> nn.Module:
    """A PatchGAN critic: one score per 4×4 patch of a 32×32 image (per 8×8 at 64×64…)."""
    return nn.Sequential(
        nn.Conv2d(channels, width, 4, 2, 1), nn.LeakyReLU(0.2),
        nn.Conv2d(width, 2 * width, 4, 2, 1), nn.InstanceNorm2d(2 * width, affine=True),
        nn.LeakyReLU(0.2),
        nn.Conv2d(2 * width, 1, 3, 1, 1))
