"""The trainer's overhead: ``Trainer.fit`` against a bare loop of ``prog.step``.

Both run the default experiment (``cyclegan_fonts``: the CycleGAN between DejaVu Sans and Bold
glyphs, compiled with inductor) on one compiled program, in alternating rounds of the
same number of steps, in one process. The bare loop is ``batch = next(batches);
prog.step(batch)`` on the same data stream (``runtime.Batches``) — what a user would
write by hand without logging, grids, evaluation, checkpoints or a report. The trainer
round is a full run of that many steps with the experiment's settings (a grid and an
evaluation every tenth of the run, a checkpoint every quarter, logging every 10 steps,
the report at the end).

    python3 benchmarks/bench_train.py [--steps 300] [--rounds 3]

Results (table in ``benchmarks/README.md``).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from runtime import Batches, Trainer, prepare  # noqa: E402


def bare(program, batches: Batches, steps: int) -> float:
    start = time.perf_counter()
    for _ in range(steps):
        program.step(next(batches))
    return steps / (time.perf_counter() - start)


def trainer(exp, program, steps: int, root: Path, k: int) -> float:
    settings = {**exp.train, "steps": steps}
    t = Trainer(program, exp.data, root / f"run{k}", **settings, **exp.trainer_extras(),
                progress=False, tensorboard=False)
    start = time.perf_counter()
    t.fit()
    return steps / (time.perf_counter() - start)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    torch.set_num_threads(torch.get_num_threads())
    exp, program = prepare("cyclegan_fonts", device="cpu")
    batches = Batches(exp.data, exp.train["batch_size"], seed=0)
    t0 = time.perf_counter()
    bare(program, batches, 20)  # compile and warm up
    print(f"compile + warm-up: {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    root = Path(tempfile.mkdtemp(prefix="bench_train-"))
    rates: dict[str, list[float]] = {"bare": [], "trainer": []}
    try:
        for k in range(args.rounds):
            rates["bare"].append(bare(program, batches, args.steps))
            rates["trainer"].append(trainer(exp, program, args.steps, root, k))
            print(f"round {k}: bare {rates['bare'][-1]:.2f} steps/s, trainer "
                  f"{rates['trainer'][-1]:.2f} steps/s", file=sys.stderr)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    b, t = statistics.median(rates["bare"]), statistics.median(rates["trainer"])
    print(f"\n{args.rounds} alternating rounds of {args.steps} steps, batch "
          f"{exp.train['batch_size']}, {torch.get_num_threads()} threads, torch "
          f"{torch.__version__}\n")
    print("| loop | steps/s (median) | ms/step | overhead |")
    print("|---|---:|---:|---:|")
    print(f"| bare `prog.step` loop (baseline) | {b:.2f} | {1e3 / b:.1f} | — |")
    print(f"| `Trainer.fit` | {t:.2f} | {1e3 / t:.1f} | {100 * (b / t - 1):+.1f}% |")


if __name__ == "__main__":
    main()
