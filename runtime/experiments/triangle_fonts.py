"""Three fonts and a commuting triangle: ab.bc = ac ties the direct translator to the two-step one.

DejaVu Sans (A), Sans Bold (B) and Sans Bold Oblique (C), with ``ab : A -> B``,
``bc : B -> C``, ``ac : A -> C`` and the one equation ``ab.bc = ac``: emboldening then
slanting is the same as doing both at once. There are no inverses, so nothing but the
networks' identity start keeps a glyph's character; the equation ties the two routes
from A to C together. Trained unpaired; on held-out characters each arrow is scored
against the ground truth (the same character in its target font) and the triangle's
residual ``|ab.bc(x) - ac(x)|`` measures how far the two routes disagree.

The two arrows into the oblique face move ink, which an editor of pixels in place cannot
do, and each glyph is placed back by its ink's box, since the renderer centres glyphs so
and a slanted glyph's place depends on its shape (``benchmarks/bench_warp_bounds.py``:
one shear for all glyphs plus each glyph's placement can reach 0.24× the identity's error
on ``bc``, one map for all 0.69×). ``bc``, the slant itself, is one learned shear
(:class:`~runtime.experiments.nets.PlacedWarp` ``(shear_only=True)``: oblique type is
its upright face sheared); ``ac``, which also emboldens, a placed warp then an editor
(:class:`~runtime.experiments.nets.WarpThenEdit` ``(place=True)``), which the equation
teaches the slant. A warp cannot draw or erase ink, so ``bc`` cannot turn the glyphs
``ab`` draws black — the trivial solution of ``ab.bc = ac`` that an editor after ``bc``'s
warp finds on some seeds (the critic judges ``bc`` on real Bold glyphs only).

Ablations (``benchmarks/README.md``, "Slant"): editors alone
(``build(options, networks=EDITORS)``) leave the glyphs upright, ``bc`` and ``ac`` near
0.8× and 0.7×; a warp then an editor for ``bc`` too (``examples/triangle_fonts_edited.py``)
learns the slant on one seed in three; a free affine map for ``bc``
(``examples/triangle_fonts_affine.py``) slants on every seed but also narrows the glyphs;
unplaced warps (``examples/triangle_fonts_warp.py``) lean too little.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import torch
from torch import nn

from category import Schema
from compiler import Euclid, Functor
from runtime.errors import ExperimentError
from runtime.report.measures import per_input_mae

from . import schema_file
from .experiment import Experiment, Options, WorstInputs
from .font_pairs import SIZE, font_glyphs, translation_scores
from .glyph_classifier import classifier
from .nets import IdentityStartGenerator, PlacedWarp, WarpThenEdit, patch_critic

FONTS = {"Sans": "DejaVuSans.ttf", "Bold": "DejaVuSans-Bold.ttf",
         "BoldOblique": "DejaVuSans-BoldOblique.ttf"}
ARROWS = ("ab", "bc", "ac")


def placed_warp() -> WarpThenEdit:
    """A learned warp, each glyph placed back by its ink's box, then an editor — the
    identity at start: ``ac``'s network, which slants and emboldens."""
    return WarpThenEdit(place=True)


def slant() -> PlacedWarp:
    """One learned shear, each glyph placed back by its ink's box: ``bc``'s network."""
    return PlacedWarp(shear_only=True)


NETWORKS = {"ab": IdentityStartGenerator, "bc": slant, "ac": placed_warp}
EDITORS = dict.fromkeys(ARROWS, IdentityStartGenerator)  # the ablation: no arrow moves ink


def schema() -> Schema:
    return schema_file("triangle_fonts")


def build(options: Options, networks: Mapping[str, Callable[[], nn.Module]] | None = None
          ) -> Experiment:
    """The triangle experiment; ``networks``: {arrow name: a factory of its network} for
    the arrows that do not get their default of :data:`NETWORKS` (e.g. :data:`EDITORS`, or
    ``{"bc": WarpThenEdit, "ac": WarpThenEdit}``: ``examples/triangle_fonts_warp.py``)."""
    S = schema()
    unknown = sorted(set(networks or {}) - set(ARROWS))
    if unknown:
        raise ExperimentError(f"triangle_fonts: networks for {', '.join(unknown)}, but its "
                              f"arrows are ab, bc and ac")
    make = {**NETWORKS, **(networks or {})}
    A, B, C = (S[name] for name in FONTS)
    data = font_glyphs({S[name]: font for name, font in FONTS.items()}, options.device)
    test, shown = data.test, data.shown
    judge = classifier(SIZE, device=options.device)
    space = Euclid(1, SIZE, SIZE)
    F = Functor(S, ob={A: space, B: space, C: space},
                ar={name: make[name]() for name in ARROWS})
    critics = {ob: patch_critic() for ob in (B, C)}  # A is no arrow's target

    def evaluate(program) -> dict[str, dict[str, float]]:
        ab, bc, ac = (F.modules[S[name]] for name in ("ab", "bc", "ac"))
        x, y, z = test[A], test[B], test[C]
        with torch.no_grad():
            two_step, direct = bc(ab(x)), ac(x)
            chars = data.test_chars
            rows = {"ab": translation_scores(ab(x), x, y, chars, judge),
                    "bc": translation_scores(bc(y), y, z, chars, judge),
                    "ac": translation_scores(direct, x, z, chars, judge),
                    "ab.bc": translation_scores(two_step, x, z, chars, judge)}
            rows["triangle"] = {"residual": (two_step - direct).abs().mean().item()}
        return rows

    def worst(program, n: int) -> dict:
        """The Sans glyphs the direct ``ac`` translates worst and the Bold ones ``bc`` does
        (the per-glyph MAE of ``evaluate``'s worst decile), with their ground truth."""
        bc, ac = (F.modules[S[name]] for name in ("bc", "ac"))
        x, y, z = test[A], test[B], test[C]
        with torch.no_grad():
            direct, slanted = ac(x), bc(y)
        return {A: WorstInputs.ranked("ac's MAE", per_input_mae(direct, z), x,
                                      [("truth: Bold", y), ("truth: BoldOblique", z)], n),
                B: WorstInputs.ranked("bc's MAE", per_input_mae(slanted, z), y,
                                      [("truth: BoldOblique", z)], n)}

    return Experiment(
        functor=F, critics=critics, data=data.train, evaluate=evaluate,
        compile={"adversarial": "lsgan", "distance": "l1", "equation_weight": 10.0,
                 "lr": 5e-4, "betas": (0.5, 0.999)},
        train={"steps": 1500, "batch_size": 16, "decay_from": 0.5},
        samples={ob: t[shown] for ob, t in test.items()},
        references={A: [("truth: Bold", test[B][shown]), ("truth: BoldOblique", test[C][shown])],
                    B: [("truth: BoldOblique", test[C][shown])]},
        description=__doc__.splitlines()[0], worst=worst)
