"""The unplaced-warp ablation of the font triangle: its slanting arrows warp, unplaced."""

from pathlib import Path

import torch

from runtime import Options
from runtime.experiments import load

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "triangle_fonts_warp.py"


def test_the_arrows_into_the_oblique_face_are_warped_unplaced_and_start_as_the_identity():
    module, _ = load(str(EXAMPLE))
    exp = module.build(Options(torch.device("cpu")))
    kinds = {a.name: (type(m).__name__, getattr(m, "place", None))
             for a, m in exp.functor.modules.items()}
    assert kinds == {"ab": ("IdentityStartGenerator", None), "bc": ("WarpThenEdit", False),
                     "ac": ("WarpThenEdit", False)}
    table = exp.evaluate(None)
    assert table["bc"]["ratio"] == table["ac"]["ratio"] == 1.0  # the identity at start
