"""The font triangle with unplaced warps: an ablation of the built-in's placed ones (issue 24).

The built-in ``triangle_fonts`` slants with placed warps on ``bc`` and ``ac``, the two
arrows into the oblique face: ``bc`` one learned shear, ``ac`` one learned affine map then
an editor, each glyph placed back by its ink's bounding box. Here both arrows are an
affine warp then an editor (:class:`~runtime.experiments.nets.WarpThenEdit`) without the
placing, as the first attempt did: one map moves every glyph alike, so a slanted glyph
lands where its upright one was, not where the font centres it. Train and compare::

    cdl train examples/triangle_fonts_warp.py --seed 0
    cdl train triangle_fonts --seed 0

Measured (``benchmarks/README.md``, "Slant"): the unplaced warps lean the glyphs, but too
little and unevenly by seed (``bc`` 0.72× ± 0.01, ``ac`` 0.66× ± 0.13 the identity's
error, eager, three seeds); the placed ones are in the quality table.
"""

from __future__ import annotations

from runtime import Experiment, Options
from runtime.experiments import triangle_fonts
from runtime.experiments.nets import WarpThenEdit


def build(options: Options) -> Experiment:
    return triangle_fonts.build(options, networks={"bc": WarpThenEdit, "ac": WarpThenEdit})
