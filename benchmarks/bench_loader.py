"""Producing one batch with ``runtime.train.loader.Batches`` [target: well under 1 ms].

Workloads, batch 16: 200 glyphs 32×32 (``[1, 32, 32]``), the same with
``Augment(shift=2, flip=True)``, a ``GaussianPrior(128)``, a cached 200-image
``ImageFolder`` (3×32×32 PNGs, decoded once, then served from memory), and a product of
glyphs and a prior. Baseline, in the same run: ``torch.utils.data.DataLoader`` over the
same dataset (``shuffle=True, drop_last=True, num_workers=0``: per-sample
``__getitem__`` and ``default_collate``), and, for the prior, 16 ``prior[i]`` (one
seeded generator per sample). Median of 5 runs of 1,000 batches each.

Run: ``python3 benchmarks/bench_loader.py``. On the 2-core CPU machine (torch 2.13,
shared with other jobs; one torch thread):

| workload                        | Batches µs/batch | DataLoader µs/batch |
|---------------------------------|-----------------:|--------------------:|
| glyphs 200×[1,32,32]            |             10.4 |                40.3 |
| glyphs + Augment(2, flip)       |            120.5 |                   - |
| GaussianPrior(128)              |             14.2 |               149.9 |
| ImageFolder 200×[3,32,32]       |             40.4 |               208.1 |
| product (glyphs, prior)         |             24.7 |                   - |
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from runtime.sources import Augment, GaussianPrior, ImageFolder, glyphs  # noqa: E402
from runtime.train.loader import Batches  # noqa: E402

B, N, RUNS = 16, 1000, 5


def per_batch(it) -> float:
    for _ in range(20):
        next(it)
    times = []
    for _ in range(RUNS):
        t = time.perf_counter()
        for _ in range(N):
            next(it)
        times.append((time.perf_counter() - t) / N)
    return statistics.median(times) * 1e6


def endless(loader):
    while True:
        yield from loader


def dataloader(ds) -> float:
    dl = torch.utils.data.DataLoader(ds, batch_size=B, shuffle=True, drop_last=True)
    return per_batch(endless(dl))


def main() -> None:
    torch.set_num_threads(1)
    g = glyphs(chars=glyphs().chars[:200])
    prior = GaussianPrior(128)
    rows = []
    rows.append(("glyphs 200×[1,32,32]", per_batch(Batches({"A": g}, B)), dataloader(g)))
    rows.append(("glyphs + Augment(2, flip)",
                 per_batch(Batches({"A": g}, B, augment=Augment(2, True))), float("nan")))

    class Indexed(torch.utils.data.Dataset):  # the prior sampled one index at a time
        def __len__(self):
            return 10**9

        def __getitem__(self, i):
            return prior[i]

    rows.append(("GaussianPrior(128)", per_batch(Batches({"Z": prior}, B)),
                 per_batch(endless(torch.utils.data.DataLoader(Indexed(), batch_size=B,
                                                               drop_last=True)))))
    with tempfile.TemporaryDirectory() as d:
        rng = np.random.default_rng(0)
        for i in range(200):
            a = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
            Image.fromarray(a).save(f"{d}/{i:03d}.png")
        folder = ImageFolder(d)
        rows.append(("ImageFolder 200×[3,32,32]", per_batch(Batches({"I": folder}, B)),
                     dataloader(folder)))
    rows.append(("product (glyphs, prior)", per_batch(Batches({"P": (g, prior)}, B)),
                 float("nan")))
    table = "\n".join(f"| {w:<31} | {a:16.1f} | {b:19.1f} |" for w, a, b in rows)
    print(table.replace("nan", "  -"))


if __name__ == "__main__":
    main()
