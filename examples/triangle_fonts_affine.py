"""The font triangle with a free affine map for the slant: an ablation (issue 24).

The built-in ``triangle_fonts`` gives ``bc`` (Bold → Bold Oblique) one learned shear, each
glyph placed back by its ink's box (:class:`~runtime.experiments.nets.PlacedWarp`
``(shear_only=True)``). Here ``bc`` learns a whole affine map of the image plane, six
numbers, still placed per glyph. Train and compare::

    cdl train examples/triangle_fonts_affine.py --seed 2
    cdl train triangle_fonts --seed 2

Measured (``benchmarks/README.md``, "Slant"): every seed learns the font's shear (≈ 0.2),
but the critic also narrows the glyphs by 5–10% (θ[0][0] 0.05–0.10), which the paired
truth does not: ``bc`` 0.52× ± 0.07 the identity's error against the shear's 0.36×.
"""

from __future__ import annotations

from runtime import Experiment, Options
from runtime.experiments import triangle_fonts
from runtime.experiments.nets import PlacedWarp


def build(options: Options) -> Experiment:
    return triangle_fonts.build(options, networks={"bc": PlacedWarp})
