"""A GAN of DejaVu Sans glyphs: gen: Latent -> Glyph, judged by KID on a glyph classifier.

The schema has one arrow and no equations, so the program is the adversarial loss of
``gen`` alone, with the latent drawn from a standard normal prior. The generator and
critic are small DCGAN-style networks (transposed convolutions up from 4×4, strided
convolutions down). The data is the train split of the characters (four fifths).

Evaluation, on the features of the glyph classifier
(:mod:`runtime.experiments.glyph_classifier`, trained on real glyphs of many fonts): the
KID of a fixed batch of generated glyphs against the train glyphs, placed between two
references computed with the same measure — the *floor*, the held-out characters (real
glyphs the GAN never saw) against the train glyphs, and the *ceiling*, the untrained
generator (same architecture and seed) against them. ``progress`` = (ceiling − kid) /
(ceiling − floor): 0 is no better than untrained, 1 is as close as real data of other
characters. ``confidence`` is the classifier's mean top probability on generated glyphs
(``real_confidence`` on the held-out real ones): whether they read as characters at all.
``coverage`` is the fraction of the training characters (their classes: look-alikes
count once) that the classifier reads in at least one of :data:`COVERAGE_SAMPLES`
generated glyphs (``real_coverage``: in the training glyphs themselves, what the
instrument can reach): a generator collapsed onto a few glyphs can be legible and
close in KID, but covers few characters.

What mattered (1500 steps, batch 64, Adam 2e-4, β (0.5, 0.999), seed 0, eager, one CPU
thread; ``progress`` at the end of the run, one run each, so differences under ~0.2 are
noise: it moves by that much between evaluations):

- the critic's minibatch-spread channel (:class:`MinibatchStd`): without it the
  generator collapses to one glyph (an ``I``) early and stays there, progress 0.35;
  with it 0.96;
- the adversarial loss, with it: ``lsgan`` 0.96, ``hinge`` 0.62, ``nsgan`` 0.32;
- the width: 16 → 0.66 (80 s), 32 → 0.96 (160 s), 48 → 0.77 (320 s);
- nearest-neighbour upsampling and 3×3 convolutions instead of the transposed ones:
  stuck at a constant image (progress −0.07), and twice as slow.

The default (lsgan, width 32, 1500 steps, inductor): kid 0.72, floor 0.076, ceiling 5.57,
progress 0.88, confidence 0.36 (real 0.94), in 2 minutes on one CPU thread, compilation
and evaluations included (``OMP_NUM_THREADS=1 cdl train gan_glyphs``).

KID on the classifier's features is lenient about the speckle a GAN leaves on a glyph;
``confidence`` (about 0.33 against 0.94 for real glyphs) says how far from legible the
samples still are.
"""

from __future__ import annotations

import torch
from torch import nn

from category import Schema
from compiler import Euclid, Functor
from runtime.report.measures import kid
from runtime.sources import glyphs

from . import schema_file
from .experiment import Experiment, Options
from .glyph_classifier import classifier
from .nets import MinibatchStd, PixelNorm

FONT = "DejaVuSans.ttf"
SIZE = 32
LATENT = 64
EVAL_SAMPLES = 512
EVAL_SEED = 1234  # the evaluation latents are the same for every run, so runs compare
COVERAGE_SAMPLES = 1000  # for ``coverage``: some 7 draws per class (143 of the train chars)
COVERAGE_SEED = 4321


class Generator(nn.Module):
    """``z ↦`` a 32×32 glyph in [-1, 1]: a linear map to 4×4, three ×2 transposed convs."""

    def __init__(self, latent: int = LATENT, width: int = 32):
        super().__init__()
        self.width = width
        self.stem = nn.Linear(latent, 16 * 4 * width)

        def up(a, b):
            return [nn.ConvTranspose2d(a, b, 4, 2, 1), PixelNorm(), nn.LeakyReLU(0.2)]

        self.body = nn.Sequential(PixelNorm(), nn.LeakyReLU(0.2),
                                  *up(4 * width, 2 * width), *up(2 * width, width),
                                  nn.ConvTranspose2d(width, 1, 4, 2, 1), nn.Tanh())

    def forward(self, z):
        return self.body(self.stem(z).view(-1, 4 * self.width, 4, 4))


def critic(width: int = 32) -> nn.Module:
    """32×32 glyph ↦ one score: three stride-2 convs (no normalisation), the batch's
    spread as a channel, and a linear map."""
    return nn.Sequential(
        nn.Conv2d(1, width, 4, 2, 1), nn.LeakyReLU(0.2),
        nn.Conv2d(width, 2 * width, 4, 2, 1), nn.LeakyReLU(0.2),
        nn.Conv2d(2 * width, 4 * width, 4, 2, 1), nn.LeakyReLU(0.2),
        MinibatchStd(), nn.Flatten(), nn.Linear(16 * (4 * width + 1), 1))


def schema() -> Schema:
    return schema_file("gan_glyphs")


def build(options: Options, width: int = 32, adversarial: str = "lsgan",
          steps: int = 1500) -> Experiment:
    S = schema()
    latent, glyph = S["Latent"], S["Glyph"]
    dev = options.device
    train = glyphs(FONT, size=SIZE, split="train")
    test = glyphs(FONT, size=SIZE, split="test")
    gen = Generator(LATENT, width)
    F = Functor(S, ob={latent: Euclid(LATENT), glyph: Euclid(1, SIZE, SIZE)}, ar={"gen": gen})

    clf = classifier(SIZE, device=dev)
    z_eval = torch.randn(EVAL_SAMPLES, LATENT,
                         generator=torch.Generator().manual_seed(EVAL_SEED)).to(dev)
    real = clf.features(train.tensor.to(dev))
    z_coverage = torch.randn(COVERAGE_SAMPLES, LATENT,
                             generator=torch.Generator().manual_seed(COVERAGE_SEED)).to(dev)

    def distance(images: torch.Tensor) -> float:
        return kid(real, clf.features(images))[0]

    with torch.no_grad():  # the references, measured once: gen is still untrained here
        floor = distance(test.tensor.to(dev))
        ceiling = distance(gen(z_eval))
        real_confidence = clf.confidence(test.tensor.to(dev))
        real_coverage = clf.coverage(train.tensor.to(dev), train.chars)

    def evaluate(program) -> dict[str, dict[str, float]]:
        with torch.no_grad():
            fake = F.modules[S["gen"]](z_eval)
            many = F.modules[S["gen"]](z_coverage)
        value = distance(fake)
        return {"gen": {"kid": value, "kid_floor": floor, "kid_ceiling": ceiling,
                        "progress": (ceiling - value) / (ceiling - floor),
                        "confidence": clf.confidence(fake),
                        "real_confidence": real_confidence,
                        "coverage": clf.coverage(many, train.chars),
                        "real_coverage": real_coverage}}

    return Experiment(
        functor=F, critics={glyph: critic(width)}, data={glyph: train}, evaluate=evaluate,
        compile={"adversarial": adversarial, "priors": {"Latent": "normal"},
                 "lr": 2e-4, "betas": (0.5, 0.999)},
        train={"steps": steps, "batch_size": 64, "decay_from": 0.5},
        samples={latent: z_eval[:8]},
        references={latent: [("real", train.tensor[:8].to(dev))]},
        description=__doc__.splitlines()[0])
