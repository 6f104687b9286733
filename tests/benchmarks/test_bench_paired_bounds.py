"""The paired bound trains the experiment's own network on the answers: a few steps of it
already beat the identity on the training glyphs and on held-out ones (Sans → Bold is a
thickening a convolution learns from examples). Its data variants add training pairs
without a held-out character in them, at the experiment's scale."""

import unicodedata

import torch

from benchmarks import bench_paired_bounds as bounds
from runtime.experiments.font_pairs import font_glyphs


def test_paired_training_learns_the_translation_and_generalises():
    name, experiment, arrow, source, target = bounds.ARROWS[0]
    assert experiment == "cyclegan_fonts" and arrow == "f"
    untrained = bounds.paired_ratios(experiment, arrow, source, target, seed=0, steps=1)
    trained = bounds.paired_ratios(experiment, arrow, source, target, seed=0, steps=150)
    assert untrained["train"] > 0.97  # the identity start: nearly the identity's error
    assert trained["train"] < 0.8
    assert trained["ratio"] < 0.85  # held-out characters, never trained on
    assert trained["worst"] >= trained["ratio"]  # the worst tenth is at least the mean


def test_extended_letters_hold_out_what_the_experiment_holds_out():
    _, _, _, source, target = bounds.SERIF_ARROWS[0]
    held = font_glyphs({"a": source, "b": target}, torch.device("cpu")).test_chars
    letters = bounds.extended_letters((source, target), held)
    assert len(letters) > 300
    assert not set(letters) & set(held)
    assert not {unicodedata.normalize("NFD", c)[0] for c in letters} & set(held)
    assert "É" in letters or "E" in held  # an accented letter of a training base is in


def test_extra_pairs_are_rendered_at_the_experiments_scale():
    _, _, _, source, target = bounds.SERIF_ARROWS[0]
    data = font_glyphs({"a": source, "b": target}, torch.device("cpu"))
    extra = bounds.more_pairs(source, target, data.test_chars)
    bx, by = extra["bold"]()
    assert bx.shape == by.shape == data.train["a"].tensor.shape  # the training characters
    ex, ey = extra["extended"]()
    assert ex.shape == ey.shape and ex.shape[1:] == (1, 32, 32)
    # the same scale: a training letter and its accented form share the letter's width
    chars = bounds.extended_letters((source, target), data.test_chars)
    train_chars = data.train["a"].chars
    k = next(i for i, c in enumerate(chars)
             if unicodedata.normalize("NFD", c)[0] in train_chars and c.islower())
    base = train_chars.index(unicodedata.normalize("NFD", chars[k])[0])

    def width(img):
        return int((img[0] > 0).any(0).sum())

    assert abs(width(ex[k]) - width(data.train["a"].tensor[base])) <= 1


def test_a_variant_swaps_the_network_or_the_data():
    _, experiment, arrow, source, target = bounds.SERIF_ARROWS[0]
    wider = bounds.paired_ratios(experiment, arrow, source, target, seed=0, variant="wider",
                                 steps=2)
    bold = bounds.paired_ratios(experiment, arrow, source, target, seed=0, variant="bold",
                                steps=2)
    plain = bounds.paired_ratios(experiment, arrow, source, target, seed=0, steps=2)
    assert bold["pairs"] == 2 * plain["pairs"] == wider["pairs"] * 2
    assert wider["ratio"] != plain["ratio"]  # another network, another output
