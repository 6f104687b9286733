"""Peak memory of loading one huge image with ``ImageFolder(size=32)`` [target: far below
the old path's; for a PNG, about the decoded image].

Images: 8000×8000 RGB as PNG and as JPEG (quality 90), and a 16-bit grey PNG; each is
loaded once to ``[3, 32, 32]``. Baseline, in the same run: the previous loading code
(convert the full image to the target mode — a full-size copy even when the mode is
already right —, resize bicubic, copy twice into a tensor), kept below verbatim as
``old_to_uint8``. Each load runs in a fresh process; the number is the growth of its
peak resident set across the load, after the imports and the folder's construction
(``/proc/self/status``: VmHWM after the load minus VmRSS before, the peak reset in
between); "decoded" is the same for a bare ``Image.load()`` (Pillow keeps RGB as 4
bytes a pixel), the floor for a PNG. "max diff" compares the two results in uint8
levels (the 16-bit row differs because the old path clipped 16-bit values at 255
instead of scaling them).

Run: ``python3 benchmarks/bench_image_memory.py``. On the 2-core CPU machine (Pillow
13, torch 2.13; shared with other jobs, so the times are rough):

| image (8000×8000)  | decoded MiB | old peak MiB | new peak MiB | old s | new s | max diff |
|--------------------|------------:|-------------:|-------------:|------:|------:|---------:|
| RGB PNG            |         246 |          490 |          244 |  2.34 |  0.66 |       11 |
| RGB JPEG q90       |         247 |          490 |            5 |  1.26 |  0.24 |        3 |
| 16-bit grey PNG    |         124 |          368 |          366 |  1.06 |  0.67 |      206 |

Target met for 8-bit images: a PNG costs its decoded pixels (the old path added a
full-size copy from ``convert``), a JPEG 1/50 of them (decoded at 1/8 scale). A 16-bit
grey image still costs its float copy (4 bytes a pixel) beside the decoded one: it is
resampled as float because Pillow resizes I;16B wrongly, and is now right where the old
path clipped it. The RGB PNG's largest difference (11 levels, one pixel; mean well
under 1) comes from Pillow's reducing gap on a 250× reduction.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from runtime.sources import ImageFolder  # noqa: E402
from runtime.sources.images import MODES  # noqa: E402

SIDE, SIZE = 8000, 32


def old_to_uint8(im: Image.Image, channels: int, size: tuple[int, int]) -> torch.Tensor:
    """The previous loading code, verbatim: the baseline."""
    im = im.convert(MODES[channels])
    if size is not None and (im.height, im.width) != size:
        im = im.resize((size[1], size[0]), Image.Resampling.BICUBIC)
    a = np.asarray(im, dtype=np.uint8)
    a = a[:, :, None] if a.ndim == 2 else a
    return torch.from_numpy(a.copy()).permute(2, 0, 1).contiguous()


def status_mib(field: str) -> float:
    """A line of /proc/self/status (VmRSS, VmHWM) in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise KeyError(field)


def reset_peak() -> float:
    """Resets the peak resident set to the current one (Linux >= 4.0); returns it, MiB.

    ``ru_maxrss`` would do without the reset, but a child process starts with its
    parent's peak (kept across exec), which hides the load's own peak.
    """
    Path("/proc/self/clear_refs").write_text("5")
    return status_mib("VmRSS")


def child(folder: str, which: str, out: str) -> None:
    """One load in this (fresh) process; writes peak growth, seconds and the result."""
    images = ImageFolder(folder, size=SIZE)
    before = reset_peak()
    t = time.perf_counter()
    if which == "decode":  # the floor for a PNG: Pillow's decoded pixels, nothing else
        with Image.open(images.files[0]) as im:
            im.load()
            x = torch.zeros(3, SIZE, SIZE, dtype=torch.uint8)
    elif which == "old":
        with Image.open(images.files[0]) as im:
            x = old_to_uint8(im, 3, (SIZE, SIZE))
    else:
        x = images._load(0)
    seconds = time.perf_counter() - t
    np.save(out, x.numpy())
    print(f"{status_mib('VmHWM') - before:.1f} {seconds:.2f}")


def texture(side: int) -> np.ndarray:
    """A photo-like ``[side, side, 3]`` uint8 image: smooth colour, edges and noise."""
    rng = np.random.default_rng(0)
    n = 1000
    y, x = np.mgrid[0:n, 0:n] / n
    tile = np.stack([np.sin(7 * x + 3 * y), np.cos(5 * y - 2 * x), np.sin(11 * x * y)], -1)
    tile = (tile + 1) * 100 + rng.normal(0, 12, (n, n, 3))
    tile[(x - 0.5) ** 2 + (y - 0.4) ** 2 < 0.05] = (250, 30, 60)
    tile = np.clip(tile, 0, 255).astype(np.uint8)
    return np.tile(tile, (side // n, side // n, 1))


def main() -> None:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        rgb = texture(SIDE)
        grey16 = rgb[..., 1].astype(np.uint16) * 257
        images = {"RGB PNG": ("png", Image.fromarray(rgb)),
                  "RGB JPEG q90": ("jpg", Image.fromarray(rgb)),
                  "16-bit grey PNG": ("png", Image.fromarray(grey16))}
        del rgb, grey16
        for name, (ext, im) in images.items():
            folder = Path(tmp) / name.replace(" ", "_")
            folder.mkdir()
            im.save(folder / f"big.{ext}", **({"compress_level": 1} if ext == "png"
                                               else {"quality": 90}))
            result = {}
            for which in ("decode", "old", "new"):
                out = str(Path(tmp) / f"{which}.npy")
                line = subprocess.run([sys.executable, __file__, "--child", str(folder), which,
                                       out], check=True, capture_output=True, text=True).stdout
                mib, sec = map(float, line.split())
                result[which] = (mib, sec, np.load(out).astype(int))
            diff = int(np.abs(result["old"][2] - result["new"][2]).max())
            rows.append(f"| {name:<18} | {result['decode'][0]:11.0f} | {result['old'][0]:12.0f} | "
                        f"{result['new'][0]:12.0f} | {result['old'][1]:5.2f} | "
                        f"{result['new'][1]:5.2f} | {diff:8d} |")
    print("\n".join(rows))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        child(*sys.argv[2:5])
    else:
        main()
