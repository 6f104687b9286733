"""``cdl apply`` on a folder of images against a plain ``module(x)`` loop over the same
files [target: at least 0.9× the loop's images/s].

Workloads, on ``N`` 32×32 grey PNGs (the DejaVu Sans glyphs, repeated, in 10
subfolders), batch 64, a run of the default experiment (``cyclegan_fonts``, trained for
1 step, eager — the weights do not change the speed):

- its arrow ``f``, a 1×32×32 glyph generator: the network's time dominates;
- the identity ``id(Sans)``: nothing but reading and writing the files, where any overhead
  of ``cdl apply``'s own shows most.

- **baseline**: the plain loop, in this process, on the run's own module — the files
  listed (``rglob``), then per batch: ``Image.open`` → ``np.array`` → ``[-1, 1]`` →
  ``module(x)`` under
  ``torch.inference_mode`` → 8-bit → ``Image.save`` as PNG under the same relative name;
- **cdl apply**: ``runtime.cli.main(["apply", RUN, "f", IN, "-o", OUT])`` in this process:
  the whole command, and the command less the time it spends opening the run (rebuilding
  the experiment, loading the checkpoint: once per command, whatever ``N``);
- **cdl apply, new process**: ``python -m runtime apply …``, wall clock (torch's import
  included), for the cost of one command from a shell.

One torch thread (``THREADS``; the machine is shared), for both. Each row is the median
of ``REPEATS`` runs, baseline and apply in turn, each first every other time, and the
ratio of the best runs (the least disturbed by other jobs). Run:
``python3 benchmarks/bench_apply.py [N] [--dir /dev/shm]``; the table is in
``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from runtime.cli import main  # noqa: E402
from runtime.cli import use as cli_use  # noqa: E402
from runtime.sources import glyphs  # noqa: E402
from runtime.train.run_folder import open_run  # noqa: E402

BATCH, REPEATS, THREADS = 64, 7, 1


def make_images(folder: Path, n: int) -> list[str]:
    """``n`` glyph PNGs under ``folder`` (10 subfolders); their relative names, sorted."""
    g = glyphs("DejaVuSans.ttf", size=32).tensor  # [G, 1, 32, 32] in [-1, 1]
    pixels = ((g[:, 0] + 1) * 127.5).round().clamp(0, 255).to(torch.uint8).numpy()
    names = []
    for i in range(n):
        name = f"{i % 10}/glyph-{i:06d}.png"
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(pixels[i % len(pixels)], "L").save(folder / name)
        names.append(name)
    return sorted(names)


def plain_loop(module, src: Path, out: Path) -> float:
    """The baseline: seconds for the loop over every file (listing them included, as
    ``cdl apply`` lists them)."""
    t = time.perf_counter()
    names = sorted(p.relative_to(src).as_posix() for p in src.rglob("*.png"))
    with torch.inference_mode():
        for start in range(0, len(names), BATCH):
            batch = names[start:start + BATCH]
            x = torch.stack([torch.from_numpy(np.array(Image.open(src / n).convert("L")))
                             for n in batch])[:, None].float().div(127.5).sub(1)
            y = ((module(x).clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).numpy()
            for n, img in zip(batch, y, strict=True):
                (out / n).parent.mkdir(parents=True, exist_ok=True)
                Image.fromarray(img[0], "L").save(out / n)
    return time.perf_counter() - t


def cdl_apply(run: Path, path: str, src: Path, out: Path) -> tuple[float, float]:
    """Seconds for ``cdl apply`` in this process, and of them the time opening the run."""
    opened = []

    def timed_open(*args, **kwargs):
        t = time.perf_counter()
        try:
            return open_run(*args, **kwargs)
        finally:
            opened.append(time.perf_counter() - t)

    cli_use.open_run = timed_open
    try:
        t = time.perf_counter()
        code = main(["apply", str(run), path, str(src), "-o", str(out), "--batch", str(BATCH)])
        total = time.perf_counter() - t
    finally:
        cli_use.open_run = open_run
    assert code == 0
    return total, opened[0]


def new_process(run: Path, path: str, src: Path, out: Path) -> float:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": str(THREADS)}
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "runtime", "apply", str(run), path, str(src), "-o",
                    str(out), "--batch", str(BATCH)], check=True, env=env,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t


def main_bench(n: int, folder: str | None) -> None:
    torch.set_num_threads(THREADS)
    work = Path(tempfile.mkdtemp(prefix="bench-apply-", dir=folder))
    try:
        run = work / "run"
        assert main(["train", "cyclegan_fonts", "--steps", "1", "--backend", "eager",
                     "--out", str(run)]) == 0
        src = work / "in"
        names = make_images(src, n)
        _, program, _ = open_run(run, forward_only=True)
        f = program.functor.modules["f"].eval()
        print(f"\n{n} images 1×32×32, batch {BATCH}, torch {torch.__version__}, "
              f"{torch.get_num_threads()} threads, median of {REPEATS}:\n")
        print("| path | | seconds (median) | images/s | × baseline | best of "
              f"{REPEATS}: × baseline's best |")
        print("|---|---|---:|---:|---:|---:|")
        for path, module in (("f", f), ("id(Sans)", lambda x: x)):
            base, whole, loop, fresh = [], [], [], []
            for k in range(REPEATS):  # in turn, each first every other time: drift cancels
                out = work / f"{path}-{k}"
                if k % 2:
                    base.append(plain_loop(module, src, out / "base"))
                total, opening = cdl_apply(run, path, src, out / "apply")
                whole.append(total)
                loop.append(total - opening)
                if not k % 2:
                    base.append(plain_loop(module, src, out / "base"))
                fresh.append(new_process(run, path, src, out / "fresh"))
            a = np.array(Image.open(work / f"{path}-0" / "base" / names[-1]), dtype=int)
            b = np.array(Image.open(work / f"{path}-0" / "apply" / names[-1]), dtype=int)
            assert np.abs(a - b).max() <= 1, "the baseline and cdl apply disagree"
            b0, b1 = statistics.median(base), min(base)
            for label, times in (("baseline: plain `module(x)` loop", base),
                                 ("`cdl apply` less opening the run", loop),
                                 ("`cdl apply`, whole command (in process)", whole),
                                 ("`cdl apply`, new process (torch import included)", fresh)):
                s = statistics.median(times)
                print(f"| `{path}` | {label} | {s:.2f} | {n / s:,.0f} | {b0 / s:.2f}× | "
                      f"{b1 / min(times):.2f}× |", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", type=int, nargs="?", default=5000, help="images (default 5000)")
    parser.add_argument("--dir", help="where the files go (default: the temporary folder; "
                                      "/dev/shm keeps the disk out of the measurement)")
    args = parser.parse_args()
    main_bench(args.n, args.dir)
