"""Quality measures for generated images, written in torch (no extra dependencies).

``ssim`` compares an image with its ground truth (a translation with the paired target
glyph); ``kid`` compares two *sets* by their feature distributions (generated glyphs
against real ones, on a classifier's features). KID is used rather than FID because its
estimator is unbiased: with the few hundred samples of a glyph set, FID's bias depends
on the sample size and swamps the differences being measured.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["kid", "ssim"]


def _gaussian_window(size: int, sigma: float, dtype, device) -> torch.Tensor:
    r = torch.arange(size, dtype=dtype, device=device) - (size - 1) / 2
    g = torch.exp(-(r ** 2) / (2 * sigma ** 2))
    g = g / g.sum()
    return g[:, None] * g[None, :]


def ssim(x: torch.Tensor, y: torch.Tensor, data_range: float = 2.0, window: int = 11,
         sigma: float = 1.5) -> torch.Tensor:
    """Structural similarity of each image pair, ``[N]`` (Wang et al. 2004).

    ``x``, ``y``: ``[N, C, H, W]`` (or one ``[C, H, W]`` image), by default in [-1, 1]
    (``data_range`` 2). Local means, variances and covariance are taken under a Gaussian
    window (size 11, σ 1.5) over the *valid* positions (no padding, as in the
    reference implementation), with the usual constants ``(0.01 L)²``, ``(0.03 L)²``;
    the SSIM map is averaged per image over positions and channels. 1 means identical;
    it is symmetric and falls as structure is lost.

    >>> x = torch.rand(2, 1, 32, 32) * 2 - 1
    >>> s = ssim(x, x)
    >>> tuple(s.shape), bool(torch.allclose(s, torch.ones(2)))
    ((2,), True)
    >>> noisy = (x + 0.5 * torch.randn_like(x)).clamp(-1, 1)
    >>> bool((ssim(x, noisy) < 0.9).all()), bool(torch.allclose(ssim(x, noisy), ssim(noisy, x)))
    (True, True)
    """
    if x.shape != y.shape:
        raise ValueError(f"ssim compares images of one shape, got {list(x.shape)} and "
                         f"{list(y.shape)}")
    if x.dim() == 3:
        return ssim(x[None], y[None], data_range, window, sigma)
    if x.dim() != 4:
        raise ValueError(f"ssim expects images [N, C, H, W] or [C, H, W], got shape "
                         f"{list(x.shape)}")
    if min(x.shape[-2:]) < window:
        raise ValueError(f"ssim: images of {x.shape[-2]}×{x.shape[-1]} px are smaller than "
                         f"the {window}×{window} window")
    x, y = x.float(), y.float()
    C = x.shape[1]
    w = _gaussian_window(window, sigma, x.dtype, x.device).expand(C, 1, window, window)

    def blur(t):
        return F.conv2d(t, w, groups=C)

    mx, my = blur(x), blur(y)
    vx = blur(x * x) - mx ** 2
    vy = blur(y * y) - my ** 2
    cov = blur(x * y) - mx * my
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    s = ((2 * mx * my + c1) * (2 * cov + c2)) / ((mx ** 2 + my ** 2 + c1) * (vx + vy + c2))
    return s.flatten(1).mean(1)


def _mmd2_unbiased(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    d = x.shape[1]
    kxx = (x @ x.T / d + 1) ** 3
    kyy = (y @ y.T / d + 1) ** 3
    kxy = (x @ y.T / d + 1) ** 3
    m, n = len(x), len(y)
    xx = (kxx.sum() - kxx.diagonal().sum()) / (m * (m - 1))
    yy = (kyy.sum() - kyy.diagonal().sum()) / (n * (n - 1))
    return xx + yy - 2 * kxy.mean()


def kid(real_features: torch.Tensor, fake_features: torch.Tensor, subsets: int = 100,
        subset_size: int = 1000, seed: int = 0) -> tuple[float, float]:
    """Kernel Inception Distance: ``(mean, std)`` of the unbiased MMD² over subsets.

    Binkowski et al. 2018: the squared maximum mean discrepancy between the two feature
    sets under the polynomial kernel ``k(a, b) = (a·b / d + 1)³``, estimated without
    bias on ``subsets`` random subsets of ``min(subset_size, len(real), len(fake))``
    samples of each set (drawn without replacement, seeded by ``seed``, so the same
    inputs give the same answer). Features are ``[N, d]``; computed in float64. Near 0
    for two samples of one distribution (it can be slightly negative: the estimator is
    unbiased), larger as they differ.

    >>> g = torch.Generator().manual_seed(0)
    >>> a, b = torch.randn(300, 8, generator=g), torch.randn(300, 8, generator=g)
    >>> same, _ = kid(a, b, subsets=20, subset_size=100)
    >>> shifted, _ = kid(a, b + 1, subsets=20, subset_size=100)
    >>> abs(same) < 0.05 < shifted
    True
    """
    for name, f in (("real_features", real_features), ("fake_features", fake_features)):
        if f.dim() != 2 or len(f) < 2:
            raise ValueError(f"kid: {name} must be [N, d] with N >= 2, got shape "
                             f"{list(f.shape)}")
    if real_features.shape[1] != fake_features.shape[1]:
        raise ValueError(f"kid: real and fake features must have the same width, got "
                         f"{real_features.shape[1]} and {fake_features.shape[1]}")
    if subsets < 1 or subset_size < 2:
        raise ValueError(f"kid: subsets must be >= 1 and subset_size >= 2, got "
                         f"{subsets} and {subset_size}")
    x, y = real_features.double().cpu(), fake_features.double().cpu()
    m = min(subset_size, len(x), len(y))
    g = torch.Generator().manual_seed(seed)
    values = torch.stack([_mmd2_unbiased(x[torch.randperm(len(x), generator=g)[:m]],
                                         y[torch.randperm(len(y), generator=g)[:m]])
                          for _ in range(subsets)])
    std = values.std().item() if subsets > 1 else 0.0
    return values.mean().item(), std
