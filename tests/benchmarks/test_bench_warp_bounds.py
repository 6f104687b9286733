"""The affine bounds find a warp where there is one: a glyph sheared and shifted is matched
again by the fits that may shear and place it, and not by the ones that may not."""

import torch

from benchmarks import bench_warp_bounds as bounds
from runtime.experiments.nets import resample
from runtime.sources import glyphs


def test_each_fit_undoes_exactly_what_it_may_move():
    x = glyphs("DejaVuSans-Bold.ttf", chars="LTk", size=32).tensor
    sheared = torch.tensor([[1.0, 0.15, 0.0], [0.0, 1.0, 0.0]]).expand(3, 2, 3).clone()
    sheared[:, 0, 2] = torch.tensor([0.10, -0.08, 0.05])  # each glyph its own place
    y = resample(x, sheared)
    identity = (x - y).abs().mean().item()
    ratio = {name: bounds.best_errors(x, y, *masks, steps=150).mean().item() / identity
             for name, masks in bounds.FITS.items()}
    assert ratio["one map per glyph"] < 0.1
    assert ratio["one shear, placed per glyph"] < 0.1
    assert ratio["one map"] > 0.3  # one translation cannot place all three
    assert ratio["placed per glyph"] > 0.3  # a translation cannot shear
    assert all(r <= 1.0 + 1e-6 for r in ratio.values())  # the identity is a candidate
