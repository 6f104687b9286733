"""How much of a font translation's error can moving ink fix? Affine bounds on held-out glyphs.

Issue 24 asks ``cyclegan_fonts_serif`` and ``triangle_fonts``'s slanting arrows for 0.5×
the identity's error and measured networks that learn a warp (``WarpThenEdit``). This
script says how far a warp *could* go, with the ground truth in hand: for each font pair
of the experiments, on the held-out characters the experiments are scored on, the mean
absolute error against the true glyph of the input after the best affine map of the
image plane, as a ratio to the identity's error (the experiments' ratio), where

- *one map*: one affine map for every glyph (what ``WarpThenEdit``'s ``θ`` can learn);
- *one shear, placed per glyph*: one shear for every glyph, then each glyph moved by
  its own translation (a slant plus the glyph's placement in its box);
- *placed per glyph*: a translation of each glyph alone;
- *one map per glyph*: an affine map fitted to each glyph on its own (an oracle: it sees
  the answer).

Every fit is Adam on the map's entries (bilinear resampling, borders extended), from
several starting shears, keeping each glyph's best. Nothing is trained on the glyphs'
pixels: these are bounds for warps, not for the editors that follow them.

    python3 benchmarks/bench_warp_bounds.py [--write]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as nnf

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the checkout's own packages, not an installed cdl

from benchmarks.readme_block import write_block  # noqa: E402
from runtime.experiments.font_pairs import font_glyphs  # noqa: E402

PAIRS = (  # (experiment arrow, source font, target font)
    ("cyclegan_fonts f (Sans → Bold)", "DejaVuSans.ttf", "DejaVuSans-Bold.ttf"),
    ("cyclegan_fonts_serif f (Sans → Serif)", "DejaVuSans.ttf", "DejaVuSerif.ttf"),
    ("cyclegan_fonts_serif g (Serif → Sans)", "DejaVuSerif.ttf", "DejaVuSans.ttf"),
    ("triangle_fonts bc (Bold → Bold Oblique)", "DejaVuSans-Bold.ttf",
     "DejaVuSans-BoldOblique.ttf"),
    ("triangle_fonts ac (Sans → Bold Oblique)", "DejaVuSans.ttf",
     "DejaVuSans-BoldOblique.ttf"),
)
# which entries of the 2×3 map each fit frees, shared by all glyphs or per glyph
FITS = {
    "one map": (torch.ones(2, 3), torch.zeros(2, 3)),
    "one shear, placed per glyph": (torch.tensor([[0., 1, 0], [0, 0, 0]]),
                                    torch.tensor([[0., 0, 1], [0, 0, 1]])),
    "placed per glyph": (torch.zeros(2, 3), torch.tensor([[0., 0, 1], [0, 0, 1]])),
    "one map per glyph": (torch.zeros(2, 3), torch.ones(2, 3)),
}
START_SHEARS = (-0.2, 0.0, 0.2)


def warp(x: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
    grid = nnf.affine_grid(theta, list(x.shape), align_corners=False)
    return nnf.grid_sample(x, grid, padding_mode="border", align_corners=False)


def best_errors(x: torch.Tensor, y: torch.Tensor, shared_mask: torch.Tensor,
                glyph_mask: torch.Tensor, steps: int = 300) -> torch.Tensor:
    """Each glyph's lowest mean absolute error to ``y`` over the fits from every start."""
    n, eye = x.shape[0], torch.eye(2, 3)
    best = (x - y).abs().flatten(1).mean(1)  # the identity map is always a candidate
    for shear in START_SHEARS:
        shared = torch.zeros(2, 3)
        shared[0, 1] = shear if shared_mask[0, 1] or glyph_mask[0, 1] else 0.0
        shared.requires_grad_()
        per_glyph = torch.zeros(n, 2, 3, requires_grad=True)
        opt = torch.optim.Adam([shared, per_glyph], lr=0.01)
        for _ in range(steps):
            theta = eye + shared * (shared_mask + glyph_mask) + per_glyph * glyph_mask
            errors = (warp(x, theta.expand(n, 2, 3)) - y).abs().flatten(1).mean(1)
            opt.zero_grad()
            errors.sum().backward()
            opt.step()
        with torch.no_grad():
            theta = eye + shared * (shared_mask + glyph_mask) + per_glyph * glyph_mask
            final = (warp(x, theta.expand(n, 2, 3)) - y).abs().flatten(1).mean(1)
        if glyph_mask.any():
            best = torch.minimum(best, final)
        elif final.mean() < best.mean():  # one map for all: the best map, not per glyph
            best = final
    return best


def table() -> str:
    torch.manual_seed(0)
    rows = ["| arrow (held-out glyphs) | identity MAE | " + " | ".join(FITS) + " |",
            "|---|---:|" + "---:|" * len(FITS)]
    for name, source, target in PAIRS:
        data = font_glyphs({"in": source, "out": target}, torch.device("cpu"))
        x, y = data.test["in"], data.test["out"]
        base = (x - y).abs().mean().item()
        cells = [f"{best_errors(x, y, *masks).mean().item() / base:.2f}×"
                 for masks in FITS.values()]
        rows.append(f"| {name} | {base:.4f} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help="put the table in benchmarks/README.md")
    args = ap.parse_args()
    start = time.perf_counter()
    text = table()
    stamp = time.strftime("%Y-%m-%d", time.gmtime())
    block = (f"Command: `python3 benchmarks/bench_warp_bounds.py` — measured {stamp}, "
             f"{time.perf_counter() - start:.0f} s. Each cell: the held-out error after the "
             f"best warp of that kind, against the identity's (lower is better).\n\n{text}")
    print(block)
    if args.write:
        write_block(Path(__file__).with_name("README.md"), "bench_warp_bounds",
                    "Affine bounds: how far a warp can go (`bench_warp_bounds.py`)", block)


if __name__ == "__main__":
    main()
