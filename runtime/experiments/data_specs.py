"""What ``--data OBJ=SOURCE``, ``--latent OBJ=DIM`` and ``--space OBJ=SHAPE`` say, read.

A *source* names where an object's samples come from:

- a folder of images (png, jpg, webp, bmp; nested folders too): an
  :class:`~runtime.sources.ImageFolder`, its transparent pixels on ``background``;
- a tensor file (``.npy``, ``.pt``, ``.safetensors``): one tensor of ``N × …`` samples
  (:func:`~runtime.sources.tensor_file`);
- a built-in source by name (:data:`BUILTIN_SOURCES`): ``glyphs:DejaVuSans``,
  ``circles``, ``circles:500``, ``emoji:toned``, ``emoji:bases``. A folder whose name is
  also a built-in's is written as a path (``./circles``).

Images, from a folder or not, are resampled to ``size`` and ``channels`` when given
(:class:`ImageOptions`). Relative paths are resolved when read (:func:`absolute`), so
that a run folder records where its data is from any working directory.

>>> assignment("--data", "Horse=data/horses")
('Horse', 'data/horses')
>>> shape("--latent", "Z", "16"), shape("--space", "B", "3x32x32")
((16,), (3, 32, 32))
>>> is_builtin("glyphs:DejaVuSans"), is_builtin("./circles"), absolute("circles:50", "/x")
(True, False, 'circles:50')
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

from ..errors import SourceError, SpecError
from ..sources import ImageFolder, TensorSource, circles, glyphs, resample, skin_tones
from ..sources.tensor_file import SUFFIXES, tensor_file

DEFAULT_IMAGE_SIZE = 32  # a built-in source's images when --size is not given


@dataclass(frozen=True)
class ImageOptions:
    """How every image source is read: ``size`` (h, w) and ``channels`` (None: as the
    data is), transparent pixels on ``background`` (an RGB triple)."""

    size: tuple[int, int] | None = None
    channels: int | None = None
    background: tuple[int, int, int] = (255, 255, 255)

    def apply(self, x: torch.Tensor) -> torch.Tensor:
        """Images ``[N, C, H, W]`` resampled to these options (others unchanged)."""
        if x.dim() != 4 or min(x.shape[-2:]) < 4:
            return x
        return resample(x, self.size, self.channels, self.background)


@dataclass(frozen=True)
class Builtin:
    """A built-in source: how it is written, what it is, and how it is made from the
    text after its name's colon ('' if none) and the image options."""

    usage: str
    about: str
    make: Callable[[str, ImageOptions], TensorSource]


def _side(options: ImageOptions) -> int:
    return max(options.size) if options.size else DEFAULT_IMAGE_SIZE


def _glyphs(arg: str, options: ImageOptions) -> TensorSource:
    if not arg:
        raise SourceError("glyphs needs a font: glyphs:DejaVuSans (a font of matplotlib's, "
                          "or a .ttf/.otf file's path)")
    font = arg if Path(arg).suffix.lower() in (".ttf", ".otf") else f"{arg}.ttf"
    return TensorSource(options.apply(glyphs(font, size=_side(options)).tensor))


def _circles(arg: str, options: ImageOptions) -> TensorSource:
    try:
        n = int(arg) if arg else 1000
    except ValueError:
        raise SourceError(f"circles:N takes a number of images, got {arg!r}") from None
    return TensorSource(options.apply(circles(n, size=_side(options)).tensor))


def _emoji(arg: str, options: ImageOptions) -> TensorSource:
    if arg not in ("toned", "bases"):
        raise SourceError(f"emoji takes toned or bases (emoji:toned, emoji:bases), got "
                          f"{arg!r}")
    tones = skin_tones(min(72, _side(options)))
    return TensorSource(options.apply(tones.toned if arg == "toned" else tones.bases))


BUILTIN_SOURCES: dict[str, Builtin] = {
    "glyphs": Builtin("glyphs:FONT", "the glyphs of one of matplotlib's fonts (DejaVuSans, "
                      "DejaVuSans-Bold, DejaVuSerif, …): 209 characters, grey", _glyphs),
    "circles": Builtin("circles[:N]", "N coloured circles on coloured backgrounds (1000)",
                       _circles),
    "emoji": Builtin("emoji:toned|bases", "Twemoji's skin-toned emoji or their yellow bases "
                     "(pip install 'cdl[data]')", _emoji),
}
USAGE = ("an image folder, a .npy/.pt/.safetensors file, or a built-in source ("
         + ", ".join(b.usage for b in BUILTIN_SOURCES.values()) + ")")


def assignment(flag: str, text: object) -> tuple[str, str]:
    """``OBJ=VALUE`` as ``(OBJ, VALUE)``, both non-empty (split at the first ``=``)."""
    name, eq, value = str(text).partition("=")
    if not eq or not name.strip() or not value.strip():
        what = {"--data": "OBJECT=SOURCE (SOURCE: " + USAGE + ")",
                "--latent": "OBJECT=DIM, e.g. Z=16", "--space": "OBJECT=SHAPE, e.g. B=3x32x32"}
        raise SpecError(f"{flag} takes {what.get(flag, 'OBJECT=VALUE')}, got {text!r}")
    return name.strip(), value.strip()


def shape(flag: str, name: str, text: object) -> tuple[int, ...]:
    """``16`` or ``3x32x32`` as a shape of positive whole numbers."""
    if isinstance(text, (list, tuple)):  # a shape written as a list (run files)
        parts = [str(p) for p in text]
    else:
        parts = str(text).lower().replace("×", "x").split("x")
    try:
        dims = tuple(int(p) for p in parts)
    except ValueError:
        dims = ()
    if not dims or min(dims) < 1:
        raise SpecError(f"{flag} {name}={text}: expected a shape of positive whole numbers, "
                        f"such as 16 or 3x32x32")
    return dims


def is_builtin(source: str) -> bool:
    """Whether ``source`` names a built-in source rather than a path."""
    return source.partition(":")[0] in BUILTIN_SOURCES


def absolute(source: str, root: str | os.PathLike = ".") -> str:
    """``source`` with a relative path made absolute against ``root`` (a built-in source
    is returned as it is)."""
    if is_builtin(source):
        return source
    return str((Path(root) / Path(source).expanduser()).resolve())


def open_source(name: str, source: str, images: ImageOptions) -> object:
    """The dataset ``source`` names for object ``name`` (``--data name=source``)."""
    try:
        if is_builtin(source):
            head, _, arg = source.partition(":")
            return BUILTIN_SOURCES[head].make(arg, images)
        path = Path(source)
        if path.is_dir():
            return ImageFolder(path, size=images.size, channels=images.channels,
                               background=images.background)
        if path.suffix.lower() in SUFFIXES and path.is_file():
            src = tensor_file(path)
            return TensorSource(images.apply(src.tensor))
    except SourceError as e:
        raise SpecError(f"--data {name}={source}: {e}") from None
    what = ("does not exist" if not path.exists() else
            f"is a {path.suffix or 'file without extension'} file, not a tensor file")
    raise SpecError(f"--data {name}={source}: {source} {what}; a source is {USAGE}")


def sample_shape(source: object) -> tuple[int, ...]:
    """The shape of one sample of ``source``."""
    known = getattr(source, "shape", None)
    if isinstance(known, tuple) and all(isinstance(d, int) for d in known):
        return known
    return tuple(source[0].shape)
