"""Cost of the program's module-view check (``compiler/views.py``) against one step.

Run: ``python3 benchmarks/bench_views.py`` (CPU, eager backend; the check is the same
Python code whatever the backend). Prints µs per check and per step, per program.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "compiler")]  # this checkout, not an install
from compiler_fixtures import cyclegan, cyclegan_batch, grid, grid_batch  # noqa: E402


def per_call(fn, n: int) -> float:
    fn()
    best = float("inf")
    for _ in range(5):
        t = time.perf_counter()
        for _ in range(n):
            fn()
        best = min(best, (time.perf_counter() - t) / n)
    return best * 1e6


def main() -> None:
    torch.set_num_threads(1)
    rows = [("cyclegan, fused", cyclegan(), cyclegan_batch(16)),
            ("cyclegan, fuse=False", cyclegan(fuse=False), cyclegan_batch(16)),
            ("grid 3x3 (12 arrows, 9 critics)", grid(3), grid_batch(3, n=16))]
    print("| program | modules | parameters | check µs | step µs | check / step |")
    print("|---|---|---|---|---|---|")
    for name, prog, batch in rows:
        views = prog._views
        check = per_call(views.check, 2000)
        step = per_call(lambda prog=prog, batch=batch: prog.step(batch), 50)
        n_params = sum(len(v.params) for v in views.views)
        print(f"| {name} | {len(views.views)} | {n_params} | {check:.1f} | {step:.0f} | "
              f"{check / step:.1%} |")


if __name__ == "__main__":
    main()
