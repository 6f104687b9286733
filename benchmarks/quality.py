"""Quality of the built-in experiments: ground truth, baselines, residuals and the ablation.

``python3 benchmarks/quality.py [--write]`` trains every experiment of the seed's schemas
for its default step budget on CPU with fixed seeds — three seeds for the headline rows
(mean ± standard deviation over seeds) — and, for every schema with equations, the same
runs again with the equation losses switched off (``--equation-weight 0``: the
ablation; the residuals are still measured). Each run is one ``cdl train`` command in a
fresh process, shown next to its row, so that every number is reproduced by the command
beside it.

A mean hides the inputs a map gets wrong, so beside each mean ratio to the identity
baseline the table has its worst decile (the same ratio on the tenth of the held-out
inputs where the arrow errs most: ``runtime.report.measures.worst_decile_ratio``), and
for the GAN the share of the training characters its samples reach (class coverage, a
mode-collapse check). Each experiment's sample grid (``--out``/grids/NAME.png, at the
run's last checkpoint) shows its first held-out inputs and then its worst ones by the
same per-input error. ``--write`` puts the table into ``benchmarks/README.md`` (between
the ``quality`` markers) and the grids into ``docs/quality/``.

``--quick`` is the smoke version (a few steps, eager, one seed): it checks that every
experiment trains, evaluates and lands in the table, and says nothing about quality.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the checkout's own packages, not an installed cdl

from benchmarks.readme_block import write_block  # noqa: E402
from runtime.report.grid import save_grids  # noqa: E402
from runtime.train.networks import eval_mode  # noqa: E402
from runtime.train.run_folder import open_run  # noqa: E402
from runtime.train.samples import sample_inputs_for, sample_rows  # noqa: E402

README = ROOT / "benchmarks" / "README.md"
SHOWN = 8  # inputs per part of a sample grid: the first ones, then the worst ones


@dataclass(frozen=True)
class Column:
    """A table cell: a label and the ``eval/<row>/<column>`` keys it shows."""

    label: str
    key: str
    kind: str = "value"  # or "ratio" (shown as 0.45×)


@dataclass(frozen=True)
class Spec:
    """One experiment of the benchmark: its seeds, whether it has an ablation, the
    columns of its ground-truth metrics, baselines and residuals, of its tails (the worst
    decile of each ratio, or the GAN's class coverage: what a mean hides), and the object
    whose sample grid goes in ``docs/``."""

    name: str
    seeds: tuple[int, ...]
    truth: tuple[Column, ...]
    baseline: tuple[Column, ...]
    residuals: tuple[Column, ...]
    grid: str
    tails: tuple[Column, ...] = ()
    ablate: bool = True
    ablation_seeds: tuple[int, ...] | None = None  # default: the same seeds
    extra: tuple[str, ...] = field(default_factory=tuple)  # more cdl train flags


def fonts_spec(name: str, seeds: tuple[int, ...], objects: tuple[str, str],
               ablation_seeds: tuple[int, ...] | None = None) -> Spec:
    a, b = objects
    return Spec(
        name, seeds,
        truth=(Column(f"f ({a}→{b}) MAE", "eval/f/mae"), Column("f ratio", "eval/f/ratio", "ratio"),
               Column(f"g ({b}→{a}) MAE", "eval/g/mae"), Column("g ratio", "eval/g/ratio", "ratio"),
               Column("f SSIM", "eval/f/ssim"), Column("f char accuracy", "eval/f/accuracy"),
               Column("g char accuracy", "eval/g/accuracy")),
        baseline=(Column("identity MAE (f)", "eval/f/identity_mae"),
                  Column("identity SSIM (f)", "eval/f/identity_ssim"),
                  Column("char accuracy of the true glyphs (f)", "eval/f/truth_accuracy")),
        residuals=(Column("cycle f.g", "eval/f/cycle"), Column("cycle g.f", "eval/g/cycle")),
        tails=(Column("f worst decile", "eval/f/worst_decile_ratio", "ratio"),
               Column("g worst decile", "eval/g/worst_decile_ratio", "ratio")),
        grid=a, ablation_seeds=ablation_seeds)


SPECS = (
    # the ablation at one seed: the whole run within 75 min (three, 2026-12-05: README)
    fonts_spec("cyclegan_fonts", (0, 1, 2), ("Sans", "Bold"), ablation_seeds=(0,)),
    fonts_spec("cyclegan_fonts_serif", (0,), ("Sans", "Serif")),
    Spec("product_emoji", (0, 1, 2),
         truth=(Column("removal MAE", "eval/removal/mae"),
                Column("removal ratio", "eval/removal/ratio", "ratio"),
                Column("tone spread across z", "eval/insertion/tone_spread"),
                Column("spread, same z", "eval/insertion/same_z_spread"),
                Column("tone transfer ratio", "eval/transfer/ratio", "ratio")),
         baseline=(Column("input-as-output MAE", "eval/removal/input_mae"),
                   Column("spread of the 5 true tones", "eval/insertion/true_spread")),
         residuals=(Column("g.f = id(BxC)", "eval/g.f/residual"),
                    Column("its image part", "eval/g.f/image"),
                    Column("its code part", "eval/g.f/code"),
                    Column("f.g = id(A)", "eval/f.g/residual")),
         tails=(Column("removal worst decile", "eval/removal/worst_decile_ratio", "ratio"),
                Column("tone transfer worst decile", "eval/transfer/worst_decile_ratio", "ratio")),
         grid="A", ablation_seeds=(0,)),  # one seed: the whole run within 75 min (three: README)
    Spec("triangle_fonts", (0, 1, 2),
         truth=(Column("ab ratio", "eval/ab/ratio", "ratio"),
                Column("bc ratio", "eval/bc/ratio", "ratio"),
                Column("ac ratio", "eval/ac/ratio", "ratio"),
                Column("ab.bc ratio", "eval/ab.bc/ratio", "ratio"),
                Column("ac MAE", "eval/ac/mae"), Column("ac SSIM", "eval/ac/ssim"),
                Column("ac char accuracy", "eval/ac/accuracy")),
         baseline=(Column("identity MAE (ac)", "eval/ac/identity_mae"),),
         residuals=(Column("ab.bc vs ac", "eval/triangle/residual"),),
         tails=tuple(Column(f"{a} worst decile", f"eval/{a}/worst_decile_ratio", "ratio")
                     for a in ("ab", "bc", "ac", "ab.bc")),
         grid="Sans", ablation_seeds=(0,)),
    Spec("gan_glyphs", (0, 1, 2),
         truth=(Column("KID", "eval/gen/kid"), Column("progress", "eval/gen/progress"),
                Column("classifier confidence", "eval/gen/confidence")),
         baseline=(Column("KID untrained (ceiling)", "eval/gen/kid_ceiling"),
                   Column("KID held-out real (floor)", "eval/gen/kid_floor"),
                   Column("confidence on real", "eval/gen/real_confidence")),
         residuals=(),
         tails=(Column("class coverage (1000 samples)", "eval/gen/coverage"),
                Column("of the real glyphs", "eval/gen/real_coverage"),
                Column("copies (new glyphs: 0.05)", "eval/gen/copies"),
                Column("codes read under 0.5", "eval/gen/doubtful_codes")),
         grid="Latent", ablate=False),
    Spec("equalizer_circles", (0,),
         truth=(Column("f MAE to the equalizer's circle", "eval/f/mae"),
                Column("f ratio", "eval/f/ratio", "ratio"),
                Column("shape error", "eval/circle/shape_error"),
                Column("background error", "eval/circle/background_error")),
         baseline=(Column("identity MAE", "eval/f/identity_mae"),
                   Column("identity residual", "eval/equalizer/identity_residual"),
                   Column("Circle data's residual", "eval/equalizer/data_residual")),
         residuals=(Column("f.h = f.g", "eval/equalizer/residual"),
                    Column("f.back = id(Plain)", "eval/f.back/residual")),
         tails=(Column("f worst decile", "eval/f/worst_decile_ratio", "ratio"),),
         grid="Plain"),
)


@dataclass
class Run:
    spec: Spec
    seed: int
    equations: bool
    out: Path
    command: list[str]
    wall_s: float = math.nan
    steps: int = 0
    values: dict = field(default_factory=dict)


def command(spec: Spec, seed: int, equations: bool, out: Path, quick: bool) -> list[str]:
    cmd = ["cdl", "train", spec.name, "--seed", str(seed), "--out", str(out)]
    if not equations:
        cmd += ["--equation-weight", "0"]
    if quick:
        cmd += ["--steps", "4", "--backend", "eager"]
    return cmd + list(spec.extra)


def final_evaluation(out: Path) -> tuple[int, dict]:
    """The last evaluation a run logged (its step and ``eval/…`` values)."""
    path = out / "metrics.jsonl"
    if not path.is_file():
        raise RuntimeError(f"{out} has no metrics.jsonl: the run did not train")
    last = None
    for line in path.read_text().splitlines():
        record = json.loads(line)
        if any(k.startswith("eval/") for k in record):
            last = record
    if last is None:
        raise RuntimeError(f"{path} has no evaluation line")
    return int(last["step"]), {k: v for k, v in last.items() if k.startswith("eval/")}


def reuse(run: Run) -> bool:
    """Whether ``run.out`` holds a finished run of the same command (``--reuse``)."""
    record = run.out / "quality.json"
    if not record.is_file():
        return False
    done = json.loads(record.read_text())
    if done.get("command") != run.command:
        return False
    run.wall_s = done["wall_s"]
    run.steps, run.values = final_evaluation(run.out)
    return True


def train(run: Run) -> None:
    """One ``cdl train`` command in its own process (``python -m runtime`` is ``cdl``)."""
    if run.out.exists():
        shutil.rmtree(run.out)
    argv = [sys.executable, "-m", "runtime", *run.command[1:]]
    t0 = time.perf_counter()
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True)
    run.wall_s = time.perf_counter() - t0
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(run.command)} failed ({done.returncode}):\n"
                           f"{done.stderr[-3000:]}")
    run.steps, run.values = final_evaluation(run.out)
    (run.out / "quality.json").write_text(json.dumps({"command": run.command,
                                                      "wall_s": run.wall_s}))


def aggregate(runs: list[Run], key: str) -> tuple[float, float]:
    """Mean and standard deviation over seeds (0 for one seed); NaN where absent."""
    xs = [r.values[key] for r in runs if isinstance(r.values.get(key), (int, float))]
    if not xs:
        return math.nan, math.nan
    return statistics.fmean(xs), statistics.stdev(xs) if len(xs) > 1 else 0.0


def cell(runs: list[Run], col: Column) -> str | None:
    """``label mean ± sd`` (no ± for one seed or for a value every seed shares)."""
    mean, sd = aggregate(runs, col.key)
    if math.isnan(mean):
        return None
    if col.kind == "ratio":
        return f"{col.label} {mean:.2f}×" + (f" ± {sd:.2f}" if sd >= 0.005 else "")
    spread = f" ± {sd:.2g}" if sd > 1e-9 * max(1.0, abs(mean)) else ""
    return f"{col.label} {mean:.3g}{spread}"


def table(runs: list[Run]) -> str:
    lines = ["| experiment | equations | seeds | steps | wall / run | ground truth (held out) "
             "| worst decile / class coverage | baseline | equation residuals | command |",
             "|---|---|---:|---:|---:|---|---|---|---|---|"]
    for spec in SPECS:
        for equations in (True, False):
            group = [r for r in runs if r.spec is spec and r.equations == equations]
            if not group:
                continue
            cells = [[c for c in (cell(group, col) for col in cols) if c]
                     for cols in (spec.truth, spec.tails, spec.baseline, spec.residuals)]
            wall = statistics.fmean(r.wall_s for r in group)
            seeds = ",".join(str(r.seed) for r in group)
            cmd = " ".join(group[0].command).replace(f"--seed {group[0].seed}", "--seed S")
            cmd = re.sub(r" --out \S+", "", cmd)
            on = ("on" if equations else "off (ablation)") if spec.ablate else "none in schema"
            lines.append(f"| `{spec.name}` | {on} | {seeds} | {group[0].steps} | {wall:.0f} s | "
                         + " | ".join("; ".join(c) or "—" for c in cells) + f" | `{cmd}` |")
    return "\n".join(lines)


def write_readme(text: str) -> None:
    write_block(README, "quality", "Quality of the built-in experiments (`quality.py`)", text)


def grid_rows(run: Run, n: int = SHOWN) -> list[tuple[str, object]]:
    """The rows of ``run``'s sample grid of ``spec.grid`` at its last checkpoint: its first
    ``n`` held-out inputs through every path the plan evaluates (as the trainer's grids
    show them), then — for an experiment with ground truth (``Experiment.worst``) — its
    ``n`` worst held-out inputs by the per-input error its worst decile ranks by, every
    row labelled ``worst by …``: the inputs a mean hides, in the picture too."""
    exp, program, _ = open_run(run.out, device="cpu", forward_only=True)
    S, name = program.functor.schema, run.spec.grid
    refs = {S.ob(k).name: v for k, v in (exp.references or {}).items()}
    first = sample_rows(program, sample_inputs_for(program, exp.data, exp.samples, n), refs)
    if name not in first:
        raise RuntimeError(f"{run.out}: the plan draws no sample grid for {name!r}; it has "
                           f"{', '.join(sorted(first)) or 'none'}")
    rows = list(first[name])
    if exp.worst is not None:
        with eval_mode(program):
            worst = {S.ob(k).name: w for k, w in exp.worst(program, n).items()}
        if name in worst:
            w = worst[name]
            rows += [(f"worst by {w.by}: {label}", t) for label, t in
                     sample_rows(program, {name: w.inputs}, {name: w.references})[name]]
    return rows


def write_grids(runs: list[Run], folder: Path) -> dict[str, Path]:
    """Per experiment, the sample grid of its first seed with equations on
    (:func:`grid_rows`) at ``folder/NAME.png``."""
    written = {}
    for spec in SPECS:
        first = next((r for r in runs if r.spec is spec and r.equations), None)
        if first is not None:
            path = folder / f"{spec.name}.png"
            save_grids(grid_rows(first), path)  # a product's codes: NAME-vectors.png
            written[spec.name] = path
    return written


def copy_grids(grids: dict[str, Path], docs: Path) -> list[Path]:
    """The grids of :func:`write_grids` into ``docs`` (their vector grids stay behind)."""
    docs.mkdir(parents=True, exist_ok=True)
    written = []
    for name, src in grids.items():
        dst = docs / f"{name}.png"
        shutil.copyfile(src, dst)
        written.append(dst)
    return written


def plan(args: argparse.Namespace) -> list[Run]:
    runs = []
    for spec in SPECS:
        if args.only and spec.name not in args.only:
            continue
        for equations in ((True, False) if spec.ablate else (True,)):
            seeds = spec.seeds if equations else (spec.ablation_seeds or spec.seeds)
            for seed in seeds[:1] if args.quick or args.one_seed else seeds:
                out = args.out / f"{spec.name}-{'eq' if equations else 'noeq'}-s{seed}"
                runs.append(Run(spec, seed, equations, out,
                                command(spec, seed, equations, out, args.quick)))
    return runs


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="a few eager steps, one seed: smoke test")
    p.add_argument("--one-seed", action="store_true", help="the first seed of each row only")
    p.add_argument("--only", nargs="+", metavar="NAME", help="these experiments only")
    p.add_argument("--out", type=Path, default=ROOT / "runs" / "quality")
    p.add_argument("--write", action="store_true",
                   help="put the table in benchmarks/README.md and grids in docs/quality/")
    p.add_argument("--json", type=Path, help="also write every run's values here")
    p.add_argument("--reuse", action="store_true",
                   help="keep the runs already finished in --out (same command) and run the rest")
    args = p.parse_args(argv)
    runs = plan(args)
    for k, run in enumerate(runs, 1):
        print(f"[{k}/{len(runs)}] {' '.join(run.command)}", file=sys.stderr, flush=True)
        if args.reuse and reuse(run):
            print(f"        {run.wall_s:.0f} s (finished before: reused)", file=sys.stderr)
            continue
        train(run)
        print(f"        {run.wall_s:.0f} s", file=sys.stderr, flush=True)
    total = sum(r.wall_s for r in runs)
    text = table(runs) + (f"\n\n{len(runs)} runs, {total / 60:.1f} min in all (the sum of "
                          f"the runs' wall times, each a fresh process, one after another).")
    print(text)
    grids = write_grids(runs, args.out / "grids")
    if args.json:
        args.json.write_text(json.dumps([{"experiment": r.spec.name, "seed": r.seed,
                                          "equations": r.equations, "wall_s": r.wall_s,
                                          "steps": r.steps, "command": r.command,
                                          **r.values} for r in runs], indent=1))
    if args.write:
        write_readme(text)
        for path in copy_grids(grids, ROOT / "docs" / "quality"):
            print(f"wrote {path.relative_to(ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
