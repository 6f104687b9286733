"""Three fonts and a commuting triangle: ab.bc = ac ties the direct translator to the two-step one.

DejaVu Sans (A), Sans Bold (B) and Sans Bold Oblique (C), with ``ab : A -> B``,
``bc : B -> C``, ``ac : A -> C`` and the one equation ``ab.bc = ac``: emboldening then
slanting is the same as doing both at once. There are no inverses, so nothing but the
networks' identity start keeps a glyph's character; the equation ties the two routes
from A to C together. Trained unpaired; on held-out characters each arrow is scored
against the ground truth (the same character in its target font) and the triangle's
residual ``|ab.bc(x) - ac(x)|`` measures how far the two routes disagree.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import torch
from torch import nn

from category import Schema
from compiler import Euclid, Functor
from runtime.report.measures import per_input_mae

from . import schema_file
from .experiment import Experiment, Options, WorstInputs
from .font_pairs import SIZE, font_glyphs, translation_scores
from .glyph_classifier import classifier
from .nets import IdentityStartGenerator, patch_critic

FONTS = {"Sans": "DejaVuSans.ttf", "Bold": "DejaVuSans-Bold.ttf",
         "BoldOblique": "DejaVuSans-BoldOblique.ttf"}


def schema() -> Schema:
    return schema_file("triangle_fonts")


def build(options: Options, networks: Mapping[str, Callable[[], nn.Module]] | None = None
          ) -> Experiment:
    """The triangle experiment; ``networks``: {arrow name: a factory of its network} for
    the arrows that do not get the default :class:`IdentityStartGenerator` (e.g.
    ``{"bc": WarpThenEdit, "ac": WarpThenEdit}``: ``examples/triangle_fonts_warp.py``)."""
    S = schema()
    unknown = sorted(set(networks or {}) - {"ab", "bc", "ac"})
    if unknown:
        raise ValueError(f"triangle_fonts: networks for {', '.join(unknown)}, but its arrows "
                         f"are ab, bc and ac")
    make = {**dict.fromkeys(("ab", "bc", "ac"), IdentityStartGenerator), **(networks or {})}
    A, B, C = (S[name] for name in FONTS)
    data = font_glyphs({S[name]: font for name, font in FONTS.items()}, options.device)
    test, shown = data.test, data.shown
    judge = classifier(SIZE, device=options.device)
    space = Euclid(1, SIZE, SIZE)
    F = Functor(S, ob={A: space, B: space, C: space},
                ar={name: make[name]() for name in ("ab", "bc", "ac")})
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
