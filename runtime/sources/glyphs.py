"""``glyphs``: characters rendered from matplotlib's bundled fonts, paired across fonts.

Glyphs are white (+1) on black (-1), ``[1, size, size]`` float32. Each glyph's ink
bounding box is centred in the image, and all glyphs share one scale (pixels per em),
so relative sizes are kept (``.`` stays small). The scale is the same for every font
(a glyph of :data:`EXTENT` em fits inside the margin) unless a font's largest glyph
would not fit, which shrinks that font's scale. So the same character in two fonts
overlaps as well as the fonts allow: ``glyphs(a)[i]`` and
``glyphs(b)[i]`` are the same character when both fonts have every character of
``chars`` (intersect their ``.chars`` and pass the result as ``chars=`` otherwise).
"""

from __future__ import annotations

import difflib
import functools
import os
import random
import string
from pathlib import Path

import matplotlib
import torch
from fontTools.ttLib import TTFont  # a dependency of matplotlib, so always there
from PIL import Image, ImageDraw, ImageFont

from ..errors import SourceError
from . import args
from .tensor import TensorSource

SUPERSAMPLE = 4  # render at 4x and box-filter down: antialiased, centred to 1/8 px
EXTENT = 1.4  # em: the default scale fits a glyph this large (bold Cyrillic Щ is 1.32 em)


def _span(first: str, last: str, skip: str = "") -> str:
    return "".join(chr(c) for c in range(ord(first), ord(last) + 1) if chr(c) not in skip)


DEFAULT_CHARS = (string.ascii_uppercase + string.ascii_lowercase
                 + _span("Α", "Ω", skip="\u03a2") + _span("α", "ω")
                 + _span("А", "Я") + "Ё" + _span("а", "я") + "ё"
                 + string.digits + string.punctuation)


def font_dir() -> Path:
    """Where matplotlib keeps its bundled TTF fonts."""
    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


def font_names() -> list[str]:
    """The bundled font files, e.g. ``DejaVuSans.ttf``."""
    return sorted(p.name for p in font_dir().glob("*.ttf"))


def font_path(font: str | Path) -> Path:
    """A font file: a path, or the name of one of matplotlib's bundled fonts.

    The file is opened (its character map read) here, so that a file that is not a
    font is refused with its path rather than failing inside fontTools or Pillow.
    """
    p = Path(font)
    if str(p) == p.name and not p.is_file():  # a bare name: a bundled font
        p = font_dir() / p.name
        if not p.is_file():
            raise SourceError(f"unknown font {str(font)!r}{_did_you_mean(str(font))}: give a "
                              f"path to a .ttf or .otf file, or the name of one of "
                              f"matplotlib's fonts (in {font_dir()}): {', '.join(font_names())}")
    elif p.is_dir():
        raise SourceError(f"font {str(font)!r} is a folder: give a .ttf or .otf file in it")
    elif not p.is_file():
        raise SourceError(f"font file {str(font)!r} does not exist: give the path of a .ttf "
                          f"or .otf file, or the name of a bundled font (see font_names())")
    _cmap(str(p))  # raises SourceError unless it is a font
    return p


def _did_you_mean(name: str) -> str:
    close = difflib.get_close_matches(name, font_names(), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


@functools.lru_cache(maxsize=64)
def _cmap(path: str) -> frozenset[int]:
    """The code points the font at ``path`` maps to glyphs; SourceError if it is no font."""
    try:
        with TTFont(path, lazy=True) as f:
            return frozenset(f.getBestCmap() or {})
    except Exception as e:  # TTLibError for another format; struct or key errors if corrupt
        raise SourceError(f"font file {path!r} is not a TrueType or OpenType font, or is "
                          f"damaged ({type(e).__name__}: {e}): give a .ttf or .otf file, or "
                          f"the name of a bundled font (see font_names())") from None


def has_char(path: Path, ch: str) -> bool:
    """Whether the font maps ``ch`` to a glyph of its own (not ``.notdef``)."""
    return ord(ch) in _cmap(str(path))


def check_split(owner: str, split: object, holdout: object,
                seed: object) -> tuple[str | None, float, int]:
    """``(split, holdout, seed)`` checked for ``owner``: a split name, a fraction, an int."""
    return (args.choice(owner, "split", split, ("train", "test", None)),
            args.real(owner, "holdout", holdout, low=0, high=1, open_low=True, open_high=True),
            args.whole(owner, "seed", seed))


def split_chars(chars: str, split: str | None, holdout: float, seed: int) -> set[str]:
    """The characters of ``split``: a seeded shuffle of ``chars``, ``holdout`` in test."""
    split, holdout, seed = check_split("split_chars", split, holdout, seed)
    if split is None:
        return set(chars)
    order = sorted(set(chars))
    random.Random(seed).shuffle(order)
    n_test = max(1, round(holdout * len(order)))
    return set(order[:n_test] if split == "test" else order[n_test:])


def fit_em(path: Path, chars: str, size: int, margin: float) -> float:
    """Pixels per em: the common scale, or less where the largest glyph of ``chars`` needs it."""
    ref = 256
    font = ImageFont.truetype(str(path), ref)
    extent = 0
    for ch in chars:
        x0, y0, x1, y1 = font.getbbox(ch, anchor="ls")
        extent = max(extent, x1 - x0, y1 - y0)
    if extent == 0:
        raise SourceError(f"font {path.name}: none of the characters has any ink")
    return size * (1 - 2 * margin) / max(EXTENT, extent / ref)


@functools.lru_cache(maxsize=16)
def _render(path: str, chars: str, size: int, em: float) -> torch.Tensor:
    """``[n, 1, size, size]`` float32 in [-1, 1]; cached in memory (read-only use)."""
    big = size * SUPERSAMPLE
    font = ImageFont.truetype(path, em * SUPERSAMPLE)
    out = torch.empty(len(chars), 1, size, size)
    work = 3 * big
    for k, ch in enumerate(chars):
        canvas = Image.new("L", (work, work), 0)
        ImageDraw.Draw(canvas).text((work // 3, 2 * work // 3), ch, font=font, fill=255,
                                    anchor="ls")
        box = canvas.getbbox()
        tile = Image.new("L", (big, big), 0)
        if box is not None:
            ink = canvas.crop(box)
            tile.paste(ink, ((big - ink.width) // 2, (big - ink.height) // 2))
        small = tile.reduce(SUPERSAMPLE)
        x = torch.frombuffer(bytearray(small.tobytes()), dtype=torch.uint8)
        out[k, 0] = x.view(size, size).to(torch.float32) * (2 / 255) - 1
    return out


class Glyphs(TensorSource):
    """A set of rendered characters: sample ``i`` is ``chars[i]`` in ``font``.

    ``.chars`` lists the characters in order, ``.font`` is the font file, ``.em`` the
    scale in pixels per em (pass it as ``em=`` to render another font at exactly the
    same scale).
    """

    def __init__(self, tensor: torch.Tensor, chars: str, font: Path, em: float):
        super().__init__(tensor)
        self.chars, self.font, self.em = chars, font, em

    def __repr__(self) -> str:
        return f"Glyphs({self.font.name}, {len(self.chars)} chars, {self.tensor.shape[-1]} px)"


def glyphs(font: str | Path = "DejaVuSans.ttf", chars: str | None = None, size: int = 32,
           split: str | None = None, holdout: float = 0.2, seed: int = 0,
           em: float | None = None, margin: float = 0.1) -> Glyphs:
    """Characters of ``font`` as ``[1, size, size]`` images, white on black, in [-1, 1].

    ``chars`` defaults to :data:`DEFAULT_CHARS` (Latin, Greek and Cyrillic letters,
    digits and ASCII punctuation: 209 characters); characters the font lacks are
    skipped. ``split="train"`` or ``"test"`` keeps a seeded split *by character* of the
    requested ``chars`` (``holdout`` of them in test): the same for every font, so
    held-out characters are never seen in training. The scale depends on all requested
    ``chars`` (not on the split), so both splits have the same scale; ``em`` overrides
    it (pixels per em), ``margin`` is the fraction of ``size`` left free on each side.

    >>> a, b = glyphs(chars="AB", size=16), glyphs("DejaVuSans-Bold.ttf", chars="AB", size=16)
    >>> a.chars, tuple(a[0].shape), float(a[0].min()), float(a[0].max()) > 0.5
    ('AB', (1, 16, 16), -1.0, True)
    >>> bool((a[0] - b[0]).abs().mean() < (a[0] - b[1]).abs().mean())
    True
    """
    owner = "glyphs"
    if not isinstance(font, (str, os.PathLike)) or not font:
        args.refuse(owner, "font", "a font file's path or the name of a bundled font "
                    "(see font_names())", font)
    chars = DEFAULT_CHARS if chars is None else args.text(owner, "chars", chars)
    size = args.whole(owner, "size", size, low=4)
    split, holdout, seed = check_split(owner, split, holdout, seed)
    em = None if em is None else args.real(owner, "em", em, low=0, open_low=True,
                                           expected="a positive number (pixels per em) or None")
    margin = args.real(owner, "margin", margin, low=0, high=0.5, open_high=True)
    path = font_path(font)
    chars = "".join(dict.fromkeys(c for c in chars if not c.isspace()))
    present = "".join(c for c in chars if has_char(path, c))
    if not present:
        raise SourceError(f"font {path.name} has none of the characters {chars[:40]!r}")
    em = fit_em(path, present, size, margin) if em is None else em
    keep = split_chars(chars, split, holdout, seed)
    chosen = "".join(c for c in present if c in keep)
    if not chosen:
        raise SourceError(f"font {path.name}: no character of the {split} split is in the font")
    return Glyphs(_render(str(path), chosen, size, em).clone(), chosen, path, em)
