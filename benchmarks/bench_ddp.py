"""Data-parallel throughput: 1 process against 2 (gloo), the same global batch.

Every configuration runs the experiment's compiled program (default ``cyclegan_fonts``, inductor)
in its own processes, started with torchrun's environment: ``prepare`` the experiment,
``Batches(shard=(rank, world))`` of the *global* batch, and for 2 processes
``DataParallel.attach`` (weights broadcast from rank 0; ``grad_hook``: the gradients of
``prog.parameters()`` averaged in flat buckets after the backward). After ``--warmup``
steps, ``--steps`` timed ``prog.step`` calls; rank 0 reports the step time (median),
images/s (global batch × data objects / step time) and the share of the step spent in
the gradient averaging (wall clock of the hook, which includes waiting for the slower
rank). Two gradient-averaging mechanisms alternate in rounds within the 2-process run:

- ``flat``: cdl's — the gradients copied into flat buckets (≤ 25 MiB), one async
  ``all_reduce`` per bucket, the step's loss and stop flag in the last one;
- ``per-tensor``: one synchronous ``all_reduce`` per gradient tensor (the naive loop).

    python3 benchmarks/bench_ddp.py [--experiment cyclegan_fonts] [--steps 20] [--rounds 3]

Prints a markdown table and the bytes per bucket; ``benchmarks/README.md`` holds the
results and the scaling statement.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def per_tensor_hook(parallel):
    import torch
    import torch.distributed as dist

    def hook(params, total):
        t0 = time.perf_counter()
        with torch.no_grad():
            for p in params:
                if p.grad is not None:
                    dist.all_reduce(p.grad)
                    p.grad.mul_(1.0 / parallel.world)
            x = torch.stack([total.float(), torch.zeros((), device=total.device)])
            dist.all_reduce(x)
        parallel.reduce_seconds += time.perf_counter() - t0
        return x[0] / parallel.world

    return hook


def worker(args) -> None:
    import torch

    from runtime import Batches, prepare
    from runtime.train.distributed import DataParallel

    torch.set_num_threads(args.threads)
    parallel = DataParallel.from_env(timeout_s=600)
    exp, program = prepare(args.experiment, device="cpu")
    batch = args.batch or exp.train["batch_size"]
    shard = parallel.shard if parallel else None
    batches = Batches(exp.data, batch, seed=0, shard=shard)
    hooks = {"none": None}
    if parallel is not None:
        parallel.attach(program)
        hooks = {"flat": parallel, "per-tensor": per_tensor_hook(parallel)}
    for _ in range(args.warmup):  # compile and warm up, every mechanism
        for h in hooks.values():
            program.grad_hook = h
            program.step(next(batches))
    times = {k: [] for k in hooks}
    share = {k: [] for k in hooks}
    names = list(hooks)
    for r in range(args.rounds):
        for name in names[r % len(names):] + names[:r % len(names)]:
            program.grad_hook = hooks[name]
            for _ in range(args.steps):
                if parallel is not None:
                    parallel.reduce_seconds = 0.0
                t0 = time.perf_counter()
                program.step(next(batches))
                dt = time.perf_counter() - t0
                times[name].append(dt)
                share[name].append(parallel.reduce_seconds / dt if parallel else 0.0)
    if parallel is None or parallel.is_writer:
        params = program.parameters()
        out = {"world": parallel.world if parallel else 1, "threads": args.threads,
               "batch": batch, "objects": len(exp.data),
               "parameters": sum(p.numel() for p in params),
               "tensors": len(params),
               "buckets": parallel.bucket_sizes if parallel else [],
               "results": {k: {"step_ms": 1e3 * statistics.median(v),
                               "iqr_ms": 1e3 * (statistics.quantiles(v, n=4)[2]
                                                - statistics.quantiles(v, n=4)[0]),
                               "reduce_share": statistics.median(share[k])}
                           for k, v in times.items()}}
        print("RESULT " + json.dumps(out), flush=True)
    if parallel is not None:
        parallel.barrier()
        parallel.close()


def launch(world: int, threads: int, args) -> dict:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cmd = [sys.executable, __file__, "--worker", "--experiment", args.experiment,
           "--steps", str(args.steps), "--rounds", str(args.rounds), "--warmup",
           str(args.warmup), "--threads", str(threads), "--batch", str(args.batch or 0)]
    procs = []
    for r in range(world):
        env = {**os.environ, "OMP_NUM_THREADS": str(threads), "PYTHONPATH": str(ROOT)}
        if world > 1:
            env.update(RANK=str(r), LOCAL_RANK=str(r), WORLD_SIZE=str(world),
                       MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
        procs.append(subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, text=True))
    outs = [p.communicate(timeout=3600)[0] for p in procs]
    for p in procs:
        if p.returncode:
            raise SystemExit(f"a worker of the {world}-process run failed ({p.returncode})")
    line = next(x for x in outs[0].splitlines() if x.startswith("RESULT "))
    return json.loads(line[len("RESULT "):])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--experiment", default="cyclegan_fonts")
    ap.add_argument("--steps", type=int, default=20, help="timed steps per round")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--batch", type=int, default=0, help="global batch (0: the experiment's)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--worker", action="store_true")
    args = ap.parse_args()
    if args.worker:
        args.batch = args.batch or None
        worker(args)
        return
    cores = os.cpu_count()
    t0 = time.time()
    runs = [launch(1, 1, args), launch(1, 2, args), launch(2, 1, args)]
    base = runs[0]["results"]["none"]["step_ms"]
    print(f"\n{args.experiment}: global batch {runs[0]['batch']} per object, "
          f"{runs[0]['objects']} data objects, {runs[0]['parameters']:,} parameters in "
          f"{runs[0]['tensors']} tensors; {cores} cores; {args.rounds} rounds × "
          f"{args.steps} steps; {time.time() - t0:.0f} s\n")
    print("| processes × threads | per-rank batch | gradient averaging | step ms (median) "
          "| IQR ms | images/s | vs 1×1 | all-reduce share |")
    print("|---|---:|---|---:|---:|---:|---:|---:|")
    for r in runs:
        for mech, v in r["results"].items():
            ims = r["batch"] * r["objects"] / (v["step_ms"] / 1e3)
            print(f"| {r['world']} × {r['threads']} | {r['batch'] // r['world']} | {mech} | "
                  f"{v['step_ms']:.1f} | {v['iqr_ms']:.1f} | {ims:.0f} | "
                  f"{base / v['step_ms']:.2f}× | {100 * v['reduce_share']:.1f}% |")
    two = runs[2]
    sizes = two["buckets"]
    print(f"\nflat buckets per step: {len(sizes)}, bytes: {sizes} "
          f"(total {sum(sizes) / 2 ** 20:.2f} MiB per step per rank)")


if __name__ == "__main__":
    main()
