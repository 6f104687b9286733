#!/usr/bin/env python3
"""The training-step benchmark on a GPU (issue 4, table 3): one prepared script.

    python3 benchmarks/bench_step_gpu.py                 # on a CUDA machine; prints the tables
    python3 benchmarks/bench_step_gpu.py --write         # ... and writes them to README.md
    python3 benchmarks/bench_step_gpu.py --device cpu --steps 3 --ks 2   # a dry run of the script

The same workloads, networks and hand-written baselines as ``bench_step.py`` (whose
builders it reuses), moved to ``--device``; every step ends with a device synchronise, so
a step's time is its GPU time. Variants alternate step by step in one process:

- *hand eager*, *hand compiled* (``torch.compile`` on the two loss functions), as on CPU;
- *cdl eager*, *cdl compiled* (``backend="inductor"``);
- *cdl compiled + CUDA graphs* (``compile_options={"mode": "reduce-overhead"}``): the
  issue allows CUDA graphs on the GPU.

Target (issue 4): cdl compiled ≥ 2× hand-written eager on both workloads (the better of
the two cdl compiled rows counts). Compile times are not reported here (``bench_step.py``
measures them on CPU); the run is sized for a 15-minute device budget: about a minute of
compiling per compiled variant and a few seconds of timing each.
"""

from __future__ import annotations

import argparse
import copy
import sys
import time
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
if str(HERE.parent) not in sys.path:
    sys.path.insert(0, str(HERE.parent))

from benchmarks import bench_step as cpu  # noqa: E402

README_SECTION = "## Training step on a GPU (bench_step_gpu.py)"


def synced(step, device: torch.device):
    """``step`` followed by a wait for the device, so that timing sees the kernels."""
    if device.type != "cuda":
        return step

    def run():
        out = step()
        torch.cuda.synchronize(device)
        return out

    return run


def to_device(device: torch.device, batch: dict, *nets):
    """``batch`` and deep copies of the network collections ``nets``, on ``device``."""
    moved = [type(n)({k: copy.deepcopy(m).to(device) for k, m in n.items()}) for n in nets]
    return {k: v.to(device) for k, v in batch.items()}, *moved


def cdl_rows(make, device: torch.device) -> list[tuple[str, object, bool]]:
    rows = [("cdl eager", make("eager"), False), ("cdl compiled", make("inductor"), True)]
    if device.type == "cuda":
        rows.append(("cdl compiled + CUDA graphs",
                     make("inductor", compile_options={"mode": "reduce-overhead"}), True))
    return rows


def conv_variants(device: torch.device) -> list[cpu.Variant]:
    nets, batch = cpu.conv_setup()
    batch, nets = to_device(device, batch, nets)
    made = [("hand eager", cpu.HandCycleGAN(nets, batch).step, False),
            ("hand compiled", cpu.HandCycleGAN(nets, batch, compile=True).step, True)]

    def make(backend, **kw):
        prog, b, _ = cpu.cdl_cyclegan(nets, batch, backend, **kw)
        return cpu.cdl_step(prog, b)

    made += cdl_rows(make, device)
    return [cpu.Variant(n, synced(s, device), c, 4) for n, s, c in made]


def grid_variants(k: int, device: torch.device) -> list[cpu.Variant]:
    grid, nets, critics, batch = cpu.grid_setup(k)
    batch, nets, critics = to_device(device, batch, nets, critics)
    plan = grid.calls(naive=False)
    made = [("hand eager", cpu.HandGrid(grid, nets, critics, batch).step, False),
            ("hand compiled", cpu.HandGrid(grid, nets, critics, batch, compile=True).step, True)]

    def make(backend, **kw):
        prog, b, _ = cpu.cdl_grid(grid, nets, critics, batch, backend, **kw)
        return cpu.cdl_step(prog, b)

    made += cdl_rows(make, device)
    return [cpu.Variant(n, synced(s, device), c, plan) for n, s, c in made]


def verdict(variants: list[cpu.Variant]) -> str:
    by = {v.name: v.median for v in variants}
    best = min(t for n, t in by.items() if n.startswith("cdl compiled"))
    r = by["hand eager"] / best
    return f"- cdl compiled ≥ 2× hand eager: {r:.2f}× — {'met' if r >= 2 else 'NOT met'}"


def run(name: str, variants: list[cpu.Variant], warmup: int, steps: int) -> list[str]:
    print(f"== {name} ==", flush=True)
    t0 = time.perf_counter()
    timing = cpu.run_alternating(variants, warmup, steps, budget_s=0.0)
    print(f"  ({time.perf_counter() - t0:.0f} s)", flush=True)
    lines = [f"### {name}", "", *cpu.table(variants, {}, "network calls/step",
                                           "compile s (cache as found)"), "",
             f"Timing: {timing}.", "", verdict(variants), ""]
    print("\n".join(lines), flush=True)
    return lines


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--steps", type=int, default=20, help="timed rounds per table")
    ap.add_argument("--ks", type=int, nargs="*", default=[4], help="grid sizes")
    ap.add_argument("--write", action="store_true", help="write the tables to README.md")
    args = ap.parse_args(argv)
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit("bench_step_gpu: no CUDA device here (use --device cpu for a dry run)")
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else cpu.machine()
    torch.backends.cuda.matmul.allow_tf32 = False  # fp32, as on CPU: same numbers
    torch.backends.cudnn.allow_tf32 = False
    cpu.warm_up_compiler()
    out = [README_SECTION, "",
           f"Command: `python3 benchmarks/bench_step_gpu.py` — device: {name}, torch "
           f"{torch.__version__}, fp32 (TF32 off). Measured "
           f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; variants alternate in "
           "one process, each step followed by a device synchronise; medians over the "
           "timed steps.", ""]
    out += run("Conv: CycleGAN step (batch 8, 32×32 RGB, as on CPU)",
               conv_variants(device), 3, args.steps)
    for k in args.ks:
        out += run(f"Many small arrows: {k}×{k} grid (as on CPU)",
                   grid_variants(k, device), 5, args.steps)
    if args.write:
        path = HERE / "README.md"
        old = path.read_text()
        start = old.find(README_SECTION)
        if start >= 0:
            nxt = old.find("\n## ", start + len(README_SECTION))
            old = old[:start] + (old[nxt + 1:] if nxt >= 0 else "")
        path.write_text(old.rstrip("\n") + "\n\n" + "\n".join(out).rstrip("\n") + "\n")
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
