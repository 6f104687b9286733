"""Twemoji skin tones: remove a tone (f: A -> B × C) and put one back (g), trained unpaired.

The product schema ``f: A -> BxC, g: BxC -> A, f.g = id(A), g.f = id(BxC)`` with A the
skin-toned emoji, B their yellow bases and C a one-dimensional code with a normal prior.
The networks never see a (toned, base) pair: A's and B's training images are sampled
independently. A fifth of the bases (with all their tones) are held out; on them the
ground truth measures removal, the two equations and whether ``g`` uses its code
(see :mod:`.emoji_metrics`).

What made it train (``benchmarks/bench_product_emoji.py``, table in
``benchmarks/README.md``): networks that edit only where they must — mostly per-pixel
image maps started at the identity (:mod:`.product_nets`), ``g``'s change gated by the
base alone so that no code recolours a background — a learning rate of 1e-3 and an
equation weight of 3. With weight 10 the equations hold at the identity and training
stays there; with weight 1 they are loose (``g.f`` residual above 0.05).

The code is one number because what is removed is: one of five tones, light to dark.
With an 8-dimensional code (as the seed's R^100 for faces) ``g`` cannot write eight
numbers into an emoji that must look like one of five real tones, so ``f`` never reads
``z`` back: the code part of ``g.f = id(BxC)`` stayed at 0.79, what a code ``f``
ignores scores (E|z| = 0.80); with one dimension it is read back.

``g.f = id(BxC)`` is one distance per factor, and by default each factor weighs the
same: the one-number code then counts as much as the 3,072 numbers of the image, and
training bought the code's read-back with the image (``g`` wrote far codes as far
recolourings, of backgrounds too, that ``f`` could not undo: image residual 0.054 over
three seeds, flat from step 1,200 on). Weighing the code a tenth of the image
(``FACTOR_WEIGHTS``) halves it (0.028 ± 0.003 over seeds 0–2, 3,000 steps, held out)
and halves the ``f.g`` residual (0.070 → 0.035); removal 0.29× the input-as-output
baseline (0.32× before) and tone transfer improves (0.80× → 0.46×), while the code part
rises from 0.14 to 0.32, still far from the 0.80 of an ignored code, and the tone
spread across codes falls from 0.31 to 0.26 (the five true tones spread 0.36).
"""

from __future__ import annotations

import torch

from category import Schema
from compiler import Euclid, Functor
from runtime.report.measures import per_input_mae
from runtime.sources import TensorSource, skin_tones

from . import schema_file
from .emoji_metrics import codes, evaluate_emoji
from .experiment import Experiment, Options, WorstInputs
from .nets import patch_critic
from .product_nets import Inserter, Remover, code_critic

SIZE, CODE = 32, 1  # the tone: see the module docstring
EQUATION_WEIGHT = 3.0
FACTOR_WEIGHTS = (1.0, 0.1)  # g.f = id(BxC): the image B, the code C (module docstring)


def schema() -> Schema:
    return schema_file("product_emoji")


def build(options: Options) -> Experiment:
    return build_emoji(options)


def build_emoji(options: Options, kernel: int = 3, width: int = 32, conditioned: bool = False,
                gated: bool = True, steps: int = 3000, **compile_options) -> Experiment:
    """The experiment with the networks' spatial ``kernel`` (1: purely per pixel),
    ``width``, whether ``f``'s image map sees its code (``conditioned``), whether
    ``g``'s change is gated by the base alone (``gated``), the default
    ``steps`` and compile options overridden (for the ablations of
    ``benchmarks/bench_product_emoji.py``)."""
    S = schema()
    A, B, C, BxC = S["A"], S["B"], S["C"], S["BxC"]
    train = skin_tones(SIZE, split="train")  # one held-out set whatever the run's seed
    test = skin_tones(SIZE, split="test")
    toned, bases = test.toned.to(options.device), test.bases.to(options.device)
    base_index = test.base_index.to(options.device)
    image = Euclid(3, SIZE, SIZE)
    F = Functor(S, ob={A: image, B: image, C: Euclid(CODE)},
                ar={"f": Remover(code=CODE, width=width, kernel=kernel, conditioned=conditioned),
                    "g": Inserter(code=CODE, width=width, kernel=kernel, gated=gated)})
    critics = {A: patch_critic(3), B: patch_critic(3), C: code_critic(CODE)}

    def evaluate(program) -> dict[str, dict[str, float]]:
        return evaluate_emoji(F.modules[S["f"]], F.modules[S["g"]], toned, bases, base_index,
                              CODE, seed=options.seed)

    def worst(program, n: int) -> dict:
        """The held-out toned emoji whose tone ``f`` removes worst (the per-emoji MAE of the
        evaluation's removal worst decile), with their true bases."""
        truth = bases[base_index]
        with torch.no_grad():
            removed, _ = F.modules[S["f"]](toned)
        return {A: WorstInputs.ranked("removal MAE", per_input_mae(removed, truth), toned,
                                      [("truth: base", truth)], n)}

    # eight held-out emoji, each base once, the tones in turn
    shown_bases = torch.linspace(0, len(bases) - 1, 8).round().long().to(options.device)
    shown = shown_bases * 5 + torch.arange(8, device=options.device) % 5
    z = codes(8, 1, CODE, options.seed, options.device)[0]
    return Experiment(
        functor=F, critics=critics, data={A: TensorSource(train.toned),
                                          B: TensorSource(train.bases)},
        evaluate=evaluate,
        compile={"adversarial": "lsgan", "distance": "l1", "equation_weight": {
                     "f.g = id(A)": EQUATION_WEIGHT,
                     "g.f = id(BxC)": tuple(EQUATION_WEIGHT * w for w in FACTOR_WEIGHTS)},
                 "priors": {"C": "normal"}, "lr": 1e-3, "betas": (0.5, 0.999),
                 "backend": "eager",  # faster than inductor on CPU for these small convolutions
                 **compile_options},
        train={"steps": steps, "batch_size": 16, "decay_from": 0.5},
        samples={A: toned[shown], BxC: (bases[shown_bases], z)},
        references={A: [("truth: base", bases[base_index[shown]])],
                    BxC: [("a true tone", toned[shown])]},
        description=__doc__.splitlines()[0], worst=worst)
