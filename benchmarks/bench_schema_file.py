"""The default experiment written as a schema file: ``cdl train S.schema --data …`` against
the built-in ``cdl train cyclegan_fonts``.

Both train the CycleGAN between DejaVu Sans and DejaVu Sans Bold glyphs (32×32) with the
same settings — the built-in's: lsgan, l1, equation weight 10, Adam 5e-4 (0.5, 0.999),
batch 16, decay from half way — and, as the chooser picks them from the spaces, the same
networks (the identity-start residual generator, a PatchGAN critic). The schema file
run is one command, no Python:

    cdl train examples/cyclegan.schema --data Horse=glyphs:DejaVuSans \\
        --data Zebra=glyphs:DejaVuSans-Bold --lr 5e-4 --holdout 0.2 --steps 1500

Each run is a ``cdl train`` subprocess (wall time includes start-up and compilation).
Both are then judged alike on their held-out characters — a fifth of them in each; the
built-in splits by character, the schema file run by index, and since the two fonts'
glyph sources list the same characters in the same order, its held-out glyphs are paired
too — by the built-in's ground-truth measures: the mean absolute error of ``f(x)``
against the same character in the other font, the identity map's, their ratio, SSIM, and
the cycle residual. The schema file run's own evaluation (residuals, critic scores, KID)
is printed too.

    python3 benchmarks/bench_schema_file.py [--steps 1500] [--backend inductor]

Results (table in ``benchmarks/README.md``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from runtime import open_run  # noqa: E402
from runtime.experiments.font_pairs import translation_scores  # noqa: E402
from runtime.sources import glyphs, holdout  # noqa: E402

FONTS = {"Horse": "DejaVuSans", "Zebra": "DejaVuSans-Bold"}


def schema_command(steps: int, out: Path, backend: str) -> list[str]:
    data = [a for ob, font in FONTS.items() for a in ("--data", f"{ob}=glyphs:{font}")]
    return ["train", str(ROOT / "examples" / "cyclegan.schema"), *data, "--lr", "5e-4",
            "--holdout", "0.2", "--steps", str(steps), "--out", str(out), "--backend", backend,
            "--no-progress"]


def builtin_command(steps: int, out: Path, backend: str) -> list[str]:
    return ["train", "cyclegan_fonts", "--steps", str(steps), "--out", str(out),
            "--backend", backend, "--no-progress"]


def cdl(args: list[str]) -> tuple[float, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    print("$ cdl " + " ".join(args), file=sys.stderr, flush=True)
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "runtime", *args], env=env, text=True,
                          capture_output=True)
    wall = time.perf_counter() - t0
    if done.returncode:
        sys.exit(f"cdl failed ({done.returncode}):\n{done.stderr}")
    return wall, done.stdout


def schema_run_scores(run: Path) -> dict[str, dict[str, float]]:
    """The built-in's ground-truth measures on the schema file run's held-out glyphs."""
    exp, program, _ = open_run(run, device="cpu")
    test = {}
    for ob, font in FONTS.items():
        source = glyphs(f"{font}.ttf")
        test[ob] = source.tensor[holdout(source, 0.2)[1].indices]
    F, S = program.functor, program.functor.schema
    f, g = F.modules[S["f"]], F.modules[S["g"]]
    x, y = test["Horse"], test["Zebra"]
    rows = {}
    with torch.no_grad():
        for name, inp, out, truth, back in (("f", x, f(x), y, g), ("g", y, g(y), x, f)):
            rows[name] = {**translation_scores(out, inp, truth),
                          "cycle": (back(out) - inp).abs().mean().item()}
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=1500)
    ap.add_argument("--backend", default="inductor")
    args = ap.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench_schema_file-"))
    try:
        wall_b, out_b = cdl(builtin_command(args.steps, root / "builtin", args.backend))
        wall_s, out_s = cdl(schema_command(args.steps, root / "schema", args.backend))
        print("cdl train cyclegan_fonts printed:\n" + out_b, file=sys.stderr)
        print("cdl train examples/cyclegan.schema … printed:\n" + out_s, file=sys.stderr)
        builtin = open_run(root / "builtin", device="cpu")
        with torch.no_grad():
            table_b = builtin[0].evaluate(builtin[1])
        table_s = schema_run_scores(root / "schema")
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(f"\n{args.steps} steps, batch 16, backend {args.backend}, "
          f"{torch.get_num_threads()} threads, torch {torch.__version__}\n")
    print("| run | wall (s) | arrow | mae | identity_mae | ratio | ssim | cycle |")
    print("|---|---:|---|---:|---:|---:|---:|---:|")
    for label, wall, table in (("`cdl train cyclegan_fonts` (baseline)", wall_b, table_b),
                               ("`cdl train examples/cyclegan.schema --data …`", wall_s,
                                table_s)):
        for arrow in ("f", "g"):
            r = table[arrow]
            print(f"| {label} | {wall:.0f} | {arrow} | {r['mae']:.4f} | "
                  f"{r['identity_mae']:.4f} | {r['ratio']:.2f}× | {r['ssim']:.3f} | "
                  f"{r['cycle']:.4f} |")
    print("\nthe schema file run's own evaluation (its held-out fifth), as it printed it:\n")
    print(evaluation_lines(out_s))


def evaluation_lines(stdout: str) -> str:
    """The evaluation table ``cdl train`` printed: from its last ``arrow`` header (the
    first is the networks table's) to the run folder's line."""
    lines = stdout.splitlines()
    start = max(i for i, line in enumerate(lines) if line.startswith("arrow "))
    return "\n".join(line for line in lines[start:] if not line.startswith("run folder:"))


if __name__ == "__main__":
    main()
