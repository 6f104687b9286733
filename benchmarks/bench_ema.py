"""What keeping a moving average of the arrows' weights costs a training step (``--ema``).

``TrainOptions.ema = β > 0`` makes the trainer update ``average ← β·average + (1 − β)·live``
over the arrows' networks after every joint step (``runtime.train.average.WeightAverage``,
one fused ``lerp``). This times it on ``gan_glyphs`` — the experiment that keeps one (β
0.999), whose generator holds 680,481 weights — compiled as the quality table trains it:

- *bare*: ``batch = next(batches); prog.step(batch)`` (the baseline);
- *with the average*: the same, then ``average.update()``;
- *update alone*: ``average.update()`` on its own, many times.

The two loops alternate in rounds of the same number of steps in this one process (the
same program and data stream), the median round reported.

    python3 benchmarks/bench_ema.py [--steps 100] [--rounds 5] [--write]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the checkout's own packages, not an installed cdl

from benchmarks.readme_block import publish  # noqa: E402
from runtime import Batches, prepare  # noqa: E402
from runtime.train.average import WeightAverage  # noqa: E402
from runtime.train.networks import arrow_modules  # noqa: E402

EXPERIMENT = "gan_glyphs"


def per_step_ms(program, batches: Batches, steps: int, average: WeightAverage | None) -> float:
    start = time.perf_counter()
    for _ in range(steps):
        program.step(next(batches))
        if average is not None:
            average.update()
    return 1e3 * (time.perf_counter() - start) / steps


def update_ms(average: WeightAverage, times: int) -> float:
    start = time.perf_counter()
    for _ in range(times):
        average.update()
    return 1e3 * (time.perf_counter() - start) / times


def span(values: list[float]) -> str:
    return f"{min(values):.1f}–{max(values):.1f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=100, help="steps a round (default 100)")
    ap.add_argument("--rounds", type=int, default=5, help="rounds of each loop (default 5)")
    ap.add_argument("--write", action="store_true", help="put the table in benchmarks/README.md")
    args = ap.parse_args()
    exp, program = prepare(EXPERIMENT, device="cpu")
    beta = float(exp.train.get("ema", 0.999)) or 0.999
    modules = arrow_modules(program)
    size = sum(v.numel() for m in modules.values() for v in m.state_dict().values()
               if v.is_floating_point())
    batches = Batches(exp.data, exp.train["batch_size"], seed=0)
    start = time.perf_counter()
    per_step_ms(program, batches, 20, None)  # compile and warm up
    print(f"compile + warm-up: {time.perf_counter() - start:.1f} s", file=sys.stderr)
    average = WeightAverage(modules, beta)
    bare, kept = [], []
    for k in range(args.rounds):
        bare.append(per_step_ms(program, batches, args.steps, None))
        kept.append(per_step_ms(program, batches, args.steps, average))
        print(f"round {k}: bare {bare[-1]:.1f} ms, with the average {kept[-1]:.1f} ms",
              file=sys.stderr)
    alone = update_ms(average, 1000)
    b, w = statistics.median(bare), statistics.median(kept)
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    block = (f"Command: `python3 benchmarks/bench_ema.py --steps {args.steps} --rounds "
             f"{args.rounds}` — measured {stamp}, `{EXPERIMENT}` compiled (inductor), batch "
             f"{exp.train['batch_size']}, β {beta}, {size:,} averaged weights, "
             f"{torch.get_num_threads()} threads, torch {torch.__version__}; median of "
             f"{args.rounds} alternating rounds of {args.steps} steps.\n\n"
             f"| loop | ms / step (median) | rounds' range | against bare |\n"
             f"|---|---:|---:|---:|\n"
             f"| bare `prog.step` (baseline) | {b:.1f} | {span(bare)} | — |\n"
             f"| `prog.step` + `average.update()` | {w:.1f} | {span(kept)} | "
             f"{100 * (w / b - 1):+.1f}% |\n"
             f"| `average.update()` alone (×1,000) | {alone:.3f} | — | "
             f"{100 * alone / b:.2f}% of a bare step |")
    publish(block, "bench_ema",
            "The weights' moving average: its cost a step (`bench_ema.py`)",
            args.write)


if __name__ == "__main__":
    main()
