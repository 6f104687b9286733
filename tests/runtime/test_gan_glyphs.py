import math

import pytest
import torch

import runtime
from runtime.experiments import gan_glyphs, prepare
from runtime.experiments import glyph_classifier as gc
from runtime.sources import glyphs

# a smaller classifier than the experiments' (fewer fonts and epochs): seconds, not a minute
SMALL = {"fonts": ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSerif.ttf"), "epochs": 16,
         "width": 16}


@pytest.fixture(scope="module")
def small():
    return gc.classifier(**SMALL, cache=None)


def test_the_classifier_reads_a_font_it_never_saw(small):
    held = glyphs("DejaVuSans-Oblique.ttf")
    assert held.font.name not in SMALL["fonts"]
    assert small.accuracy(held.tensor, held.chars) > 0.6  # chance is below 0.01
    assert small.confidence(held.tensor) > 0.5
    blank = -torch.ones(8, 1, 32, 32)
    assert small.accuracy(blank, "ABCDEFGH") < 0.5


def test_look_alike_characters_are_one_class(small):
    groups = gc.lookalike_groups()
    for same in ("OΟО", "AΑА", "pр", "ΓГ"):
        assert any(set(same) <= set(g) for g in groups), same
    for different in ("Il", "0O", "oO", "ΦФ"):
        assert not any(set(different) <= set(g) for g in groups), different
    assert len(small.classes) == len(groups) < len(gc.DEFAULT_CHARS)
    ids = small.label("OΟО")
    assert ids[0] == ids[1] == ids[2] != small.label("l")[0]
    greek = glyphs("DejaVuSans.ttf", chars="Ο").tensor  # Greek omicron, read as Latin O
    assert small.accuracy(greek, "O") == small.accuracy(greek, "Ο") == 1.0


def test_the_classifier_checks_its_inputs(small):
    with pytest.raises(ValueError, match=r"expects glyphs \[N, 1, 32, 32\], got shape \[2, 32"):
        small.predict(torch.zeros(2, 32, 32))
    with pytest.raises(ValueError, match="characters '☃' are not among its classes"):
        small.label("A☃")
    with pytest.raises(ValueError, match="2 glyphs but 3 characters"):
        small.accuracy(torch.zeros(2, 1, 32, 32), "abc")


def test_training_is_seeded_cached_on_disk_and_leaves_the_global_rng(tmp_path):
    tiny = {"fonts": ("DejaVuSans.ttf",), "epochs": 1, "width": 8}
    torch.manual_seed(5)
    before = torch.rand(1)
    torch.manual_seed(5)
    a = gc.classifier(**tiny, cache=tmp_path)
    assert torch.rand(1) == before  # training used its own seeded generator
    (path,) = tmp_path.glob("glyph_classifier-*.pt")
    gc._weights.cache_clear()  # a new process: the weights come from the file
    b = gc.classifier(**tiny, cache=tmp_path)
    x = glyphs(chars="Aa").tensor
    assert torch.equal(a.features(x), b.features(x))
    c = gc.classifier(**tiny, seed=1, cache=tmp_path)
    assert not torch.equal(a.features(x), c.features(x))
    assert len(list(tmp_path.glob("glyph_classifier-*.pt"))) == 2


def test_features_have_the_norm_the_kid_kernel_expects(small):
    f = small.features(glyphs(chars="AbΩ7").tensor)
    assert f.shape == (4, 256)
    assert torch.allclose(f.norm(dim=1), torch.full((4,), 16.0))


def test_coverage_counts_the_classes_of_the_characters_read_at_least_once(small):
    g = glyphs("DejaVuSans.ttf", chars="AOΟОbc")  # O, Greek Ο, Cyrillic О: one class
    classes = len(set(small.label(g.chars).tolist()))
    assert classes == 4
    assert small.coverage(g.tensor, g.chars) == 1.0  # every glyph once: all read
    collapsed = g.tensor[[0] * 50]  # fifty As
    assert small.coverage(collapsed, g.chars) == pytest.approx(1 / classes)
    # the three Os drawn, repeatedly: one class of the four, however many samples
    assert small.coverage(g.tensor[[1, 2, 3] * 10], g.chars) == pytest.approx(1 / classes)


def test_the_gan_trains_a_few_steps_and_evaluates(tmp_path, monkeypatch, small):
    monkeypatch.setattr(gan_glyphs, "classifier", lambda size, device: small)
    exp, program = prepare("gan_glyphs", device="cpu", backend="eager")
    assert [a.name for a in exp.schema.arrows] == ["gen"] and not exp.schema.equations
    trainer = runtime.Trainer(program, exp.data, tmp_path / "run", steps=3, batch_size=8,
                              progress=False, tensorboard=False, **exp.trainer_extras())
    trainer.fit()
    row = trainer.evaluation["gen"]
    assert set(row) == {"kid", "kid_floor", "kid_ceiling", "progress", "confidence",
                        "doubtful_codes", "real_confidence", "coverage", "real_coverage",
                        "copies"}
    assert all(math.isfinite(v) for v in row.values())
    assert row["kid_floor"] < row["kid_ceiling"]
    assert 0 < row["real_confidence"] <= 1 and 0 < row["confidence"] <= 1
    assert 0 <= row["coverage"] <= 1 and row["real_coverage"] > 0.8  # real glyphs: nearly all
    assert 0 <= row["copies"] < 0.5  # 3 steps from random weights: no training glyph
    assert 0 <= row["doubtful_codes"] <= 1
    assert list((tmp_path / "run" / "samples").glob("*/Latent.png"))  # a grid of glyphs


def test_the_gan_data_is_every_fonts_alphanumerics_split_by_character():
    train, train_chars = gan_glyphs.alphanumerics(gan_glyphs.FONTS, "train")
    test, test_chars = gan_glyphs.alphanumerics(gan_glyphs.FONTS, "test")
    fonts = len(gan_glyphs.FONTS)
    assert len(train) == len(train_chars) and len(test) == len(test_chars)
    assert len(train_chars) + len(test_chars) == fonts * len(gan_glyphs.CHARS)
    assert not set(train_chars) & set(test_chars)  # held-out characters are never trained on
    assert set(train_chars) | set(test_chars) == set(gan_glyphs.CHARS)
    assert len(train_chars) == fonts * len(set(train_chars))  # every font draws every one
    a = train_chars.index("a")
    first, second = train.tensor[a], train.tensor[a + len(set(train_chars))]
    assert (first - second).abs().mean() > 0.01  # the next font draws it differently


def test_the_latent_is_a_uniform_one_hot_code_beside_a_standard_normal():
    draw = gan_glyphs.latent_sampler(4)
    z = draw(4000, generator=torch.Generator().manual_seed(0))
    assert z.shape == (4000, 4 + gan_glyphs.NOISE) and z.dtype == torch.float32
    code, noise = z[:, :4], z[:, 4:]
    assert torch.equal((code > 0).sum(1), torch.ones(4000, dtype=torch.long))  # one-hot
    assert set(code.unique().tolist()) == {0.0, gan_glyphs.CODE_SCALE}
    counts = (code > 0).sum(0)
    assert counts.min() > 900 and counts.max() < 1100  # each category drawn ~1/4 of the time
    assert abs(noise.mean()) < 0.02 and abs(noise.std() - 1) < 0.02
    again = draw(4000, generator=torch.Generator().manual_seed(0))
    assert torch.equal(z, again)  # the evaluation latents are the same in every run
    assert draw(3, dtype=torch.float64).dtype == torch.float64
    assert gan_glyphs.latent_sampler(4, noise=3)(2).shape == (2, 4 + 3)
    plain = gan_glyphs.latent_sampler(0)(5)
    assert plain.shape == (5, gan_glyphs.NOISE)  # no code: the standard normal alone


def test_the_gan_draws_its_training_latents_from_the_coded_prior(small, monkeypatch):
    monkeypatch.setattr(gan_glyphs, "classifier", lambda size, device: small)
    exp, program = prepare("gan_glyphs", device="cpu", backend="eager")
    width = gan_glyphs.CODES + gan_glyphs.NOISE
    latent = exp.schema["Latent"]
    assert exp.functor.spaces[latent].shapes == ((width,),)
    z = exp.compile["priors"]["Latent"](6)
    assert z.shape == (6, width) and torch.equal((z[:, :gan_glyphs.CODES] > 0).sum(1),
                                                 torch.ones(6, dtype=torch.long))
