"""What the font experiments share: paired glyphs of several fonts and the arrow scores.

Every font experiment is trained unpaired (each object's glyphs are sampled on their
own) and judged on held-out characters, where the same character in the target font
is the ground truth of a translation: its mean absolute error and SSIM against that
glyph, against the identity map's (the baseline that changes nothing), and whether the
glyph classifier (:mod:`~runtime.experiments.glyph_classifier`, trained on real glyphs
of many fonts: the measuring instrument, not part of what is learned) still reads the
right character — beside its accuracy on the real target glyphs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import torch

from runtime.report.measures import per_input_mae, ssim, worst_decile_ratio
from runtime.sources import glyphs

SIZE = 32


@dataclass(frozen=True)
class FontGlyphs:
    """Per object: its training source and its held-out glyphs (row ``i`` is the same
    character in every font), plus the held-out rows shown in the sample grids."""

    train: dict
    test: dict
    shown: torch.Tensor
    test_chars: str


def font_glyphs(fonts: Mapping[object, str], device: torch.device,
                size: int = SIZE) -> FontGlyphs:
    """The characters every font of ``fonts`` (object → font file) has, split by character."""
    common = None
    for font in fonts.values():
        have = glyphs(font).chars
        common = have if common is None else "".join(c for c in common if c in set(have))
    train = {ob: glyphs(font, chars=common, size=size, split="train")
             for ob, font in fonts.items()}
    held = {ob: glyphs(font, chars=common, size=size, split="test")
            for ob, font in fonts.items()}
    test = {ob: g.tensor.to(device) for ob, g in held.items()}
    chars = next(iter(held.values())).chars
    n = len(chars)
    # eight held-out characters spread over the alphabets (Latin, Greek, Cyrillic, symbols)
    shown = torch.linspace(0, n - 1, min(8, n)).round().long()
    return FontGlyphs(train, test, shown, chars)


def translation_scores(out: torch.Tensor, inp: torch.Tensor, truth: torch.Tensor,
                       chars: str | None = None, judge=None) -> dict[str, float]:
    """A translation ``out`` of ``inp`` against the ground truth ``truth``: its mean
    absolute error, the identity map's (``inp`` as the answer) and their ratio (< 1:
    better than no change); ``worst_decile_ratio``, the same ratio on the tenth of the glyphs
    where ``out`` errs most (:func:`~runtime.report.measures.worst_decile_ratio` of the
    per-glyph errors: a mean ratio can hide glyphs made worse); SSIM; with ``chars``
    (the characters of the rows) and ``judge`` (a
    :class:`~runtime.experiments.glyph_classifier.GlyphClassifier`) the fraction of ``out``
    read as the right character, and of ``truth``."""
    errors, identity = per_input_mae(out, truth), per_input_mae(inp, truth)
    mae, base = errors.mean().item(), identity.mean().item()
    scores = {"mae": mae, "identity_mae": base, "ratio": mae / base,
              "worst_decile_ratio": worst_decile_ratio(errors, identity),
              "ssim": ssim(out, truth).mean().item(),
              "identity_ssim": ssim(inp, truth).mean().item()}
    if judge is not None:
        scores["accuracy"] = judge.accuracy(out, chars)
        scores["truth_accuracy"] = judge.accuracy(truth, chars)
    return scores
