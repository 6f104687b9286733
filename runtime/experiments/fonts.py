"""DejaVu Sans ↔ DejaVu Sans Bold glyphs: CycleGAN, trained unpaired, judged on held-out characters.

The schema has two objects (the two fonts' 32×32 glyphs), an arrow each way and the two
cycle equations. The networks never see a (regular, bold) pair: each font's training
glyphs are sampled independently. A fifth of the characters are held out; on them the
paired ground truth (the same character in the other font) measures each arrow: its
mean absolute error against the identity map's (the baseline that changes nothing).
"""

from __future__ import annotations

from importlib import resources

import torch

from category import Schema
from compiler import Euclid, Functor
from runtime.experiment import Experiment, Options
from runtime.sources import glyphs

from .nets import IdentityStartGenerator, patch_critic

FONTS = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf")
SIZE = 32


def schema() -> Schema:
    return Schema.parse(resources.files(__package__).joinpath("fonts.schema").read_text())


def build(options: Options) -> Experiment:
    S = schema()
    sans, bold = S["Sans"], S["Bold"]
    chars = "".join(c for c in glyphs(FONTS[0]).chars if c in set(glyphs(FONTS[1]).chars))
    train = {ob: glyphs(font, chars=chars, size=SIZE, split="train")
             for ob, font in zip((sans, bold), FONTS, strict=True)}
    test = {ob: glyphs(font, chars=chars, size=SIZE, split="test").tensor.to(options.device)
            for ob, font in zip((sans, bold), FONTS, strict=True)}
    # eight held-out characters spread over the alphabets (Latin, Greek, Cyrillic, symbols)
    n = len(test[sans])
    shown = torch.linspace(0, n - 1, min(8, n)).round().long()
    space = Euclid(1, SIZE, SIZE)
    F = Functor(S, ob={sans: space, bold: space},
                ar={"f": IdentityStartGenerator(), "g": IdentityStartGenerator()})
    critics = {sans: patch_critic(), bold: patch_critic()}

    def evaluate(program) -> dict[str, dict[str, float]]:
        x, y = test[sans], test[bold]
        f, g = F.modules[S["f"]], F.modules[S["g"]]
        with torch.no_grad():
            fx, gy = f(x), g(y)
            rows = {}
            for name, inp, out, truth, back in (("f", x, fx, y, g(fx)),
                                                ("g", y, gy, x, f(gy))):
                mae = (out - truth).abs().mean().item()
                base = (inp - truth).abs().mean().item()
                rows[name] = {"mae": mae, "identity_mae": base, "ratio": mae / base,
                              "cycle": (back - inp).abs().mean().item()}
        return rows

    return Experiment(
        functor=F, critics=critics, data=train, evaluate=evaluate,
        compile={"adversarial": "lsgan", "distance": "l1", "equation_weight": 10.0,
                 "lr": 5e-4, "betas": (0.5, 0.999)},
        train={"steps": 1500, "batch_size": 16, "decay_from": 0.5},
        samples={ob: t[shown] for ob, t in test.items()},
        references={sans: [("truth: bold", test[bold][shown])],
                    bold: [("truth: regular", test[sans][shown])]},
        description=__doc__.splitlines()[0])
