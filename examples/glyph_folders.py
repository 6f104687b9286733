"""Two folders of images from what ships, for trying ``cdl train SCHEMA --data …``.

Writes the 32×32 glyphs of DejaVu Sans and DejaVu Sans Bold (fonts matplotlib ships) as
PNG files, black on white: ``OUT/sans/`` and ``OUT/bold/`` hold the training characters,
``OUT/new/`` the Sans glyphs of characters held out of both (to translate afterwards) and
``OUT/new-truth/`` their Bold glyphs (to compare with)::

    python3 examples/glyph_folders.py data
"""

from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image

from runtime.sources import glyphs

FONTS = {"sans": "DejaVuSans.ttf", "bold": "DejaVuSans-Bold.ttf"}


def write(font: str, split: str, folder: Path) -> int:
    """The ``split`` glyphs of ``font`` as PNGs in ``folder``, named by code point."""
    source = glyphs(font, split=split)
    folder.mkdir(parents=True, exist_ok=True)
    for char, image in zip(source.chars, (source[i] for i in range(len(source)))):
        pixels = ((1 - image[0]) * 127.5).round().clamp(0, 255).byte().numpy()  # ink black
        Image.fromarray(pixels, "L").save(folder / f"u{ord(char):04x}.png")
    return len(source)


def main(out: Path) -> None:
    n = {name: write(font, "train", out / name) for name, font in FONTS.items()}
    n["new"] = write(FONTS["sans"], "test", out / "new")
    n["new-truth"] = write(FONTS["bold"], "test", out / "new-truth")
    print(", ".join(f"{out / k}/: {v} images" for k, v in n.items()))


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "data"))
