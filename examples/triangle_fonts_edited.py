"""The font triangle with an editor after the slant's warp: an ablation (issue 24).

The built-in ``triangle_fonts`` gives ``bc`` (Bold → Bold Oblique) a warp alone: one
learned shear, each glyph placed back by its ink's box. Here ``bc``, like ``ac``, is a
placed warp then an editor (:class:`~runtime.experiments.nets.WarpThenEdit`
``(place=True)``), as the built-in was before. Train and compare::

    cdl train examples/triangle_fonts_edited.py --seed 1
    cdl train triangle_fonts --seed 1

Measured (``benchmarks/README.md``, "Slant"): the editors paint slanted strokes in place
while the warps lean, and on two seeds in three the shear stays at a fifth to two fifths
of the font's — ``bc`` 0.67× ± 0.17 and ``ac`` 0.66× ± 0.21 the identity's error over
seeds 0, 1, 2. Holding ``bc``'s editor at the identity for the first 400 steps lets the
warp learn the whole shear first, but at the release the editor turns the glyphs that
``ab`` draws black on some seeds, and ``ac`` follows through the equation.
"""

from __future__ import annotations

from runtime import Experiment, Options
from runtime.experiments import triangle_fonts


def build(options: Options) -> Experiment:
    return triangle_fonts.build(options, networks={"bc": triangle_fonts.placed_warp})
