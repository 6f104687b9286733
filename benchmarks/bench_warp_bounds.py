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
  the answer);
- *``PlacedWarp(shear_only=True)``, best shear*: the triangle's own ``bc`` network at the
  shear, on a grid of 0 to 0.3, best for all glyphs — what it can reach with its one
  number learned.

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

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the checkout's own packages, not an installed cdl

from benchmarks.readme_block import publish  # noqa: E402
from runtime.experiments.font_pairs import font_glyphs  # noqa: E402
from runtime.experiments.nets import PlacedWarp, resample  # noqa: E402

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


def best_errors(x: torch.Tensor, y: torch.Tensor, shared_mask: torch.Tensor,
                glyph_mask: torch.Tensor, steps: int = 300) -> torch.Tensor:
    """Each glyph's lowest mean absolute error to ``y`` over the fits from every start
    (several starting shears where the fit frees the shear, else one start)."""
    n, eye = x.shape[0], torch.eye(2, 3)
    free = shared_mask + glyph_mask  # the entries ``shared`` may move (and start from)
    starts = START_SHEARS if free[0, 1] else (0.0,)
    best = (x - y).abs().flatten(1).mean(1)  # the identity map is always a candidate
    for shear in starts:
        shared = torch.zeros(2, 3)
        shared[0, 1] = shear
        shared.requires_grad_()
        per_glyph = torch.zeros(n, 2, 3, requires_grad=True)
        opt = torch.optim.Adam([shared, per_glyph], lr=0.01)

        def errors(shared=shared, per_glyph=per_glyph) -> torch.Tensor:
            theta = eye + shared * free + per_glyph * glyph_mask
            return (resample(x, theta.expand(n, 2, 3)) - y).abs().flatten(1).mean(1)

        for _ in range(steps):
            opt.zero_grad()
            errors().sum().backward()
            opt.step()
        with torch.no_grad():
            final = errors()
        if glyph_mask.any():
            best = torch.minimum(best, final)
        elif final.mean() < best.mean():  # one map for all: the best map, not per glyph
            best = final
    return best


def placed_shear_error(x: torch.Tensor, y: torch.Tensor,
                       shears=tuple(s / 50 for s in range(16))) -> torch.Tensor:
    """Per glyph, the error of ``PlacedWarp(shear_only=True)`` (``triangle_fonts``' ``bc``)
    at the one shear of ``shears`` best for all."""
    net, best = PlacedWarp(shear_only=True), None
    with torch.no_grad():
        for shear in shears:
            net.theta.fill_(shear)
            errors = (net(x) - y).abs().flatten(1).mean(1)
            best = errors if best is None or errors.mean() < best.mean() else best
    return best


def table() -> str:
    torch.manual_seed(0)
    rows = ["| arrow (held-out glyphs) | identity MAE | " + " | ".join(FITS)
            + " | `PlacedWarp(shear_only=True)`, best shear |",
            "|---|---:|" + "---:|" * (len(FITS) + 1)]
    for name, source, target in PAIRS:
        data = font_glyphs({"in": source, "out": target}, torch.device("cpu"))
        x, y = data.test["in"], data.test["out"]
        base = (x - y).abs().mean().item()
        cells = [f"{best_errors(x, y, *masks).mean().item() / base:.2f}×"
                 for masks in FITS.values()]
        cells.append(f"{placed_shear_error(x, y).mean().item() / base:.2f}×")
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
    publish(block, "bench_warp_bounds",
            "Affine bounds: how far a warp can go (`bench_warp_bounds.py`)",
            args.write)


if __name__ == "__main__":
    main()
