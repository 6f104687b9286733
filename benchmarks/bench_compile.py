#!/usr/bin/env python3
"""Compile time: where a compiled program's first step goes, cold and warm.

    python3 benchmarks/bench_compile.py            # full run, writes benchmarks/README.md
    python3 benchmarks/bench_compile.py --no-write --only cyclegan_fonts

For each experiment (default: the default ``cyclegan_fonts`` and ``product_emoji``) and
each way of compiling it — cdl with every network call inlined (the default), cdl with
regional compilation (``regional=True``), and for ``cyclegan_fonts``
the same networks' CycleGAN step written by hand under plain ``torch.compile`` (the
baseline; ``bench_step.HandCycleGAN``) — every figure is measured in a process of its own
(``--child``), so that each starts as a user's would:

- *cold*: an empty cache folder (``TORCHINDUCTOR_CACHE_DIR``);
- *warm, new process*: a second process on the cache the cold one filled;
- *warm, other machine*: a process on another empty cache folder whose run folder holds
  the archive the cold process packed (``compiled.zip``); the unpacking is counted in;
- *warm, same process*: a second program of the same kind in the cold process.

cdl's variants go round their first step as ``cdl train`` does
(``runtime.train.compiled.RunCompile``): it unpacks the run folder's archive where this
cache never compiled the program, starts early what the step will wait for — the CPU's
vector-instruction probe (``compiler.cache.probe_cpu_early``; every process asks for it,
warm or cold) and, when cold, Inductor's precompiled header
(``compiler.cache.build_header_early``) — and packs the archive after. Their worth:
*unprepared* is the inlined program with both left to Inductor, which makes them inside
the first step (cold: in the first kernel's build; warm: the probe's child processes
before the first kernel is loaded). The header lives outside the
cache folder (``<tmp>/torchinductor_<user>``, built once per machine), so *cold* finds it
made; *fresh* and *fresh, unprepared* run with an empty ``TMPDIR`` too: a machine where
nothing was ever compiled.

Inlined is cdl's default; ``regional=True`` makes each lone network one nested compile
region (``compiler/lowering.py``), built once per architecture.

*First step* is the wall time of the first update (or of building the program and its
first update for *same process*), torch.compile's start-up in the process included, as a
user pays it. Its parts, from ``torch._dynamo.utils.compilation_time_metrics``: Dynamo's
trace, the forward's AOTAutograd + Inductor compile, the backward's (compiled at the
first backward), and of those the wait for C++ kernel builds. *Step*: the median of 30
steps after the first ones, regional and inlined alternating in one process.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

T_START = time.perf_counter()

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if str(ROOT) not in sys.path:  # run as a script: import the checkout's packages
    sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from benchmarks.readme_block import publish  # noqa: E402

HEADING = "Compile time (`bench_compile.py`)"
VARIANTS = ("regional", "inline", "unprepared", "fresh", "fresh-unprepared", "hand")
COLD_ONLY = ("fresh", "fresh-unprepared")  # differ from inline when cold only


# --------------------------------------------------------------------------- child
def build(experiment: str, variant: str):
    """The training step of ``variant`` for ``experiment``, as a function of nothing; for
    cdl's variants with ``.program`` and ``.batch_size`` set on it (what a run compiles)."""
    from runtime.experiments.runner import prepare  # noqa: PLC0415 - in the child only

    if variant == "hand":
        from benchmarks.bench_step import HandCycleGAN  # noqa: PLC0415

        exp, _ = prepare(experiment, device="cpu", seed=0, backend="eager")
        (a, xa), (b, xb) = list(exp.data.items())
        S, F = exp.functor.schema, exp.functor
        nets = {"f": F.modules[S["f"]], "g": F.modules[S["g"]],
                "D_Horse": exp.critics[a], "D_Zebra": exp.critics[b]}
        hand = HandCycleGAN(nets, {"Horse": xa.tensor[:16], "Zebra": xb.tensor[:16]},
                            compile=True)
        return hand.step
    exp, prog = prepare(experiment, device="cpu", seed=0, backend="inductor",
                        regional=variant == "regional")  # the others: inlined
    n = exp.train.get("batch_size", 16)  # the data objects' first samples (priors drawn)
    batch = {ob: src.tensor[:n] for ob, src in exp.data.items()}

    def step():
        return prog.step(batch)

    step.program, step.batch_size = prog, n
    return step


def parts() -> dict[str, float]:
    """Seconds of the compile's parts so far in this process (sums over graphs)."""
    m = torch._dynamo.utils.compilation_time_metrics
    total = {k: sum(m.get(k, [])) for k in
             ("bytecode_tracing", "compile_fx.<locals>.fw_compiler_base",
              "compile_fx.<locals>.bw_compiler", "async_compile.wait")}
    return {"dynamo": total["bytecode_tracing"],
            "forward": total["compile_fx.<locals>.fw_compiler_base"],
            "backward": total["compile_fx.<locals>.bw_compiler"],
            "c++ wait": total["async_compile.wait"]}


def child(args) -> dict:
    """One first step. cdl's variants go round it as ``cdl train`` does (``RunCompile``):
    before, the run folder's archive unpacked if this cache never compiled the program
    and the CPU's probe started (and the header's build, when cold); after, the archive
    packed. The run folder is ``args.run_folder``: empty, or (*other machine*) holding the
    archive."""
    from compiler.cache import compile_counts  # noqa: PLC0415 - in the child only
    from runtime.train import compiled  # noqa: PLC0415
    from runtime.train.compiled import ARCHIVE, RunCompile  # noqa: PLC0415

    out: dict = {"import_s": time.perf_counter() - T_START}
    t = time.perf_counter()
    step = build(args.experiment, args.variant)
    out["build_s"] = time.perf_counter() - t
    run = None
    if args.variant.endswith("unprepared"):  # the baseline: Inductor makes them when due
        compiled.probe_cpu_early = compiled.build_header_early = lambda: None
    if args.variant != "hand":
        folder = Path(args.run_folder)
        run = RunCompile(folder, step.program, step.batch_size, is_writer=bool(args.pack))
        t = time.perf_counter()
        out["expected"] = run.expect().removeprefix("compiling, ")
        out["expect_s"] = time.perf_counter() - t  # with the archive's unpacking, if any
    t = time.perf_counter()
    step()
    out["first_s"] = time.perf_counter() - t
    out["parts"], out["counts"] = parts(), compile_counts()
    if run is not None:
        run.record()
    if args.pack:
        data = (folder / ARCHIVE).read_bytes()
        Path(args.pack).write_bytes(data)
        out["archive_mb"] = len(data) / 2 ** 20
    if args.same_process:
        t = time.perf_counter()
        again = build(args.experiment, args.variant)
        again()
        out["same_process_s"] = time.perf_counter() - t
    return out


def steps_child(args) -> dict:
    """Step times of the regional and inlined programs, alternating rounds."""
    runs = {v: build(args.experiment, v) for v in ("regional", "inline")}
    for step in runs.values():
        for _ in range(3):
            step()
    times: dict[str, list[float]] = {v: [] for v in runs}
    for r in range(6):
        for v in (list(runs) if r % 2 == 0 else list(runs)[::-1]):
            for _ in range(5):
                t = time.perf_counter()
                runs[v]()
                times[v].append(time.perf_counter() - t)
    return {v: statistics.median(ts) for v, ts in times.items()}


def resume_child(args) -> dict:
    """``Trainer.resume`` of a finished run to 10 more steps: seconds from this process's
    start (and from ``fit``) to the end of the first new step."""
    from runtime import Trainer  # noqa: PLC0415 - in the child only

    seen: list[float] = []

    def first_step(trainer, step, losses):
        seen.append(time.perf_counter())

    run, total = args.resume_child[0], int(args.resume_child[1])
    t = Trainer.resume(run, steps=total, progress=False, callbacks=[first_step])
    t_fit = time.perf_counter()
    t.fit(until=total - 9)  # the run had total - 10 steps: one new step
    return {"process_s": seen[0] - T_START, "fit_s": seen[0] - t_fit,
            "expected": (t.compiled or {}).get("expected")}


def resume_rows(work: Path, steps: int = 20) -> list[str]:
    """A finished default run (``cdl train --steps 20``, cold), resumed to more steps on
    this machine (warm cache) and on another (an empty cache, the run's archive)."""
    run, a = work / "run", work / "resume-A"
    env = {**os.environ, "TORCHINDUCTOR_CACHE_DIR": str(a), "PYTHONPATH": str(ROOT)}
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "runtime", "train", "--steps", str(steps), "--out",
                    str(run)], check=True, env=env, capture_output=True, timeout=1800)
    train_s = time.perf_counter() - t
    rows = [f"`cdl train --steps {steps}` (default experiment, cold cache): {train_s:.0f} s "
            f"wall in all."]
    copy = work / "run-copied"  # the finished run as copied to another machine
    shutil.copytree(run, copy)
    for where, folder, cache in (("this machine (its cache warm)", run, a),
                                 ("another machine (empty cache; the run folder's archive)",
                                  copy, work / "resume-B")):
        r = run_child("--resume-child", str(folder), str(steps + 10), cache=cache)
        rows.append(f"`Trainer.resume` to more steps on {where}: first new step "
                    f"{r['process_s']:.1f} s after the process started ({r['fit_s']:.1f} s "
                    f"after `fit` began), expected: {r['expected']}.")
    return rows


# --------------------------------------------------------------------------- parent
def run_child(*argv: str, cache: Path, tmp: Path | None = None) -> dict:
    env = {**os.environ, "TORCHINDUCTOR_CACHE_DIR": str(cache), "PYTHONPATH": str(ROOT)}
    if tmp is not None:  # a machine that never compiled: no precompiled header either
        tmp.mkdir(parents=True)
        env["TMPDIR"] = str(tmp)
    done = subprocess.run([sys.executable, str(Path(__file__)), *argv], capture_output=True,
                          text=True, env=env, timeout=1800)
    if done.returncode != 0:
        raise SystemExit(f"child {argv} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure(experiment: str, variant: str, work: Path) -> dict:
    """Cold, warm in a new process, warm on another machine, warm in the same process."""
    a, b, archive = work / f"{variant}-A", work / f"{variant}-B", work / f"{variant}.zip"
    runs = work / f"{variant}-runs"
    for name in ("cold", "warm", "copied"):
        (runs / name).mkdir(parents=True)
    print(f"  {experiment} / {variant}: cold", flush=True)
    if variant in COLD_ONLY:  # a machine that never compiled: an empty TMPDIR too
        cold = run_child("--child", experiment, variant, "--run-folder", str(runs / "cold"),
                         cache=a, tmp=work / f"{variant}-tmp")
        return {"cold": cold, "warm": None, "other": None}
    pack = ("--pack", str(archive)) if variant != "hand" else ()  # hand: no run folder
    cold = run_child("--child", experiment, variant, "--run-folder", str(runs / "cold"),
                     *pack, "--same-process", cache=a)
    print(f"  {experiment} / {variant}: warm", flush=True)
    warm = run_child("--child", experiment, variant, "--run-folder", str(runs / "warm"),
                     cache=a)
    other = None
    if variant != "hand":  # the run folder copied to a machine with an empty cache
        shutil.copy(archive, runs / "copied" / "compiled.zip")
        other = run_child("--child", experiment, variant, "--run-folder",
                          str(runs / "copied"), cache=b)
    return {"cold": cold, "warm": warm, "other": other}


def row(name: str, r: dict) -> str:
    cold, warm, other = r["cold"], r["warm"], r["other"]
    p = cold["parts"]
    other_s = f"{other['expect_s'] + other['first_s']:.1f}" if other else "—"
    warm_s = f"{warm['first_s']:.1f}" if warm else "—"
    same_s = f"{cold['same_process_s']:.1f}" if "same_process_s" in cold else "—"
    return (f"| {name} | {cold['first_s']:.1f} | {p['dynamo']:.1f} | {p['forward']:.1f} | "
            f"{p['backward']:.1f} | {p['c++ wait']:.1f} | {warm_s} | {other_s} | {same_s} |")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", nargs="*", default=["cyclegan_fonts", "product_emoji"])
    ap.add_argument("--no-write", action="store_true", help="print, do not write README.md")
    ap.add_argument("--child", nargs=2, metavar=("EXPERIMENT", "VARIANT"),
                    help=argparse.SUPPRESS)
    ap.add_argument("--steps", metavar="EXPERIMENT", help=argparse.SUPPRESS)
    ap.add_argument("--resume-child", nargs=2, help=argparse.SUPPRESS)
    ap.add_argument("--pack", help=argparse.SUPPRESS)
    ap.add_argument("--run-folder", help=argparse.SUPPRESS)
    ap.add_argument("--same-process", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        args.experiment, args.variant = args.child
        print(json.dumps(child(args)))
        return 0
    if args.steps:
        args.experiment = args.steps
        print(json.dumps(steps_child(args)))
        return 0
    if args.resume_child:
        print(json.dumps(resume_child(args)))
        return 0

    lines = ["Command: `python3 benchmarks/bench_compile.py` — "
             f"{os.cpu_count()}-core CPU, torch {torch.__version__}; measured "
             f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}. Seconds; each column "
             "in a fresh process (see the script's docstring). *parts* are of the cold "
             "first step: Dynamo's trace, the forward's and the backward's AOTAutograd + "
             "Inductor compile, and within those the wait for C++ kernel builds.", ""]
    with tempfile.TemporaryDirectory(prefix="bench-compile-") as tmp:
        for experiment in args.only:
            variants = [v for v in VARIANTS if experiment == "cyclegan_fonts"
                        or v not in ("hand", "fresh", "fresh-unprepared")]
            results = {}
            for v in variants:
                results[v] = measure(experiment, v, Path(tmp) / experiment)
            print(f"  {experiment}: step times", flush=True)
            step = run_child("--steps", experiment, cache=Path(tmp) / experiment / "regional-A")
            names = {"regional": "cdl, `regional=True`", "inline": "cdl, inlined (the "
                     "default)", "unprepared": "cdl, inlined, nothing started early",
                     "fresh": "cdl, inlined, on a machine that never compiled",
                     "fresh-unprepared": "cdl, same, nothing started early",
                     "hand": "hand-written, plain `torch.compile` (baseline)"}
            lines += [f"### {experiment}", "",
                      "| program | cold first step | Dynamo | forward | backward | "
                      "of which C++ wait | warm, new process | warm, other machine "
                      "(run folder's archive) | warm, same process |",
                      "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
            lines += [row(names[v], results[v])
                      for v in ("inline", "unprepared", "fresh", "fresh-unprepared",
                                "regional", "hand") if v in results]
            said = {v: [r["expected"] for r in results[v].values() if r and "expected" in r]
                    for v in results if v != "hand"}
            reg, inl = results["regional"]["cold"], results["inline"]["cold"]
            lines += ["", f"Step time (median of 30, alternating in one process): inlined "
                      f"{step['inline'] * 1e3:.1f} ms, regional {step['regional'] * 1e3:.1f} "
                      f"ms ({(step['regional'] / step['inline'] - 1) * 100:+.1f}%). "
                      f"Cold compile counts: inlined {inl['counts']}, regional "
                      f"{reg['counts']}; the archive (inlined): "
                      f"{inl.get('archive_mb', 0):.1f} MiB. What each cdl process expected "
                      f"(cold, warm, other machine): {said}.", ""]
            print("\n".join(lines[-(len(variants) + 5):]), flush=True)
        print("  resume", flush=True)
        lines += ["### Resuming a finished run", "", *resume_rows(Path(tmp)), ""]
    text = "\n".join(lines)
    publish(text, "bench_compile", HEADING, not args.no_write)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
