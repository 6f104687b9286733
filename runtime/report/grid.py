"""Sample grids: one row per path, one column per sample.

The trainer draws the same ``N`` samples through several paths of the schema — ``x``,
``f(x)``, ``f.g(x)`` — and :func:`save_grid` lays them out so each column reads as one
sample's journey and each row is labelled with its path. Small images (32×32) are
enlarged by an integer factor with nearest-neighbour so pixels stay pixels in a browser.
Vectors (``[N, D]``, an ``Euclid(D)`` object) have no picture; they are drawn as a
scatter of their first two coordinates, one colour per row.
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import torch
from matplotlib import font_manager
from matplotlib.figure import Figure
from PIL import Image, ImageDraw, ImageFont

from category.files import write_atomic

CELL_TARGET = 64
"""The size in pixels a cell is enlarged towards (by an integer factor, never shrunk)."""
PAD = 2
"""Pixels between cells and around the grid."""
BACKGROUND = 255
LABEL_MARGIN = 6
FONT_SIZE = 13

Rows = Sequence[tuple[str, torch.Tensor]]

# file extension -> the format a grid of that kind is written in (Pillow's name for
# images, matplotlib's for the scatter of vectors); an extension not listed is refused
IMAGE_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP",
                 ".pdf": "PDF"}
SCATTER_FORMATS = {".png": "png", ".jpg": "jpg", ".jpeg": "jpg", ".webp": "webp",
                   ".pdf": "pdf", ".svg": "svg"}


def grid_format(path: str | os.PathLike[str], kind: str = "image") -> str:
    """The format a grid of ``kind`` (``"image"`` or ``"vector"``) is written in at
    ``path``, from its extension; a :class:`ValueError` for a folder or an extension that
    no writer of that kind has (never bytes of another format under that name).

    >>> grid_format("grid.JPG"), grid_format("codes.svg", "vector")
    ('JPEG', 'svg')
    >>> grid_format("grid.txt")
    Traceback (most recent call last):
    ...
    ValueError: cannot write a sample grid as grid.txt: ...
    """
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{path} is a folder: give a file name for the grid, e.g. "
                         f"{path / 'samples.png'}")
    formats = IMAGE_FORMATS if kind == "image" else SCATTER_FORMATS
    suffix = path.suffix.lower()
    if suffix not in formats:
        raise ValueError(f"cannot write a sample grid as {path}: the extension "
                         f"{suffix or '(none)'} names no format for "
                         f"{'images' if kind == 'image' else 'vectors'}; use one of "
                         f"{', '.join(formats)}")
    return formats[suffix]


def to_uint8(images: torch.Tensor) -> torch.Tensor:
    """Map images in [-1, 1] to bytes in [0, 255]; outside values are clipped.

    NaN becomes 0 (mid grey) and ±inf the ends, so a diverged network still gives a
    picture instead of an error.

    >>> to_uint8(torch.tensor([-1.0, 0.0, 1.0, 3.0])).tolist()
    [0, 128, 255, 255]
    """
    images = torch.nan_to_num(images.detach().float().cpu(), nan=0.0, posinf=1.0, neginf=-1.0)
    return ((images.clamp(-1.0, 1.0) + 1.0) * 127.5).round().to(torch.uint8)


def cell_scale(height: int, width: int) -> int:
    """The integer enlargement that brings a cell near :data:`CELL_TARGET` pixels.

    >>> cell_scale(32, 32), cell_scale(28, 28), cell_scale(8, 8), cell_scale(256, 256)
    (2, 2, 8, 1)
    """
    return max(1, round(CELL_TARGET / max(height, width)))


@lru_cache(maxsize=4)
def label_font(size: int = FONT_SIZE) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """DejaVu Sans as bundled with matplotlib (always present), at ``size`` pixels."""
    try:
        return ImageFont.truetype(font_manager.findfont("DejaVu Sans"), size)
    except OSError:  # pragma: no cover - matplotlib without its fonts
        return ImageFont.load_default()


def _check_rows(rows: Rows) -> str:
    """Validate ``rows``; return ``"image"`` or ``"vector"``. Errors name the row."""
    if isinstance(rows, tuple) and len(rows) == 2 and isinstance(rows[0], str):
        raise TypeError("save_grid: rows must be a list of (label, tensor) pairs, "
                        f"found a single pair for {rows[0]!r}; wrap it in a list")
    if len(rows) == 0:
        raise ValueError("save_grid: no rows to draw (expected a list of (label, tensor))")
    kind = None
    first_label, first_shape = None, None
    for i, row in enumerate(rows):
        if not (isinstance(row, tuple | list) and len(row) == 2):
            raise TypeError(f"save_grid: row {i} must be a (label, tensor) pair, "
                            f"found {type(row).__name__}")
        label, tensor = row
        if not isinstance(tensor, torch.Tensor):
            raise TypeError(f"save_grid: row {label!r}: expected a torch.Tensor, "
                            f"found {type(tensor).__name__}")
        shape = tuple(tensor.shape)
        if tensor.dim() == 4 and tensor.shape[1] in (1, 3):
            this = "image"
        elif tensor.dim() == 2:
            this = "vector"
        else:
            raise ValueError(f"save_grid: row {label!r}: expected images [N, C, H, W] with "
                             f"C = 1 or 3, or vectors [N, D]; found shape {list(shape)}")
        if shape[0] == 0 or (this == "vector" and shape[1] == 0):
            raise ValueError(f"save_grid: row {label!r}: empty tensor of shape {list(shape)}")
        if kind is None:
            kind, first_label, first_shape = this, label, shape
            continue
        if this != kind:
            raise ValueError(f"save_grid: row {label!r} has shape {list(shape)} but row "
                             f"{first_label!r} has {list(first_shape)}: images and vectors "
                             "cannot share a grid")
        # Images share N, H and W (channels may differ); vectors share N (D may differ).
        expected = [first_shape[0], "C", *first_shape[2:]] if kind == "image" else \
            [first_shape[0], "D"]
        found = [shape[0], "C", *shape[2:]] if kind == "image" else [shape[0], "D"]
        if expected != found:
            raise ValueError(f"save_grid: row {label!r}: expected shape "
                             f"{_fmt(expected)} like row {first_label!r}, "
                             f"found {list(shape)}")
    return kind


def _fmt(shape: list) -> str:
    return "[" + ", ".join(str(s) for s in shape) + "]"


def image_grid(rows: Rows, nrow: int | None = None, labels: bool = True,
               scale: int | None = None) -> Image.Image:
    """The grid of :func:`save_grid` as a Pillow image (``"L"`` if all rows are grey).

    With ``nrow`` set and more samples than that, the samples wrap into bands of
    ``nrow`` columns stacked vertically, each band repeating every row.
    """
    _check_rows(rows)
    n, _, h, w = rows[0][1].shape
    s = cell_scale(h, w) if scale is None else int(scale)
    if s < 1:
        raise ValueError(f"save_grid: scale must be a positive integer, found {scale!r}")
    cols = n if nrow is None else max(1, min(int(nrow), n))
    bands = math.ceil(n / cols)
    colour = any(t.shape[1] == 3 for _, t in rows)
    mode = "RGB" if colour else "L"
    ch, cw = h * s, w * s

    font = label_font()
    label_w = 0
    if labels:
        measure = ImageDraw.Draw(Image.new(mode, (1, 1)))
        label_w = max(measure.textlength(str(label), font=font) for label, _ in rows)
        label_w = math.ceil(label_w) + 2 * LABEL_MARGIN
    band_gap = 3 * PAD
    width = label_w + PAD + cols * (cw + PAD)
    height = bands * (len(rows) * (ch + PAD) + PAD) + (bands - 1) * band_gap
    bg = (BACKGROUND,) * 3 if colour else BACKGROUND
    canvas = Image.new(mode, (width, height), bg)
    draw = ImageDraw.Draw(canvas)

    for r, (label, tensor) in enumerate(rows):
        pixels = to_uint8(tensor)
        if colour and pixels.shape[1] == 1:
            pixels = pixels.expand(-1, 3, -1, -1)
        pixels = pixels.permute(0, 2, 3, 1).contiguous().numpy()  # N, H, W, C
        for i in range(n):
            band, col = divmod(i, cols)
            top = band * (len(rows) * (ch + PAD) + PAD + band_gap) + PAD + r * (ch + PAD)
            left = label_w + PAD + col * (cw + PAD)
            cell = Image.fromarray(pixels[i] if colour else pixels[i, :, :, 0], mode)
            if s > 1:
                cell = cell.resize((cw, ch), Image.Resampling.NEAREST)
            canvas.paste(cell, (left, top))
        if labels:
            for band in range(bands):
                top = band * (len(rows) * (ch + PAD) + PAD + band_gap) + PAD + r * (ch + PAD)
                draw.text((LABEL_MARGIN, top + ch / 2), str(label), font=font,
                          fill=(0, 0, 0) if colour else 0, anchor="lm")
    return canvas


def scatter_figure(rows: Rows, labels: bool = True):
    """A matplotlib figure: the first two coordinates of each row's vectors, one colour
    per row (a one-dimensional space is drawn against the sample index)."""
    fig = Figure(figsize=(5, 5), dpi=100, layout="constrained")
    ax = fig.add_subplot()
    one_d = all(t.shape[1] == 1 for _, t in rows)
    for label, tensor in rows:
        v = tensor.detach().float().cpu()
        if v.shape[1] >= 2:
            x, y = v[:, 0], v[:, 1]
        else:
            x, y = torch.arange(v.shape[0], dtype=torch.float32), v[:, 0]
        ax.scatter(x.numpy(), y.numpy(), s=14, alpha=0.75, label=str(label))
    if one_d:
        ax.set_xlabel("sample")
        ax.set_ylabel("x₀")
    else:
        ax.set_xlabel("x₀")
        ax.set_ylabel("x₁")
    ax.grid(True, alpha=0.3)
    if labels:
        ax.legend(fontsize="small", loc="best")
    return fig


def by_kind(rows: Rows) -> list[tuple[str, list]]:
    """``rows`` split into grids a picture can hold: ``[("", images), ("-vectors",
    vectors)]``, either left out where it has no rows (one grid keeps the suffix ``""``).

    A product object's paths carry both (``f(x)[0]`` an image, ``f(x)[1]`` a code).

    >>> rows = [("x", torch.zeros(2, 3, 4, 4)), ("f(x)[1]", torch.zeros(2, 8))]
    >>> [(suffix, [label for label, _ in rs]) for suffix, rs in by_kind(rows)]
    [('', ['x']), ('-vectors', ['f(x)[1]'])]
    """
    images = [r for r in rows if r[1].dim() != 2]
    vectors = [r for r in rows if r[1].dim() == 2]
    if not images or not vectors:
        return [("", list(rows))]
    return [("", images), ("-vectors", vectors)]


def save_grids(rows: Rows, path: str | os.PathLike[str]) -> list[Path]:
    """``rows`` at ``path``, or — where they mix images and vectors (a product's image and
    code, a GAN's latent and image) — images at ``path`` and vectors at ``…-vectors.png``."""
    path = Path(path)
    return [save_grid(part, path.with_name(f"{path.stem}{suffix}{path.suffix}"))
            for suffix, part in by_kind(rows)]


def save_grid(rows: Rows, path: str | os.PathLike[str], nrow: int | None = None,
              labels: bool = True, scale: int | None = None) -> Path:
    """Save a labelled grid of samples at ``path`` and return the path; the format is the
    extension's (:func:`grid_format`: png, jpg, webp, pdf; svg too for vectors).

    ``rows`` is a list of ``(label, tensor)``, one per path of the schema, all holding
    the same ``N`` samples: images ``[N, C, H, W]`` in [-1, 1] with ``C`` = 1 or 3
    (grey rows are shown in colour where another row is colour), or vectors ``[N, D]``,
    drawn as a scatter of their first two coordinates. ``nrow`` caps the columns per
    band (more samples wrap into further bands); ``labels`` draws the row labels at the
    left (the legend for a scatter); ``scale`` overrides the integer enlargement that
    brings each cell near 64 pixels. The file is written atomically; missing folders
    are created. A bad shape raises ``ValueError`` naming the row, the expected and the
    found shape.
    """
    kind = _check_rows(rows)
    fmt = grid_format(path, kind)
    buffer = io.BytesIO()
    if kind == "image":
        image = image_grid(rows, nrow=nrow, labels=labels, scale=scale)
        image.save(buffer, format=fmt, **({"quality": 95} if fmt in ("JPEG", "WEBP") else {}))
    else:
        scatter_figure(rows, labels=labels).savefig(buffer, format=fmt)
    return write_atomic(path, buffer.getvalue())
