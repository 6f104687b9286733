import pytest
import torch

from runtime.report.measures import kid, ssim


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
