"""Warm starts along schema maps, measured: ``triangle_fonts`` started from two trained
CycleGANs against a cold start, and a trained CycleGAN pulled back to an involution.

``python3 benchmarks/bench_warm_start.py [--steps N] [--source-steps M] [--write]``:

1. trains the two source runs, each a ``cdl train`` command in its own process: the
   built-in ``cyclegan_fonts`` (Sans ↔ Bold) and ``cyclegan_fonts_oblique`` (Bold ↔
   Bold Oblique), ``M`` steps, seed 0;
2. for each seed, trains ``triangle_fonts`` (``ab.bc = ac`` over Sans, Bold, Bold
   Oblique) for ``N`` steps twice — cold, and warm-started as ``cdl train triangle_fonts
   --init SRC_BOLD --along examples/triangle_fonts.map --init SRC_OBLIQUE --along
   examples/triangle_fonts_oblique.map`` does (``ab`` from the first run's ``f``, ``bc``
   from the second's, ``ac`` the copy of their composite by the composite rule) —
   in this process, through the same Python API (:func:`runtime.train.warm_start.init_pairs`),
   so that the held-out evaluation is logged every ``--eval-every`` steps (the command
   line logs it every tenth of the run);
3. reports (a) the triangle's residual ``|ab.bc(x) - ac(x)|`` on the held-out glyphs at
   step 0, (b) the steps the warm start needs to reach the cold run's final held-out
   error (same seed), read from ``metrics.jsonl``, and (c) both final errors at the same
   budget; the held-out error is the mean absolute error of ``ab``, ``bc`` and ``ac``
   against the true glyphs (the same characters in the target font), averaged over the
   three arrows; mean ± standard deviation over the seeds;
4. pulls the Sans ↔ Bold source run back along ``examples/involution_fonts.map``
   (``s : X -> X``, ``s.s = id(X)`` to ``f.g`` on Sans) and measures the involution
   residual ``|s(s(x)) - x|`` on the held-out Sans glyphs, untrained as an involution
   (:func:`compiler.pullback_residuals`).

``--reuse`` keeps finished runs of ``--out``; ``--quick`` is the smoke version (a few
eager steps, one seed); ``--write`` puts the table into ``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the checkout's own packages, not an installed cdl

from benchmarks.readme_block import write_block  # noqa: E402
from category import SchemaMap  # noqa: E402
from compiler import pullback_residuals  # noqa: E402
from runtime import Trainer  # noqa: E402
from runtime.experiments import prepare  # noqa: E402
from runtime.experiments.font_pairs import font_glyphs  # noqa: E402
from runtime.train.networks import eval_mode  # noqa: E402
from runtime.train.run_folder import open_run, recompile  # noqa: E402
from runtime.train.warm_start import init_pairs  # noqa: E402

README = ROOT / "benchmarks" / "README.md"
MAPS = (ROOT / "examples" / "triangle_fonts.map", ROOT / "examples" / "triangle_fonts_oblique.map")
INVOLUTION = ROOT / "examples" / "involution_fonts.map"
SOURCES = (("src_bold", "cyclegan_fonts"), ("src_oblique", "cyclegan_fonts_oblique"))
ARROWS = ("ab", "bc", "ac")
TRIANGLE_FONTS = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSans-BoldOblique.ttf")


@dataclass
class Triangle:
    """One ``triangle_fonts`` run: cold or warm, its seed, and what it measured."""

    warm: bool
    seed: int
    out: Path
    wall_s: float = math.nan
    start: dict = field(default_factory=dict)  # eval/... at step 0
    evals: list[tuple[int, dict]] = field(default_factory=list)  # (step, eval/...) logged
    warm_start: list[str] = field(default_factory=list)  # the warm start in words

    @property
    def name(self) -> str:
        return "warm" if self.warm else "cold"


def error(values: dict) -> float:
    """The held-out error: the mean over ``ab``, ``bc``, ``ac`` of their MAE to the truth."""
    return statistics.fmean(values[f"eval/{a}/mae"] for a in ARROWS)


def evaluations(out: Path) -> list[tuple[int, dict]]:
    """Every evaluation a run logged in ``metrics.jsonl``, by step (the last of a step)."""
    by_step: dict[int, dict] = {}
    for line in (out / "metrics.jsonl").read_text().splitlines():
        record = json.loads(line)
        values = {k: v for k, v in record.items() if k.startswith("eval/")}
        if values:
            by_step[int(record["step"])] = values
    return sorted(by_step.items())


def flat(table: dict[str, dict[str, float]]) -> dict[str, float]:
    return {f"eval/{row}/{col}": v for row, cols in table.items() for col, v in cols.items()}


# ---------------------------------------------------------------------- the runs
def train_source(out: Path, experiment: str, steps: int, quick: bool, reuse: bool) -> float:
    """A source CycleGAN: one ``cdl train`` command in its own process; its wall time."""
    command = source_command(out, experiment, steps, quick)
    done = out / "bench.json"
    if reuse and done.is_file() and json.loads(done.read_text())["command"] == command:
        return json.loads(done.read_text())["wall_s"]
    if out.exists():
        shutil.rmtree(out)
    t0 = time.perf_counter()
    ran = subprocess.run([sys.executable, "-m", "runtime", *command[1:]], cwd=ROOT,
                         capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if ran.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{ran.stderr[-3000:]}")
    done.write_text(json.dumps({"command": command, "wall_s": wall}))
    return wall


def source_command(out: Path, experiment: str, steps: int, quick: bool) -> list[str]:
    return (["cdl", "train", experiment, "--steps", str(steps), "--seed", "0", "--out",
             str(out)] + (["--backend", "eager"] if quick else []))


def train_triangle(run: Triangle, sources: list[Path], steps: int, eval_every: int,
                   quick: bool, reuse: bool) -> None:
    """One ``triangle_fonts`` run in this process, as ``cdl train`` builds it (and, warm,
    with its ``--init``/``--along`` pairs), evaluated at step 0 and every ``eval_every``."""
    done = run.out / "bench.json"
    key = {"warm": run.warm, "seed": run.seed, "steps": steps, "eval_every": eval_every,
           "quick": quick, "sources": [str(s) for s in sources]}
    if reuse and done.is_file() and json.loads(done.read_text())["key"] == key:
        saved = json.loads(done.read_text())
        run.wall_s, run.start, run.warm_start = saved["wall_s"], saved["start"], saved["lines"]
        run.evals = evaluations(run.out)
        return
    if run.out.exists():
        shutil.rmtree(run.out)
    t0 = time.perf_counter()
    over = {"backend": "eager"} if quick else {}
    exp, program = prepare("triangle_fonts", seed=run.seed, **over)
    info = {"experiment": "triangle_fonts",
            "options": {"device": str(program.device), "seed": run.seed, "compile": over}}
    if run.warm:
        report = init_pairs(exp.functor, list(zip(sources, MAPS, strict=True)))
        info["warm_start"] = report.record()
        run.warm_start = report.lines()
        if report.replaced:
            program = recompile(exp, over)
    with eval_mode(program):
        run.start = flat(exp.evaluate(program))
    settings = {**exp.train, "seed": run.seed, "steps": steps, "sample_every": eval_every,
                "checkpoint_every": 0, "progress": False, "tensorboard": False}
    Trainer(program, exp.data, run.out, **settings, **exp.trainer_extras(),
            run_info=info).fit()
    run.wall_s = time.perf_counter() - t0
    run.evals = evaluations(run.out)
    done.write_text(json.dumps({"key": key, "wall_s": run.wall_s, "start": run.start,
                                "lines": run.warm_start}))


def involution(source: Path) -> dict[str, float]:
    """The trained Sans ↔ Bold run pulled back along ``involution_fonts.map``: the
    involution residual on the held-out Sans glyphs, the run's own round-trip residual
    beside it, and the same for the untrained (identity-start) networks."""
    G = SchemaMap.read(INVOLUTION)
    _, trained, ck = open_run(source, device="cpu")
    _, untrained = prepare("cyclegan_fonts", device="cpu", backend="eager")
    glyphs = font_glyphs({"Sans": "DejaVuSans.ttf", "Bold": "DejaVuSans-Bold.ttf"},
                         torch.device("cpu")).test
    out = {"step": ck.step, "glyphs": len(glyphs["Sans"])}
    for name, program in (("trained", trained), ("untrained", untrained)):
        P = program.functor
        with eval_mode(program):
            [r] = pullback_residuals(P, G, {"Sans": glyphs["Sans"]})
            out[f"{name}/involution"] = r.residual
            out[f"{name}/round_trip"] = P.residual("f.g", "id(Sans)", glyphs["Sans"])
        out["image"], out["holds"] = r.image, r.holds
    return out


# ---------------------------------------------------------------------- the table
def mean_sd(xs: list[float]) -> str:
    if not xs:
        return "—"
    m = statistics.fmean(xs)
    sd = statistics.stdev(xs) if len(xs) > 1 else 0.0
    return f"{m:.4f} ± {sd:.4f}" if len(xs) > 1 else f"{m:.4f}"


def steps_to_reach(run: Triangle, target: float) -> int | None:
    """The first logged step (0: the start) at which ``run``'s error is ≤ ``target``."""
    for step, values in [(0, run.start), *run.evals]:
        if error(values) <= target:
            return step
    return None


def table(runs: list[Triangle], inv: dict, steps: int, source_steps: int, eval_every: int,
          walls: dict[str, float], seeds: list[int]) -> str:
    cold = {r.seed: r for r in runs if not r.warm}
    warm = {r.seed: r for r in runs if r.warm}
    reach = [steps_to_reach(warm[s], error(cold[s].evals[-1][1])) for s in seeds]
    rows = ["| start | triangle residual, step 0 | held-out error, step 0 | "
            f"steps to the cold run's final error | held-out error, step {steps} | "
            f"`ac` MAE, step {steps} | triangle residual, step {steps} | wall / run |",
            "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for name, group in (("cold (the experiment's identity-start networks)", cold),
                        ("warm: two CycleGANs along two maps (composite rule for `ac`)",
                         warm)):
        rs = [group[s] for s in seeds]
        final = [r.evals[-1][1] for r in rs]
        if group is cold:
            reached = f"{steps} (its budget)"
        else:
            got = [x for x in reach if x is not None]
            reached = (f"{statistics.fmean(got):.0f}" + (f" ({', '.join(map(str, reach))})"
                                                          if len(reach) > 1 else "")
                       if len(got) == len(reach) else
                       f"not reached by {len(reach) - len(got)} of {len(reach)} seeds "
                       f"({', '.join('—' if x is None else str(x) for x in reach)})")
        rows.append(
            f"| {name} | {mean_sd([r.start['eval/triangle/residual'] for r in rs])} "
            f"| {mean_sd([error(r.start) for r in rs])} | {reached} "
            f"| {mean_sd([error(v) for v in final])} "
            f"| {mean_sd([v['eval/ac/mae'] for v in final])} "
            f"| {mean_sd([v['eval/triangle/residual'] for v in final])} "
            f"| {statistics.fmean(r.wall_s for r in rs):.0f} s |")
    w0 = warm[seeds[0]]
    later = w0.start.get("later_pair_residual")
    first = [error(warm[s].evals[0][1]) for s in seeds]
    best = [min(error(v) for _, v in warm[s].evals) for s in seeds]
    text = "\n".join(rows)
    text += (f"\n\nSeeds {', '.join(map(str, seeds))} (mean ± standard deviation); "
             f"{steps} triangle steps, held-out evaluation every {eval_every} steps (the "
             f"warm start's steps to the cold error are the first logged step at or "
             f"below it, seed by seed). Held-out error: the mean absolute error of `ab`, "
             f"`bc` and `ac` to the true glyphs, averaged over the three arrows. Sources: "
             f"`cyclegan_fonts` and `cyclegan_fonts_oblique`, {source_steps} steps each, "
             f"seed 0 ({walls['src_bold']:.0f} s and {walls['src_oblique']:.0f} s wall): "
             f"the warm start stands on {2 * source_steps} steps of training besides its "
             f"own {steps}. Once training starts, the warm runs' error first rises, to "
             f"{mean_sd(first)} at step {warm[seeds[0]].evals[0][0]} (fresh critics, the "
             f"triangle's own adversarial losses), and its lowest logged value after step "
             f"0 is {mean_sd(best)}. The cold start's residual is 0 at step 0 too: the "
             f"experiment's networks start as the identity.")
    if later is not None:
        text += (f" Had `ac` followed the later pair (the oblique run's `f`, a slant of "
                 f"Sans glyphs that were never bold), the triangle's residual at step 0 "
                 f"would be {later:.4f} (seed {seeds[0]}).")
    text += ("\n\n| involution along `examples/involution_fonts.map` | "
             "`s.s = id(X)` → `" + inv["image"] + "` | `f.g = id(Sans)` (the run's round trip) |"
             "\n|---|---:|---:|\n"
             f"| `cyclegan_fonts` trained {inv['step']} steps, pulled back, no training | "
             f"{inv['trained/involution']:.4f} | {inv['trained/round_trip']:.4f} |\n"
             f"| the same networks untrained (identity start) | "
             f"{inv['untrained/involution']:.4f} | {inv['untrained/round_trip']:.4f} |\n\n"
             f"Mean absolute residual on the {inv['glyphs']} held-out Sans glyphs "
             f"(pixels in [-1, 1]); the image equation holds in Fonts: {inv['holds']}.")
    return text


def later_pair_residual(run: Triangle, sources: list[Path]) -> float:
    """The triangle's step-0 residual had ``ac`` started from the later pair's path (the
    oblique run's ``f``) instead of the composite: ``|bc(ab(x)) - bc(x)|``, since ``bc``
    is that same network."""
    exp, program = prepare("triangle_fonts", seed=run.seed, backend="eager")
    init_pairs(exp.functor, list(zip(sources, MAPS, strict=True)))
    F = exp.functor
    x = font_glyphs(dict(zip(("Sans", "Bold", "BoldOblique"), TRIANGLE_FONTS, strict=True)),
                    torch.device("cpu")).test["Sans"]
    with eval_mode(program), torch.no_grad():
        ab, bc = F.modules["ab"], F.modules["bc"]
        return (bc(ab(x)) - bc(x)).abs().mean().item()


def write_readme(text: str) -> None:
    write_block(README, "warm-start", "Warm starts along schema maps (`bench_warm_start.py`)", text)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=1500, help="triangle steps (default 1500)")
    p.add_argument("--source-steps", type=int, default=1500,
                   help="steps of each source CycleGAN (default 1500)")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--eval-every", type=int, help="default: a twentieth of --steps")
    p.add_argument("--out", type=Path, default=ROOT / "runs" / "warm_start")
    p.add_argument("--quick", action="store_true", help="4 eager steps, one seed: smoke test")
    p.add_argument("--reuse", action="store_true", help="keep the finished runs of --out")
    p.add_argument("--write", action="store_true", help="the table into benchmarks/README.md")
    p.add_argument("--json", type=Path, help="also write every measurement here")
    args = p.parse_args(argv)
    if args.quick:
        args.steps, args.source_steps, args.seeds = 4, 4, args.seeds[:1]
    eval_every = args.eval_every or max(1, args.steps // 20)
    walls, sources = {}, []
    for name, experiment in SOURCES:
        out = args.out / name
        print(f"source: {' '.join(source_command(out, experiment, args.source_steps, args.quick))}",
              file=sys.stderr, flush=True)
        walls[name] = train_source(out, experiment, args.source_steps, args.quick, args.reuse)
        sources.append(out)
        print(f"        {walls[name]:.0f} s", file=sys.stderr, flush=True)
    runs = []
    for seed in args.seeds:
        for warm in (False, True):
            run = Triangle(warm, seed, args.out / f"triangle-{'warm' if warm else 'cold'}-s{seed}")
            print(f"triangle_fonts {run.name}, seed {seed}, {args.steps} steps",
                  file=sys.stderr, flush=True)
            train_triangle(run, sources, args.steps, eval_every, args.quick, args.reuse)
            print(f"        {run.wall_s:.0f} s; error {error(run.start):.4f} at step 0, "
                  f"{error(run.evals[-1][1]):.4f} at step {run.evals[-1][0]}",
                  file=sys.stderr, flush=True)
            runs.append(run)
    first_warm = next(r for r in runs if r.warm)
    print("\n".join(first_warm.warm_start), file=sys.stderr)
    first_warm.start["later_pair_residual"] = later_pair_residual(first_warm, sources)
    inv = involution(sources[0])
    text = table(runs, inv, args.steps, args.source_steps, eval_every, walls, args.seeds)
    threads = os.environ.get("OMP_NUM_THREADS")
    command = ((f"OMP_NUM_THREADS={threads} " if threads else "")
               + "python3 benchmarks/bench_warm_start.py"
               + (f" --steps {args.steps}" if args.steps != 1500 else "")
               + (f" --source-steps {args.source_steps}" if args.source_steps != 1500 else "")
               + (f" --seeds {' '.join(map(str, args.seeds))}" if args.seeds != [0, 1, 2]
                  else "")
               + (f" --eval-every {args.eval_every}" if args.eval_every else ""))
    total = sum(walls.values()) + sum(r.wall_s for r in runs)
    text = (f"`{command}{' --quick' if args.quick else ''}` — {len(runs) + 2} training runs, "
            f"{total / 60:.1f} min of wall time in all.\n\n" + text)
    print(text)
    if args.json:
        args.json.write_text(json.dumps({
            "runs": [{"warm": r.warm, "seed": r.seed, "wall_s": r.wall_s, "start": r.start,
                      "evals": r.evals} for r in runs],
            "involution": inv, "sources_wall_s": walls}, indent=1))
    if args.write:
        write_readme(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
