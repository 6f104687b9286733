import math
import string

import pytest
import torch

from runtime.report.measures import (
    class_coverage,
    copy_rate,
    doubtful_groups,
    kid,
    per_input_mae,
    ssim,
    worst_decile,
    worst_decile_ratio,
    worst_inputs,
)


def glyph_like(n: int = 4, seed: int = 0) -> torch.Tensor:
    """Images with structure (smooth blobs), in [-1, 1]."""
    g = torch.Generator().manual_seed(seed)
    low = torch.rand(n, 1, 8, 8, generator=g)
    return torch.nn.functional.interpolate(low, size=32, mode="bilinear") * 2 - 1


def test_ssim_of_identical_images_is_one_and_falls_with_noise():
    x = glyph_like()
    assert torch.allclose(ssim(x, x), torch.ones(len(x)), atol=1e-6)
    g = torch.Generator().manual_seed(1)
    noise = torch.randn(x.shape, generator=g)
    scores = [ssim(x, (x + s * noise).clamp(-1, 1)).mean().item() for s in (0.05, 0.2, 0.8)]
    assert 1 > scores[0] > scores[1] > scores[2]


def test_ssim_is_symmetric_per_image_and_accepts_one_image():
    x, y = glyph_like(seed=0), glyph_like(seed=1)
    assert torch.allclose(ssim(x, y), ssim(y, x))
    assert ssim(x, y).shape == (4,)
    assert torch.allclose(ssim(x[0], y[0]), ssim(x, y)[:1])


def test_ssim_names_bad_shapes():
    with pytest.raises(ValueError, match=r"one shape, got \[4, 1, 32, 32\] and \[4, 1, 16, 16\]"):
        ssim(glyph_like(), glyph_like()[..., :16, :16])
    with pytest.raises(ValueError, match="smaller than the 11×11 window"):
        ssim(torch.zeros(1, 1, 8, 8), torch.zeros(1, 1, 8, 8))


def test_kid_is_near_zero_for_one_distribution_and_grows_with_a_shift():
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(400, 16, generator=g), torch.randn(400, 16, generator=g)
    same, spread = kid(a, b, subsets=30, subset_size=200)
    assert abs(same) < 3 * spread + 0.01
    small, _ = kid(a, b + 0.5, subsets=30, subset_size=200)
    large, _ = kid(a, b + 1.5, subsets=30, subset_size=200)
    assert same < small < large
    # a set against itself: near 0 (slightly below: the estimator leaves out the x = y
    # terms within each set but not across them)
    assert abs(kid(a, a, subsets=10, subset_size=200)[0]) < 0.05 * small


def test_kid_is_deterministic_for_a_seed():
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(100, 8, generator=g), torch.randn(120, 8, generator=g) + 0.3
    assert kid(a, b, subsets=5, subset_size=50, seed=3) == kid(a, b, subsets=5, subset_size=50,
                                                                 seed=3)
    assert kid(a, b, subsets=5, subset_size=50, seed=3) != kid(a, b, subsets=5, subset_size=50,
                                                                 seed=4)


def test_kid_names_bad_features():
    with pytest.raises(ValueError, match=r"same width, got 8 and 4"):
        kid(torch.zeros(5, 8), torch.zeros(5, 4))
    with pytest.raises(ValueError, match=r"fake_features must be \[N, d\] with N >= 2"):
        kid(torch.zeros(5, 8), torch.zeros(8))


def test_worst_decile_ratio_of_a_hand_made_case():
    # 20 inputs: the worst decile is 2 of them, inputs 5 (error 0.9) and 12 (0.8); the
    # arrow halves the baseline everywhere else, but on those two it is worse than no change
    errors, baseline = torch.full((20,), 0.1), torch.full((20,), 0.2)
    errors[5], errors[12] = 0.9, 0.8
    baseline[5], baseline[12] = 0.3, 0.5
    assert sorted(worst_decile(errors).tolist()) == [5, 12]
    assert worst_decile_ratio(errors, baseline) == pytest.approx((0.9 + 0.8) / (0.3 + 0.5))
    mean_ratio = (errors.mean() / baseline.mean()).item()
    assert mean_ratio < 1 < worst_decile_ratio(errors, baseline)  # what the mean hides


def test_the_worst_decile_is_ranked_by_the_arrow_error_not_the_ratio():
    # input 0 has the largest ratio (0.05 / 0.01) but a small error: it is not in the decile;
    # 11 inputs round up to 2 in the decile; fewer than 10 still make one
    errors = torch.tensor([0.05, 0.4, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.3])
    baseline = torch.tensor([0.01, 0.8, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.2])
    assert worst_decile(errors).tolist() == [1, 10]
    assert worst_decile_ratio(errors, baseline) == pytest.approx(0.7 / 1.0)
    assert worst_decile(torch.tensor([0.2, 0.7, 0.1])).tolist() == [1]
    # a perfect baseline on the worst inputs: infinitely worse than no change, not a crash
    assert worst_decile_ratio(torch.tensor([0.0, 0.5]), torch.tensor([1.0, 0.0])) == math.inf


def test_worst_inputs_are_the_largest_errors_worst_first_ties_by_index():
    errors = torch.tensor([0.3, 0.9, 0.3, 0.1, 0.9])
    assert worst_inputs(errors, 3).tolist() == [1, 4, 0]
    assert worst_inputs(errors, 10).tolist() == [1, 4, 0, 2, 3]  # all of them, no more


def test_per_input_errors_average_to_the_mean_error():
    g = torch.Generator().manual_seed(0)
    out, truth = torch.rand(6, 3, 4, 4, generator=g), torch.rand(6, 3, 4, 4, generator=g)
    e = per_input_mae(out, truth)
    assert e.shape == (6,)
    assert e[2].item() == pytest.approx((out[2] - truth[2]).abs().mean().item())
    assert e.mean().item() == pytest.approx((out - truth).abs().mean().item())


def test_the_tail_measures_name_bad_inputs():
    with pytest.raises(ValueError, match=r"\[3\] and \[4\]"):
        worst_decile_ratio(torch.zeros(3), torch.zeros(4))
    with pytest.raises(ValueError, match="non-empty"):
        worst_decile(torch.zeros(0))
    with pytest.raises(ValueError, match=r"\[2, 3\] and \[2, 4\]"):
        per_input_mae(torch.zeros(2, 3), torch.zeros(2, 4))
    with pytest.raises(ValueError, match="wanted non-empty"):
        class_coverage(torch.tensor([1]), torch.tensor([], dtype=torch.long))


def test_class_coverage_of_hand_made_predictions():
    wanted = torch.tensor([0, 1, 2, 3, 4, 4])  # five classes; a repeat counts once
    assert class_coverage(torch.tensor([0, 0, 0, 2, 7, 7]), wanted) == pytest.approx(2 / 5)
    assert class_coverage(torch.tensor([4, 3, 2, 1, 0]), wanted) == 1.0
    assert class_coverage(torch.full((1000,), 3), wanted) == pytest.approx(1 / 5)  # collapsed
    assert class_coverage(torch.tensor([5, 6, 9]), wanted) == 0.0  # none of the wanted ones
    assert class_coverage(torch.tensor([], dtype=torch.long), wanted) == 0.0


def test_copy_rate_tells_copies_from_new_samples_and_from_blurs():
    """Glyphs of the training fonts are copies (1.0); the same characters in fonts the set
    never saw are new (a few, more with a larger quantile); their blur, far from every
    glyph, none."""
    from runtime.sources import glyphs  # noqa: PLC0415 - rendering only here

    def letters(*fonts):
        return torch.cat([glyphs(f, size=16, chars=string.ascii_letters + string.digits).tensor
                          for f in fonts])

    train = letters("DejaVuSans.ttf", "DejaVuSerif.ttf", "DejaVuSansMono.ttf",
                    "DejaVuSans-Oblique.ttf")
    assert copy_rate(train[::7], train) == 1.0
    new = letters("DejaVuSans-Bold.ttf", "DejaVuSerif-Italic.ttf", "DejaVuSansMono-Oblique.ttf")
    rates = [copy_rate(new, train, quantile=q) for q in (0.05, 0.2, 0.5)]
    assert 0.0 < rates[0] < rates[1] < rates[2] < 0.6
    assert copy_rate(torch.nn.functional.avg_pool2d(new, 5, 1, 2), train, quantile=0.5) == 0.0


def test_copy_rate_checks_its_inputs():
    with pytest.raises(ValueError, match="quantile must be in"):
        copy_rate(torch.zeros(2, 3), torch.zeros(4, 3), quantile=1.0)
    with pytest.raises(ValueError, match=r"shape \[4\] \(flattened\), got 2 of \[3\]"):
        copy_rate(torch.zeros(2, 3), torch.zeros(4, 4))
    with pytest.raises(ValueError, match="got 0 of"):
        copy_rate(torch.zeros(0, 4), torch.zeros(4, 4))
    with pytest.raises(ValueError, match="at least 2 training samples, got 1"):
        copy_rate(torch.zeros(2, 3), torch.zeros(1, 3))


def test_doubtful_groups_weigh_each_group_once_whatever_its_size():
    """A group of many sure samples counts as one group, as a doubtful group of one does."""
    scores = torch.cat([torch.full((97,), 0.9), torch.tensor([0.1, 0.2, 0.45])])
    groups = torch.cat([torch.zeros(97, dtype=torch.long), torch.tensor([3, 4, 7])])
    assert doubtful_groups(scores, groups) == 0.75  # 3 of the 4 groups, 3 of 100 samples
    assert doubtful_groups(scores, groups, below=0.3) == 0.5
    assert doubtful_groups(torch.tensor([0.5, 0.5]), torch.tensor([1, 1])) == 0.0  # "under"


def test_doubtful_groups_check_their_inputs():
    with pytest.raises(ValueError, match=r"got shapes \[3\] and \[2\]"):
        doubtful_groups(torch.zeros(3), torch.zeros(2, dtype=torch.long))
    with pytest.raises(ValueError, match="non-empty"):
        doubtful_groups(torch.zeros(0), torch.zeros(0, dtype=torch.long))
