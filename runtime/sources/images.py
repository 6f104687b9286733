"""``ImageFolder``: every image under a folder (flat or nested), decoded with Pillow.

Transparent pixels (an RGBA or LA image, a palette or grey image with a transparent
colour) are composited on a background colour, white by default, unless the images are
read with their alpha (``channels=4``): dropping the alpha would show whatever colour the
file happens to store under a transparent pixel (often black, or a palette's first
entry).
"""

from __future__ import annotations

import warnings
from collections import Counter
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset

from ..errors import SourceError
from . import args

EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".webp")
MODES = {1: "L", 3: "RGB", 4: "RGBA"}
GREY = ("1", "L", "LA", "La", "I", "I;16", "I;16L", "I;16B", "I;16N", "F")
# Grey modes of more than 8 bits. Pillow's convert("L") clips them at 255 instead of
# scaling (so 300 and 65535 were both white). A 16-bit grey PNG opens as I;16; Pillow
# reads 16-bit RGB, RGBA and grey+alpha PNGs as 8-bit RGB / RGBA, already scaled by
# depth (it has no 16-bit colour mode): nothing to do there. I;16B and I come from TIFF
# content (Pillow opens a file by its content, whatever its extension); I is taken as
# 16-bit, the range Pillow reads and writes it in, and refused outside it.
DEEP = ("I;16", "I;16L", "I;16B", "I;16N", "I")
WHITE16 = 65535
# Modes whose conversion to L, RGB or RGBA is the same before or after resizing (a
# per-pixel linear map: no alpha to premultiply, no palette), so it can wait until the
# image is small; any other mode is converted at full size, as before.
LINEAR = ("L", "RGB")
# Pillow first shrinks by a whole factor (box filter) while the image stays this many
# times the target, then resamples: its docs call 3 indistinguishable from resampling
# the whole image, at a fraction of the work on a huge one. JPEG decoding is scaled the
# same way (draft: the decoder keeps 1/2, 1/4 or 1/8 of the pixels).
REDUCING_GAP = 3.0
WHITE = (255, 255, 255)
ALPHA_MODES = ("RGBA", "LA", "PA", "RGBa", "La")


def has_alpha(im: Image.Image) -> bool:
    """Whether some pixel of ``im`` may be transparent: an alpha band, or a transparent
    colour (``tRNS``) of a palette, grey or RGB image."""
    return im.mode in ALPHA_MODES or "transparency" in im.info


def on_background(im: Image.Image, background: tuple[int, int, int]) -> Image.Image:
    """``im`` composited on an opaque ``background`` colour: an ``RGB`` image."""
    rgba = im.convert("RGBA")
    ground = Image.new("RGBA", rgba.size, (*background, 255))
    return Image.alpha_composite(ground, rgba).convert("RGB")


def to_uint8(im: Image.Image, channels: int, size: tuple[int, int] | None,
             background: tuple[int, int, int] = WHITE) -> torch.Tensor:
    """A Pillow image (opened, not yet loaded) as a ``[C, H, W]`` uint8 tensor, converted
    to ``channels`` and resized (bicubic) to ``size``; with 1 or 3 channels, transparent
    pixels are composited on ``background`` (an RGB triple) first.

    A huge image costs little more than its decoded pixels (a JPEG far less): the JPEG
    decoder is asked for a reduced scale, an L or RGB image is resized before it is
    converted, and one already in the right mode is not copied. A grey image of more
    than 8 bits is resampled at full precision and scaled by its depth (65535 is +1).
    """
    mode = MODES[channels]
    if size is not None:
        request = (round(size[1] * REDUCING_GAP), round(size[0] * REDUCING_GAP))
        im.draft(None, request)  # JPEG only (a no-op elsewhere); keeps its mode
    if im.mode in DEEP or im.mode == "F":
        im = deep_to_l(im, size)
    elif channels != 4 and has_alpha(im):
        im = on_background(im, background)
    elif im.mode != mode and im.mode not in LINEAR:
        im = im.convert(mode)
    im = resized(im, size)
    if im.mode != mode:
        im = im.convert(mode)
    a = np.asarray(im, dtype=np.uint8)
    a = a[:, :, None] if a.ndim == 2 else a
    # one copy from Pillow's read-only buffer, straight into [C, H, W] order
    return torch.from_numpy(np.array(a.transpose(2, 0, 1), order="C"))


def resized(im: Image.Image, size: tuple[int, int] | None) -> Image.Image:
    """``im`` at ``size`` (``(h, w)``; None keeps it), bicubic with Pillow's reducing gap."""
    if size is None or (im.height, im.width) == size:
        return im
    # With alpha Pillow resamples premultiplied colour, and the colour kept under nearly
    # transparent pixels (colour / alpha) swings with any change of filter: resample as
    # before there.
    gap = None if im.mode in ("RGBA", "LA") else REDUCING_GAP
    return im.resize((size[1], size[0]), Image.Resampling.BICUBIC, reducing_gap=gap)


def deep_to_l(im: Image.Image, size: tuple[int, int] | None) -> Image.Image:
    """A grey image of more than 8 bits as 8-bit ``L``, resized first at full precision
    (as float: Pillow resizes I;16B wrongly) and scaled by its depth (65535 -> 255).

    A float image (mode ``F``), or an ``I`` one with values outside 16 bits, has no
    known white: refused rather than guessed.
    """
    if im.mode == "F":
        raise SourceError("its pixels are floating-point (mode F), which has no fixed white "
                          "level: save it with 8 or 16 bits per channel")
    if im.mode == "I":
        lo, hi = im.getextrema()
        if lo < 0 or hi > WHITE16:
            raise SourceError(f"its pixels are 32-bit integers from {lo} to {hi}, outside "
                              f"0..65535, so its white level is unknown: save it with 8 or "
                              f"16 bits per channel")
    f = np.asarray(resized(im.convert("F"), size), dtype=np.float32)
    return Image.fromarray(np.clip(np.rint(f * (255 / WHITE16)), 0, 255).astype(np.uint8))


def to_unit(x: torch.Tensor) -> torch.Tensor:
    """uint8 ``[0, 255]`` to float32 ``[-1, 1]``."""
    return x.to(torch.float32).mul_(2 / 255).sub_(1)


def _jpeg_complete(p: Path) -> bool:
    """Whether a JPEG file has its end-of-image marker (Pillow's verify does not check)."""
    with open(p, "rb") as f:
        f.seek(0, 2)
        f.seek(max(0, f.tell() - 1024))
        return b"\xff\xd9" in f.read()


def _listing(found: Counter) -> str:
    if not found:
        return "nothing"
    return ", ".join(f"{n} {ext or '(no extension)'}" for ext, n in found.most_common(8))


class ImageFolder(Dataset):
    """The images under ``path`` (sorted by path), ``[C, H, W]`` float32 in [-1, 1].

    ``channels`` 1, 3 or 4 converts to ``L``, ``RGB`` or ``RGBA`` (None: 1 when every image
    is grey, else 3); with 1 or 3, transparent
    pixels are composited on ``background`` (a colour name such as ``"white"`` or
    ``"black"``, ``"#rrggbb"``, or an RGB triple of 0..255; default white). ``size`` (an int for a
    square, or ``(h, w)``) resizes every image (bicubic, aspect ratio not kept). Without
    ``size`` all images must have the same size. Values are scaled by the image's bit
    depth: 0 is -1 and the largest value +1, 255 in 8 bits and 65535 in 16 (a 16-bit
    image is resized at full precision, then kept at 8 bits like every other one). A
    float image has no fixed white and is refused when read.

    A huge image is reduced as it loads: a JPEG is decoded at 1/2, 1/4 or 1/8 scale
    when ``size`` allows, and an L or RGB image is resized before any conversion, so a
    PNG costs little more than its decoded pixels.

    At construction every file is opened and verified (a header and integrity check, not
    a full decode); unreadable ones are skipped with one warning. Images are decoded on
    first use and kept in memory (as uint8), so later epochs cost no decoding.
    """

    def __init__(self, path: str | Path, size: int | tuple[int, int] | None = None,
                 channels: int = 3, background: str | tuple[int, int, int] = "white"):
        owner = "ImageFolder"
        self.path = args.path(owner, "path", path)
        self.background = args.colour(owner, "background", background)
        self.size = args.image_size(owner, size)
        channels = args.choice(owner, "channels", channels, (*MODES, None),
                               expected="1 (L), 3 (RGB), 4 (RGBA) or None (from the images)")
        if not self.path.is_dir():
            raise SourceError(f"ImageFolder: {str(self.path)!r} is not a folder")
        files = sorted(p for p in self.path.rglob("*") if p.is_file())
        candidates = [p for p in files if p.suffix.lower() in EXTENSIONS]
        self.files: list[Path] = []
        sizes: list[tuple[int, int]] = []
        modes: set[str] = set()
        bad: list[tuple[Path, str]] = []
        for p in candidates:
            try:
                with Image.open(p) as im:
                    wh, mode = im.size, im.mode
                    im.verify()  # PNG: every chunk's CRC; others: the header
                    if im.format == "JPEG" and not _jpeg_complete(p):
                        raise OSError("truncated JPEG (no end-of-image marker)")
            except Exception as e:  # any failure means unreadable
                bad.append((p, type(e).__name__))
                continue
            self.files.append(p)
            sizes.append((wh[1], wh[0]))
            modes.add(mode)
        if bad:
            names = ", ".join(f"{p.relative_to(self.path)} ({why})" for p, why in bad[:5])
            more = f" and {len(bad) - 5} more" if len(bad) > 5 else ""
            warnings.warn(f"ImageFolder {str(self.path)!r}: skipped {len(bad)} unreadable "
                          f"file(s): {names}{more}", stacklevel=2)
        if not self.files:
            found = Counter(p.suffix.lower() for p in files)
            why = (f"all {len(bad)} image file(s) were unreadable" if bad
                   else f"found {_listing(found)}")
            raise SourceError(f"ImageFolder: no readable images under {str(self.path)!r} "
                              f"(looked for {', '.join(EXTENSIONS)}, recursively); {why}")
        # None: grey (1 channel) when every image is, else colour (3)
        self.channels = channels or (1 if modes <= set(GREY) else 3)
        if self.size is None:
            counts = Counter(sizes)
            if len(counts) > 1:
                listed = ", ".join(f"{h}x{w} ({n} images)" for (h, w), n in counts.most_common(6))
                raise SourceError(f"ImageFolder {str(self.path)!r}: images differ in size "
                                  f"(h x w: {listed}); pass size= (e.g. size={sizes[0][0]}) "
                                  f"to resize them all")
            self.shape = (self.channels, *sizes[0])
        else:
            self.shape = (self.channels, *self.size)
        self._cache: list[torch.Tensor | None] = [None] * len(self.files)

    def __len__(self) -> int:
        return len(self.files)

    def _load(self, i: int) -> torch.Tensor:
        x = self._cache[i]
        if x is None:
            p = self.files[i]
            try:
                with Image.open(p) as im:
                    x = to_uint8(im, self.channels, self.size, self.background)
            except SourceError as e:  # decoded, but its pixels cannot be used
                raise SourceError(f"ImageFolder: cannot use {str(p)!r}: {e}") from None
            except Exception as e:
                raise SourceError(f"ImageFolder: cannot decode {str(p)!r} ({e}); it passed the "
                                  f"check at construction, so the file is likely truncated: "
                                  f"remove it") from e
            self._cache[i] = x
        return x

    def __getitem__(self, i: int) -> torch.Tensor:
        return to_unit(self._load(range(len(self))[i]))

    def gather(self, indices: torch.Tensor) -> torch.Tensor:
        """The images at ``indices`` as one ``[B, C, H, W]`` batch (the loader's fast path)."""
        return to_unit(torch.stack([self._load(i) for i in indices.tolist()]))

    def __repr__(self) -> str:
        return f"ImageFolder({str(self.path)!r}, {len(self)} images of shape {self.shape})"
