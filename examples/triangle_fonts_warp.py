"""The font triangle with its slanting arrows able to move ink: an ablation of issue 24.

``triangle_fonts`` (Sans → Bold → Bold Oblique, ``ab.bc = ac``) with ``bc`` and ``ac``,
the two arrows into the oblique face, as :class:`~runtime.experiments.nets.WarpThenEdit`
(a learned affine warp of the image plane, then the identity-start editor) instead of an
editor of pixels in place. Train and compare with the built-in::

    cdl train examples/triangle_fonts_warp.py --seed 0 --backend eager
    cdl train triangle_fonts --seed 0 --backend eager

Measured (seeds 0 and 1, 1500 steps, eager), each arrow's held-out error against the
identity's: ``benchmarks/README.md``, "Slant: a warp before the editor" — the warped
arrows lean like the oblique face where the built-in's stay upright.
"""

from __future__ import annotations

from runtime import Experiment, Options
from runtime.experiments import triangle_fonts
from runtime.experiments.nets import WarpThenEdit


def build(options: Options) -> Experiment:
    return triangle_fonts.build(options, networks={"bc": WarpThenEdit, "ac": WarpThenEdit})
