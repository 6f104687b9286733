"""The triangle's ablation files build the built-in with only ``bc``'s network changed, and
every arrow starts as the identity."""

from pathlib import Path

import pytest
import torch

from runtime import Options
from runtime.experiments import load
from runtime.experiments.nets import PlacedWarp, WarpThenEdit

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.mark.parametrize(("name", "kind"), [("triangle_fonts_affine.py", PlacedWarp),
                                            ("triangle_fonts_edited.py", WarpThenEdit)])
def test_an_ablation_changes_bcs_network_only(name, kind):
    module, _ = load(str(EXAMPLES / name))
    exp = module.build(Options(torch.device("cpu")))
    bc, ac = exp.functor.modules["bc"], exp.functor.modules["ac"]
    assert type(bc) is kind and not getattr(bc, "shear_only", False)
    assert type(ac) is WarpThenEdit and ac.place  # ac as in the built-in
    table = exp.evaluate(None)
    assert table["bc"]["ratio"] == table["ac"]["ratio"] == 1.0  # the identity at start
