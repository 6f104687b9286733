"""A GAN of glyphs in 16 fonts: gen: Latent -> Glyph, judged on a glyph classifier.

The schema has one arrow and no equations, so the program is the adversarial loss of
``gen`` alone, with the latent drawn from :func:`latent_sampler`: a one-hot code of one of
:data:`CODES` categories, drawn uniformly, beside a standard normal part (why: "A
disconnected latent" below). The generator and
critic are small DCGAN-style networks (transposed convolutions up from 4×4, each
followed by a 3×3 convolution; strided convolutions down). The data is the letters and
digits of :data:`FONTS` (DejaVu Sans, Sans Mono and Serif in four faces each, STIX
General in four), split by character: the train split's 50 characters in every font
(800 glyphs); the 12 others are held out.

Evaluation, on the features of the glyph classifier
(:mod:`runtime.experiments.glyph_classifier`, trained on real glyphs of these fonts less
STIX General Bold): the KID of a fixed batch of generated glyphs against the train
glyphs, placed between two references computed with the same measure — the *floor*, the
held-out characters (real glyphs the GAN never saw) against the train glyphs, and the
*ceiling*, the untrained generator (same architecture and seed) against them.
``progress`` = (ceiling − kid) / (ceiling − floor): 0 is no better than untrained, 1 is
as close as real data of other characters. ``confidence`` is the classifier's mean top
probability on generated glyphs (``real_confidence`` on the held-out real ones): whether
they read as characters at all; it is taken on all :data:`EVAL_SAMPLES` +
:data:`COVERAGE_SAMPLES` generated glyphs, because with the coded latent it varies from
code to code far more than within one (see "A disconnected latent"), and 512 draws of
200 codes put ±0.01 of chance into a run's number. ``coverage`` is the fraction of the
training characters (their classes: look-alikes count once) that the classifier reads
in at least one of :data:`COVERAGE_SAMPLES` generated glyphs (``real_coverage``: in the
training glyphs themselves, what the instrument can reach): a generator collapsed onto
a few glyphs can be legible and close in KID, but covers few characters. ``copies`` is
the fraction of the evaluation's generated glyphs as near (pixel L2) to a training
glyph as the nearest 5% of the training glyphs are to one another
(:func:`~runtime.report.measures.copy_rate`): about 0.05 for new glyphs drawn as the
training set was, near 1 for a generator that reproduces its training glyphs — which
KID, confidence and coverage would all reward. ``doubtful_codes`` is the share of the
latent's codes whose glyphs among those 1,512 (some 7 a code) the classifier reads at
under 0.5 on average (:func:`~runtime.report.measures.doubtful_groups`): a code draws
nearly one glyph whatever its normal part, so the mean confidence is mostly this share
of blended codes (below, "What did not move it").

What mattered (issue 24; seed 0, lsgan, width 32, batch 64, inductor; one run each, so
differences under ~0.03 in confidence are noise). The data first, at 1,500 steps: one
font's 167 characters (the experiment before) gave KID 0.50 against a floor of 0.076
(6.6×, three seeds), confidence 0.36; the 16 fonts' alphanumerics give KID 0.15 against
a floor of 0.31 (0.5×), class coverage 0.92, confidence 0.37 — more data fixes closeness
and coverage, not legibility. At 4,000 steps (KID, confidence, coverage; each is
``cdl train gan_glyphs --seed 0`` with the flags named, e.g. ``--batch 128`` or
``--adversarial nsgan-r1 --r1-gamma 1 --betas 0,0.99``; the generator without
``refine`` is ``build(options, refine=False)`` in an experiment file):

- the generator of transposed convolutions alone: 0.056, 0.45, 0.92; with batch 128:
  0.045, 0.46, 0.98; with ``nsgan-r1`` (γ 1, β (0, 0.99)): 0.052, 0.46, 1.00;
- an exponential moving average of the generator's weights (β 0.999, StyleGAN's
  ``G_ema``, measured beside the live weights in one run): 0.062, 0.46, 0.96 against
  0.061, 0.45, 0.94 — nothing over the learning rate's linear decay to zero;
- a 3×3 convolution after each up-step (``refine``, the default): 0.10, **0.52**, 0.98
  — the speckle of transposed convolutions goes, strokes join; with ``nsgan-r1``
  0.042, 0.52, 1.00 (25% slower), and for 6,000 steps (``--steps 6000``) 0.012, 0.58,
  1.00 (768 s: over the quality run's time budget); with the decay from a quarter of
  the run instead of half: 0.25, 0.47, 0.76.

Earlier, on one font (1,500 steps): the critic's minibatch-spread channel
(:class:`MinibatchStd`) keeps the generator from collapsing onto one glyph (progress 0.35
without, 0.96 with); ``lsgan`` 0.96 against ``hinge`` 0.62 and ``nsgan`` 0.32; width 32
against 16 (0.66) and 48 (0.77); nearest-neighbour upsampling with 3×3 convolutions in
place of the transposed ones stays a constant image.

The default since then is ``nsgan-r1`` (γ 1, β (0, 0.99)) with ``refine``: over seeds
0, 1, 2 (``benchmarks/quality.py``) KID 0.047 ± 0.015 against 0.12 ± 0.05 for ``lsgan``,
class coverage 1.00 on every seed against 0.89 ± 0.03, confidence 0.52 either way, at
559 s a run against 427 (R1's gradient penalty is a second backward through the critic).

The classifier reads the real glyphs at 0.88 confidence; the samples, at about 0.5, are
still far from that: most are legible characters, some are blends of two. The instrument
is strict: a [1, 2, 1] blur of the real held-out glyphs reads at 0.64, noise of
σ 0.05 at 0.77 and σ 0.1 at 0.58, the brighter of two glyphs at 0.56 — a sample must be
about as crisp as a rendered glyph to reach 0.8. But the samples' doubt is in their
shapes, not their crispness (seed 0's trained generator, 2026-12-06): binarised at 0 they
read at 0.53 (real glyphs 0.79), and drawn at a lower temperature — the latent scaled by
ψ (BigGAN's truncation), ψ = 0.9, 0.8, 0.7, 0.6, 0.5 — at 0.51 every time (KID rising
from 0.048 to 0.089, coverage 0.96–1.00). Per sample, the median reads at 0.48 and the
best tenth at 0.87 or more: a few glyphs are clear, most are blends of two characters.

A disconnected latent (2026-12-06; seed 0, 4,000 steps; each a scratch experiment file
returning ``build(options, codes=K, noise=N)``). A generator is continuous, so a connected
latent — the standard normal — lands on a connected set of images; the glyphs are some
50 separate classes, and the paths between them are the blends. A one-hot code of one
of K categories, drawn uniformly, beside the normal part (a mixture of K Gaussians; the
argument is Khayatkhoei et al.'s, "Disconnected manifold learning for generative
adversarial networks", 2018, who use K generators) lets the generator jump between
classes. KID, confidence, coverage, with N = 64 normal numbers:

- K = 0 (the standard normal alone, before): 0.048, 0.515, 1.00;
- K = 50: 0.086, 0.564, 0.82 — per code the classifier reads one class in 83% of the
  samples, but 50 codes land on 43 classes, some of them on none of the training
  characters;
- K = 200 (:data:`CODES`, the default): **0.024, 0.632, 1.00**, at 583 s against 552
  (beside short analysis scripts; the three-seed walls below are clean);
- K = 800 (one per training glyph): 0.053, 0.555, 1.00;
- InfoGAN as a schema (``Latent = Code * Noise``, an arrow ``read : Glyph -> Latent``
  and the equation ``gen.read = id(Latent)``, the code factor weighing 10 and the noise
  1, critics on ``Code`` and ``Noise``; K = 200): 0.078, 0.472, 1.00 at 900 s — a code
  that must be read back does not make the glyph clearer.

With K = 200, shrinking the normal part alone at sampling time (ψ = 0.7, 0.5, 0.3, 0)
reads at 0.65, 0.66, 0.68, 0.69; training with a smaller one does more. 200 codes
beside 64 / 16 (:data:`NOISE`, the default) / 8 normal numbers: KID 0.024 / **0.016** /
0.037, confidence 0.632 / **0.720** / 0.722, coverage 1.00 / 0.98 / 0.98 — the font's
variation needs few numbers, and the fewer there are, the fewer blends within a code.
The samples are not copies of the training glyphs (pixel L2 from seed 0's 512
evaluation samples to the 800 training glyphs; first a scratch script, now the
``copies`` column): with 16 normal numbers none of the 512 samples is within a pixel
distance of 2.0 of a training glyph (the nearest 1%: 2.4), where 4.7% of the training
glyphs have another training glyph that close (the same character in two similar
fonts); the median distance to the nearest training glyph is 5.1, as between training
glyphs (with 64 numbers 6.3, with the normal latent alone 6.9).

Over seeds 0, 1, 2 (``benchmarks/quality.py``): confidence 0.71 ± 0.01 (on the 512
evaluation glyphs; 0.709 ± 0.015 on all 1,512, the reading since), KID 0.019 ±
0.005, coverage 0.99 ± 0.01, 587 s a run — against 0.52 ± 0.01, 0.047 ± 0.015 and 1.00
with the normal latent (559 s), and 0.64 ± 0.02, 0.030 ± 0.011, 0.99 ± 0.01 with 200
codes beside 64 normal numbers.

What did not move it (2026-12-06, seed 0, one run each; confidence over every code, 20
draws of each of the 200: per-code means spread with a standard deviation of 0.24,
within a code 0.04, so this reading is steadier than the evaluation's): the default
0.727; R1's γ 0.1 and 0.02 (``--r1-gamma``): 0.723 and 0.699; a generator of width 48:
0.729 at 1.4× the time (820 s against about 590); 400 codes beside the 16 numbers:
0.700; a critic of width 64 runs 2.4× slower (about 20 minutes a run: stopped). Whatever
changed, about a fifth of the codes read under 0.5: such a code draws nearly the same
glyph whatever its normal numbers, and that glyph is a blend of two characters (G/r,
6/K, 9/B) or a character the classifier takes for a look-alike of another script (r/г,
n/п, u/и) — the share of such codes, not the noise within a code, keeps the mean near
0.72. What did move it is time (and the learning rate, below): 6,000 steps (``--steps
6000``) read 0.750 (0.757 on the evaluation's 1,512 glyphs), KID 0.005, a sixth of the
codes under 0.5 — at 836 s, 1.4× the run the quality table's time budget allows.

The learning rate (2026-12-06, seed 0, 4,000 steps, ``--lr``). Everything above ran at
Adam's 2e-4, decayed linearly to zero over the second half. At 1e-3, the default since,
the same run reads 0.797 on the evaluation's 1,512 glyphs and **0.803** over every code
(against 0.709 and 0.727), KID 0.005, coverage 1.00, copies 0.053 (new glyphs drawn as
the training set was score about 0.05), an eighth of the codes under 0.5 — at the same
cost a step. At 2e-3 (StyleGAN2-ADA's order): 0.763 and 0.776, KID 0.010, coverage 0.98,
and less steady from one evaluation to the next (0.77, 0.76, 0.79, 0.76 over the last
four, against 0.79, 0.79, 0.79, 0.80). What 6,000 steps did at 2e-4, 4,000 do better at
1e-3: the generator was under-trained, not short of capacity — the blends are what it
had not yet pulled apart. Over seeds 0, 1, 2 (``benchmarks/quality.py``): confidence
0.793 ± 0.004, KID 0.007 ± 0.006, coverage 1.00 on every seed, copies 0.048 ± 0.004,
543 s a run.

At 1e-3, what did not move it further (seed 0, one run each): 4,500 steps (``--steps
4500``) read 0.790 at the end, its last three evaluations 0.807, 0.785, 0.790 (steps
3,600, 4,050, 4,500) — time no longer helps, the evaluation wanders by ±0.01; R1's γ 4
(``--r1-gamma 4``): 0.759, KID 0.008, ``doubtful_codes`` 0.175 against 0.115. The
default run's doubtful codes over seeds 0, 1, 2 (``cdl eval`` of the quality table's
runs): 0.115, 0.135, 0.145 — an eighth of the codes still draw a blend, and they are
what keeps the mean under 0.8.

EMA (2026-12-06): the run yields the moving average of the generator's weights
(``TrainOptions.ema`` 0.999, StyleGAN's ``G_ema``; :mod:`runtime.train.average`), not the
last weights the optimizer left. At 2e-4 an average did nothing (above); at 1e-3 it does.
Seed 0, the default run, its live weights and three averages kept beside them and
evaluated together (a scratch script on the trainer's ``callbacks``; confidence on the
1,512 glyphs, then ``doubtful_codes``):

======  =============  =============  =============  =============
step    live           β 0.99         β 0.995        β 0.999
======  =============  =============  =============  =============
2,000   0.745, 0.195   0.780, 0.175   0.783, 0.155   0.691, 0.225
2,800   0.785, 0.155   0.808, 0.115   0.802, 0.140   0.793, 0.115
3,600   0.788, 0.130   0.809, 0.120   0.812, 0.115   0.804, 0.125
4,000   0.797, 0.115   0.804, 0.115   0.817, 0.085   **0.826, 0.080**
======  =============  =============  =============  =============

At 4,000 steps β 0.999 also has the lowest KID (−0.003 against the live weights' 0.005;
KID is unbiased, so it can fall under 0) and the live weights' copy rate (0.051 against
0.053; β 0.995: 0.076). The learning rate's decay to zero makes the last live weights an
average of a kind already, which is why the gap shrinks toward the end; it does not
close it. The average costs one ``lerp`` of the generator's 680,481 weights a step: 0.05
ms against a compiled step's 122 (``benchmarks/bench_ema.py``). Over seeds 0, 1, 2
(``benchmarks/quality.py``): confidence **0.814 ± 0.010** (0.826, 0.808, 0.809), KID
−0.004 ± 0.002, coverage 1.00 on every seed, copies 0.049 ± 0.005, ``doubtful_codes``
0.102 ± 0.020 — the same runs' live weights (``cdl eval RUN --live``) read 0.797, 0.791,
0.790, the last table's numbers to the digit: keeping the average changes nothing the
optimizer does.
"""

from __future__ import annotations

import string

import torch
from torch import nn

from category import Schema
from compiler import Euclid, Functor
from runtime.report.measures import CopyCheck, doubtful_groups, kid
from runtime.sources import TensorSource, glyphs

from . import schema_file
from .experiment import Experiment, Options
from .glyph_classifier import classifier
from .nets import MinibatchStd, PixelNorm

FONTS = (
    "DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSans-Oblique.ttf",
    "DejaVuSans-BoldOblique.ttf", "DejaVuSansMono.ttf", "DejaVuSansMono-Bold.ttf",
    "DejaVuSansMono-Oblique.ttf", "DejaVuSansMono-BoldOblique.ttf", "DejaVuSerif.ttf",
    "DejaVuSerif-Bold.ttf", "DejaVuSerif-Italic.ttf", "DejaVuSerif-BoldItalic.ttf",
    "STIXGeneral.ttf", "STIXGeneralItalic.ttf", "STIXGeneralBol.ttf", "STIXGeneralBolIta.ttf")
CHARS = string.ascii_letters + string.digits
SIZE = 32
EVAL_SAMPLES = 512
EVAL_SEED = 1234  # the evaluation latents are the same for every run, so runs compare
COVERAGE_SAMPLES = 1000  # for ``coverage``: some 20 draws per class (50 train chars)
COVERAGE_SEED = 4321
CODES = 200  # the latent's discrete part: some 4 categories per training character
NOISE = 16  # its normal part (64 before the code: "A disconnected latent")
CODE_SCALE = 8.0  # the code's length: twice the normal part's (|z| ≈ 4 for 16 numbers)


def latent_sampler(codes: int, noise: int = NOISE):
    """The latent's sampler: ``[one-hot code × CODE_SCALE, standard normal (noise)]``, the
    code one of ``codes`` categories drawn uniformly (none where ``codes`` is 0)."""

    def sample(n: int, device=None, dtype=None, generator=None) -> torch.Tensor:
        z = torch.randn(n, noise, generator=generator)
        if codes:
            k = torch.randint(codes, (n,), generator=generator)
            z = torch.cat([CODE_SCALE * nn.functional.one_hot(k, codes).float(), z], 1)
        return z.to(device=device, dtype=dtype)

    return sample


class Generator(nn.Module):
    """``z ↦`` a 32×32 glyph in [-1, 1]: a linear map to 4×4, three ×2 transposed convs
    (with ``refine``, each up-step followed by a 3×3 conv, and the image drawn by one)."""

    def __init__(self, latent: int = CODES + NOISE, width: int = 32, refine: bool = False):
        super().__init__()
        self.width = width
        self.stem = nn.Linear(latent, 16 * 4 * width)

        def up(a, b):
            step = [nn.ConvTranspose2d(a, b, 4, 2, 1), PixelNorm(), nn.LeakyReLU(0.2)]
            if refine:
                step += [nn.Conv2d(b, b, 3, 1, 1), PixelNorm(), nn.LeakyReLU(0.2)]
            return step

        last = ([*up(width, width), nn.Conv2d(width, 1, 3, 1, 1)] if refine
                else [nn.ConvTranspose2d(width, 1, 4, 2, 1)])
        self.body = nn.Sequential(PixelNorm(), nn.LeakyReLU(0.2),
                                  *up(4 * width, 2 * width), *up(2 * width, width),
                                  *last, nn.Tanh())

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


def alphanumerics(fonts: tuple[str, ...], split: str) -> tuple[TensorSource, str]:
    """The ``split`` of :data:`CHARS` (by character, the same in every font) in each of
    ``fonts``, each font at its own scale: one source, and the character of each sample."""
    parts = [glyphs(font, chars=CHARS, size=SIZE, split=split) for font in fonts]
    return (TensorSource(torch.cat([g.tensor for g in parts])),
            "".join(g.chars for g in parts))


def build(options: Options, width: int = 32, adversarial: str = "nsgan-r1",
          steps: int = 4000, fonts: tuple[str, ...] = FONTS,
          refine: bool = True, codes: int = CODES, noise: int = NOISE) -> Experiment:
    S = schema()
    latent, glyph = S["Latent"], S["Glyph"]
    dev = options.device
    train, train_chars = alphanumerics(fonts, "train")
    test, _ = alphanumerics(fonts, "test")
    gen = Generator(codes + noise, width, refine)
    draw = latent_sampler(codes, noise)
    F = Functor(S, ob={latent: Euclid(codes + noise), glyph: Euclid(1, SIZE, SIZE)},
                ar={"gen": gen})

    clf = classifier(SIZE, device=dev)
    z_eval = draw(EVAL_SAMPLES, dev, generator=torch.Generator().manual_seed(EVAL_SEED))
    real = clf.features(train.tensor.to(dev))
    z_coverage = draw(COVERAGE_SAMPLES, dev,
                      generator=torch.Generator().manual_seed(COVERAGE_SEED))
    code_of = torch.cat([z_eval, z_coverage])[:, :codes].argmax(1).cpu() if codes else None

    def distance(images: torch.Tensor) -> float:
        return kid(real, clf.features(images))[0]

    with torch.no_grad():  # the references, measured once: gen is still untrained here
        floor = distance(test.tensor.to(dev))
        ceiling = distance(gen(z_eval))
        real_confidence = clf.confidence(test.tensor.to(dev))
        real_coverage = clf.coverage(train.tensor.to(dev), train_chars)
    copies = CopyCheck(train.tensor.to(dev))

    def evaluate(program) -> dict[str, dict[str, float]]:
        with torch.no_grad():
            fake = F.modules[S["gen"]](z_eval)
            many = F.modules[S["gen"]](z_coverage)
        value = distance(fake)
        top = clf.top_probability(torch.cat([fake, many])).cpu()
        by_code = {"doubtful_codes": doubtful_groups(top, code_of)} if codes else {}
        return {"gen": {"kid": value, "kid_floor": floor, "kid_ceiling": ceiling,
                        "progress": (ceiling - value) / (ceiling - floor),
                        "confidence": top.mean().item(), **by_code,
                        "real_confidence": real_confidence,
                        "coverage": clf.coverage(many, train_chars),
                        "real_coverage": real_coverage,
                        "copies": copies(fake)}}

    shown = torch.linspace(0, len(train) - 1, 8).long()  # real glyphs of several fonts
    return Experiment(
        functor=F, critics={glyph: critic(width)}, data={glyph: train}, evaluate=evaluate,
        compile={"adversarial": adversarial, "r1_gamma": 1.0,
                 "priors": {"Latent": draw if codes else "normal"},
                 "lr": 1e-3, "betas": (0.0, 0.99)},  # 2e-4 before: "The learning rate"
        train={"steps": steps, "batch_size": 64, "decay_from": 0.5,
               "ema": 0.999},  # the run yields its generator's moving average: "EMA" above
        samples={latent: z_eval[:8]},
        references={latent: [("real", train.tensor[shown].to(dev))]},
        description=__doc__.splitlines()[0])
