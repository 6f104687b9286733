"""Quality measures for generated images, written in torch (no extra dependencies).

``ssim`` compares an image with its ground truth (a translation with the paired target
glyph); ``kid`` compares two *sets* by their feature distributions (generated glyphs
against real ones, on a classifier's features). KID is used rather than FID because its
estimator is unbiased: with the few hundred samples of a glyph set, FID's bias depends
on the sample size and swamps the differences being measured.

A mean hides the inputs a map gets wrong: ``per_input_mae`` gives each input's own error
and ``worst_decile_ratio`` compares the map with its baseline on the tenth of the inputs
where the map does worst. ``class_coverage`` counts the classes a generator's samples
reach at all (a mode-collapse check: confidence and KID can be good on a few classes);
``copy_rate`` asks whether samples are the training data itself (a memorisation check:
a generator that copies its training set is perfect on KID, confidence and coverage).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

__all__ = ["CopyCheck", "class_coverage", "copy_rate", "doubtful_groups", "kid", "per_input_mae",
           "ssim", "worst_decile", "worst_decile_ratio", "worst_inputs"]


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


def per_input_mae(out: torch.Tensor, truth: torch.Tensor) -> torch.Tensor:
    """The mean absolute error of each ``out[i]`` against ``truth[i]``: ``[N]``.

    The per-input numbers behind a mean error (their mean is the mean over all entries,
    since every input has as many entries), so that the worst inputs can be named.

    >>> per_input_mae(torch.tensor([[0.0, 2.0], [1.0, 1.0]]), torch.zeros(2, 2)).tolist()
    [1.0, 1.0]
    """
    if out.shape != truth.shape or out.dim() < 1:
        raise ValueError(f"per_input_mae: out and truth must have one shape [N, ...], got "
                         f"{list(out.shape)} and {list(truth.shape)}")
    return (out - truth).abs().flatten(1).mean(1) if out.dim() > 1 else (out - truth).abs()


def worst_inputs(errors: torch.Tensor, n: int) -> torch.Tensor:
    """The indices of the ``n`` largest ``errors`` (all of them if fewer), the worst first.
    Ties go to the lower index, so that the same errors always name the same inputs.

    >>> worst_inputs(torch.tensor([0.1, 0.9, 0.3, 0.9, 0.2]), 3).tolist()
    [1, 3, 2]
    """
    if errors.dim() != 1 or len(errors) == 0:
        raise ValueError(f"worst_inputs: errors must be a non-empty [N] tensor, got shape "
                         f"{list(errors.shape)}")
    order = torch.sort(errors.detach().cpu(), descending=True, stable=True).indices
    return order[:n].to(errors.device)


def worst_decile(errors: torch.Tensor) -> torch.Tensor:
    """The indices of the tenth of the inputs with the largest ``errors`` (at least one
    input: ``ceil(N / 10)`` of them), the worst first (:func:`worst_inputs`).

    >>> worst_decile(torch.tensor([0.1, 0.9, 0.3, 0.9, 0.2])).tolist()
    [1]
    """
    return worst_inputs(errors, math.ceil(len(errors) / 10))


def worst_decile_ratio(errors: torch.Tensor, baseline: torch.Tensor) -> float:
    """The arrow's error against the baseline's on its worst tenth of the inputs.

    ``errors[i]`` is the arrow's error on held-out input ``i`` (its output against the
    ground truth), ``baseline[i]`` the identity baseline's error on that input (the input
    itself as the answer). The worst decile is the 10% of the inputs with the largest
    arrow error (``ceil(N / 10)`` of them, :func:`worst_decile`); the result is
    ``sum(errors over those) / sum(baseline over those)``. Where the mean ratio
    ``mean(errors) / mean(baseline)`` says how far the arrow went on average, this says
    whether the inputs it handles worst are still better than no change (< 1) or made
    worse (> 1). A zero baseline sum gives ``inf`` (or ``nan`` if the errors are zero too).

    >>> worst_decile_ratio(torch.tensor([0.1, 0.5, 0.2]), torch.tensor([1.0, 1.0, 0.5]))
    0.5
    """
    if errors.shape != baseline.shape:
        raise ValueError(f"worst_decile_ratio: errors and baseline must be [N] of one "
                         f"length, got shapes {list(errors.shape)} and {list(baseline.shape)}")
    worst = worst_decile(errors)
    num, den = errors[worst].sum().item(), baseline[worst].sum().item()
    if den == 0:
        return math.nan if num == 0 else math.inf
    return num / den


def class_coverage(predicted: torch.Tensor, wanted: torch.Tensor) -> float:
    """The fraction of the classes ``wanted`` that occur at least once in ``predicted``.

    ``predicted``: the class a classifier reads in each generated sample; ``wanted``: the
    classes the generator should reach (repeats count once; predicted classes outside
    ``wanted`` count for nothing). A generator collapsed onto a few modes covers few
    classes however legible its samples are.

    >>> class_coverage(torch.tensor([3, 3, 7, 9]), torch.tensor([3, 5, 7, 7]))
    0.6666666666666666
    """
    if predicted.dim() != 1 or wanted.dim() != 1 or len(wanted) == 0:
        raise ValueError(f"class_coverage: predicted and wanted must be [N] class ids, wanted "
                         f"non-empty, got shapes {list(predicted.shape)} and "
                         f"{list(wanted.shape)}")
    classes = wanted.unique()
    hit = torch.isin(classes, predicted.to(classes.device))
    return int(hit.sum().item()) / len(classes)


def doubtful_groups(scores: torch.Tensor, groups: torch.Tensor, below: float = 0.5) -> float:
    """The fraction of the groups present in ``groups`` (an integer id per sample) whose
    samples' mean ``score`` is under ``below``: for a generator with a discrete latent
    code, the codes whose glyphs a classifier mostly doubts (a mean over all samples
    cannot tell a few hopeless codes from doubt spread evenly).

    >>> scores = torch.tensor([0.9, 0.8, 0.2, 0.4, 0.95, 0.3])
    >>> doubtful_groups(scores, torch.tensor([0, 0, 1, 1, 2, 2]))  # group 1: mean 0.3
    0.3333333333333333
    >>> doubtful_groups(scores, torch.tensor([5, 5, 5, 9, 9, 9]))  # both above 0.5
    0.0
    """
    if scores.shape != groups.shape or scores.dim() != 1 or len(scores) == 0:
        raise ValueError(f"doubtful_groups: scores and groups must be two non-empty vectors "
                         f"of one length, got shapes {list(scores.shape)} and "
                         f"{list(groups.shape)}")
    present, index = groups.cpu().unique(return_inverse=True)
    sums = torch.zeros(len(present), dtype=torch.float64).index_add_(
        0, index, scores.detach().cpu().double())
    counts = torch.bincount(index, minlength=len(present)).double()
    return int(((sums / counts) < below).sum()) / len(present)


def _nearest(x: torch.Tensor, ref: torch.Tensor, exclude_self: bool = False) -> torch.Tensor:
    """Each row of ``x``'s Euclidean distance to its nearest row of ``ref`` (``[N]``); with
    ``exclude_self`` (``x`` is ``ref``), to its nearest *other* row."""
    # computed directly, not by matrix products: their rounding puts a copy a little off
    # 0, and exact duplicates among the training samples can make the threshold 0
    d = torch.cdist(x.double(), ref.double(), compute_mode="donot_use_mm_for_euclid_dist")
    if exclude_self:
        d.fill_diagonal_(math.inf)
    return d.min(1).values


def copy_rate(samples: torch.Tensor, train: torch.Tensor, quantile: float = 0.05) -> float:
    """The fraction of ``samples`` as near (pixel L2) to a training sample as the nearest
    ``quantile`` of the training samples are to one another.

    The threshold is the ``quantile`` of each training sample's distance to its nearest
    other training sample, so new samples drawn as the training set was drawn score about
    ``quantile``; a generator that copies its training data scores near 1, one that draws
    blurred averages, far from every training sample, near 0. Images of any shape are
    compared flattened. :class:`CopyCheck` computes the threshold once for many calls.

    >>> g = torch.Generator().manual_seed(0)
    >>> train = torch.randn(400, 16, generator=g)
    >>> copy_rate(train[:50] + 1e-3, train)  # copies
    1.0
    >>> fresh = copy_rate(torch.randn(400, 16, generator=g), train)
    >>> 0.0 < fresh < 0.15  # about 0.05: drawn as the training set was
    True
    """
    return CopyCheck(train, quantile)(samples)


class CopyCheck:
    """:func:`copy_rate` against one training set: its threshold (the training samples'
    own nearest-neighbour distances) is computed once, here, and each call measures a
    set of samples against it (an evaluation during training calls it many times)."""

    def __init__(self, train: torch.Tensor, quantile: float = 0.05):
        if not 0 < quantile < 1:
            raise ValueError(f"copy_rate: quantile must be in (0, 1), got {quantile}")
        if len(train) < 2:
            raise ValueError(f"copy_rate: need at least 2 training samples, got {len(train)}")
        self.train = train.reshape(len(train), -1).double()  # once, not at every call
        self.threshold = _nearest(self.train, self.train, exclude_self=True).quantile(quantile)

    def __call__(self, samples: torch.Tensor) -> float:
        if len(samples) == 0 or samples[0].numel() != self.train.shape[1]:
            raise ValueError(f"copy_rate: samples must be a non-empty batch of the training "
                             f"samples' shape {list(self.train.shape[1:])} (flattened), got "
                             f"{len(samples)} of {list(samples.shape[1:])}")
        x = samples.reshape(len(samples), -1)
        return (_nearest(x, self.train) <= self.threshold).double().mean().item()
