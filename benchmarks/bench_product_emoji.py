"""Quality of the ``product_emoji`` experiment and its ablations, on held-out bases.

Each variant trains the experiment (``runtime.experiments.product_emoji.build_emoji``
with the variant's networks and compile options) for ``--steps`` with the
:class:`~runtime.Trainer` and the experiment's other settings, one thread, and prints
the evaluation table every ``--every`` steps, then one markdown line per variant:
removal ratio (input-as-output baseline: 1), the two equations' residuals, the tone
spread across codes against the same-code spread, wall time.

    python3 benchmarks/bench_product_emoji.py --variant default [--steps 3000]
    python3 benchmarks/bench_product_emoji.py --steps 1500 --variant default --variant ungated

Results (table in ``benchmarks/README.md``).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from compiler import compile_functor  # noqa: E402
from runtime import Trainer  # noqa: E402
from runtime.experiments import Options  # noqa: E402
from runtime.experiments.product_emoji import build_emoji  # noqa: E402
from runtime.report.evaluation import format_table  # noqa: E402

VARIANTS = {  # name -> (build_emoji keywords, Trainer keywords), each a change of the default
    "default": ({}, {}),  # lr 1e-3, equation weight 3 (g.f's code 0.3), gated g, 3x3 layer
    "ungated": ({"gated": False}, {}),
    "conditioned": ({"conditioned": True}, {}),  # f's image map also sees its code
    "kernel1": ({"kernel": 1}, {}),  # purely per-pixel image maps
    "equal_factors": ({"equation_weight": 3.0}, {}),  # g.f's code weighs as much as the image
    "weight1": ({"equation_weight": 1.0}, {}),
    "weight10": ({"equation_weight": 10.0}, {}),
    "lr5e-4": ({"lr": 5e-4}, {}),
    "pool50": ({"fake_pool": 50}, {}),
    "ncritic2": ({}, {"n_critic": 2}),
}


def run(name: str, steps: int, every: int, backend: str, seed: int, keep: str | None) -> dict:
    build_kw, train_kw = VARIANTS[name]
    torch.manual_seed(seed)
    exp = build_emoji(Options(torch.device("cpu"), seed), steps=steps, **build_kw)
    program = compile_functor(exp.functor, exp.critics, **{**exp.compile, "backend": backend})
    start = time.perf_counter()

    def evaluate(p):
        table = exp.evaluate(p)
        print(f"--- {name}: {time.perf_counter() - start:.0f} s\n{format_table(table)}",
              flush=True)
        return table

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(keep) / name if keep else tmp
        trainer = Trainer(program, data=exp.data, out=out,
                          **{**exp.train, "steps": steps, **train_kw},
                          evaluate=evaluate, sample_inputs=exp.samples,
                          sample_references=exp.references, sample_every=every,
                          progress=False, tensorboard=False)
        trainer.fit()
    wall = time.perf_counter() - start
    t = exp.evaluate(program)
    return {"variant": name, "steps": steps, "wall": wall, **{
        "removal": t["removal"]["ratio"], "gf": t["g.f"]["residual"],
        "gf_image": t["g.f"]["image"], "gf_code": t["g.f"]["code"],
        "fg": t["f.g"]["residual"], "spread": t["insertion"]["tone_spread"],
        "same_z": t["insertion"]["same_z_spread"], "transfer": t["transfer"]["ratio"]}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--variant", action="append", choices=sorted(VARIANTS))
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--every", type=int, default=500)
    ap.add_argument("--backend", default="eager", choices=("inductor", "eager"))
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", help="keep each variant's run folder under OUT/VARIANT")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    rows = [run(v, args.steps, args.every, args.backend, args.seed, args.out)
            for v in args.variant or ["default"]]
    print(f"\n{args.backend}, {args.threads} thread(s), seed {args.seed}\n")
    print("| variant | steps | removal ratio | g.f residual (image, code) | f.g residual "
          "| tone spread / same z | transfer ratio | wall (s) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['variant']} | {r['steps']} | {r['removal']:.2f} | {r['gf']:.3f} "
              f"({r['gf_image']:.3f}, {r['gf_code']:.3f}) | {r['fg']:.3f} "
              f"| {r['spread']:.3f} / {r['same_z']:.3f} | {r['transfer']:.2f} "
              f"| {r['wall']:.0f} |")


if __name__ == "__main__":
    main()
