"""Held-out measures of skin-tone removal (``f``) and insertion (``g``) on emoji.

Each measure has a baseline that changes nothing (the input as the output), so a
number says how much of the way the networks went:

- ``removal``: ``f``'s image factor against the true base (``mae``), the toned input's
  own distance to its base (``input_mae``), their ``ratio``, and ``worst_decile_ratio``: the
  same ratio on the tenth of the held-out emoji where removal errs most
  (:func:`~runtime.report.measures.worst_decile_ratio` of the per-emoji errors).
- ``f.g`` and ``g.f``: the two equations' residuals on held-out data, ``g.f`` with codes
  ``z ~ N(0, 1)``. ``g.f``'s ``residual`` is the mean over all entries of the pair
  (3072 pixel values and the code's entries), so it is nearly the image part; read it with
  ``image`` and ``code`` (each factor's mean) and ``factor_mean`` (their mean, each
  factor weighed equally as in the equation's loss). The code part is the hard one:
  ``g`` must write ``z`` into the image in a way ``f`` can read back; a code that
  ``f`` ignores scores ``E|z| = 0.80``.
- ``insertion``: whether ``g`` uses its code. On the *skin region* of a base (pixels
  where the base and its toned versions differ, known from the ground truth), the mean
  colour of ``g(b, z)``; ``tone_spread`` is its spread (standard deviation, mean over
  bases and RGB) across different ``z``, ``same_z_spread`` the same for repeated calls
  with one ``z`` (in other batches; ``g`` is deterministic, so ~0), ``true_spread`` the
  spread of the five real tones. ``tone_mae``: per base and true tone, the closest
  ``g(b, z)`` of the sampled codes, mean absolute error; ``input_mae`` is the base's own.
- ``transfer``: the tone of one held-out emoji put onto another: ``g(b_i, code(a_j))``
  with ``a_j`` another base in tone ``t`` against the truth (base ``i`` in tone ``t``);
  ``worst_decile_ratio`` as for removal.
"""

from __future__ import annotations

import torch

from runtime.report.measures import per_input_mae, worst_decile_ratio

SKIN = 0.1  # a pixel is skin where some tone moves its colour by more than this (mean RGB)


def skin_mask(bases: torch.Tensor, toned: torch.Tensor) -> torch.Tensor:
    """``[n, 1, s, s]``: where the base ``bases[i]`` and its tones ``toned[i, t]`` differ."""
    diff = (toned - bases[:, None]).abs().mean(2).amax(1)
    return (diff > SKIN).unsqueeze(1).to(bases.dtype)


def region_colour(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The mean RGB colour of ``x`` ``[n, 3, s, s]`` over ``mask`` ``[n, 1, s, s]``: ``[n, 3]``."""
    return (x * mask).sum((2, 3)) / mask.sum((2, 3)).clamp_min(1)


def codes(n: int, k: int, dim: int, seed: int, device) -> torch.Tensor:
    """``[k, n, dim]`` fixed standard normal codes."""
    g = torch.Generator().manual_seed(seed)
    return torch.randn(k, n, dim, generator=g).to(device)


@torch.no_grad()
def evaluate_emoji(f, g, toned: torch.Tensor, bases: torch.Tensor, base_index: torch.Tensor,
                   code_dim: int, draws: int = 8, seed: int = 0) -> dict[str, dict[str, float]]:
    """The table described in the module docstring, on held-out ``toned`` (``[5 n, …]``,
    base ``base_index``) and ``bases`` (``[n, …]``)."""
    n, tones = len(bases), len(toned) // len(bases)
    truth = bases[base_index]
    removed, code = f(toned)
    back = g(removed, code)
    rows = {}
    errors, identity = per_input_mae(removed, truth), per_input_mae(toned, truth)
    mae, base_mae = errors.mean().item(), identity.mean().item()
    rows["removal"] = {"mae": mae, "input_mae": base_mae, "ratio": mae / base_mae,
                       "worst_decile_ratio": worst_decile_ratio(errors, identity)}
    rows["f.g"] = {"residual": (back - toned).abs().mean().item()}

    z = codes(n, draws, code_dim, seed, bases.device)
    made = torch.stack([g(bases, z[k]) for k in range(draws)])  # [k, n, 3, s, s]
    img, zz = f(made.flatten(0, 1))
    d_img = (img - bases.repeat(draws, 1, 1, 1)).abs()
    d_code = (zz - z.flatten(0, 1)).abs()
    total = (d_img.sum() + d_code.sum()) / (d_img.numel() + d_code.numel())
    parts = {"image": d_img.mean().item(), "code": d_code.mean().item()}
    rows["g.f"] = {"residual": total.item(), **parts,
                   "factor_mean": (parts["image"] + parts["code"]) / 2}

    by_base = toned.view(n, tones, *toned.shape[1:])
    mask = skin_mask(bases, by_base)
    colour = torch.stack([region_colour(m, mask) for m in made])  # [k, n, 3]
    again = torch.stack([g(bases[i:i + 1].expand(draws, -1, -1, -1),
                           z[0, i:i + 1].expand(draws, -1)) for i in range(n)])
    same = torch.stack([region_colour(a, mask[i:i + 1].expand(draws, -1, -1, -1))
                        for i, a in enumerate(again)])  # [n, k, 3]
    real = torch.stack([region_colour(by_base[:, t], mask) for t in range(tones)])
    dist = (made[:, :, None] - by_base[None]).abs().mean((3, 4, 5))  # [k, n, tones]
    rows["insertion"] = {
        "tone_spread": colour.std(0).mean().item(),
        "same_z_spread": same.std(1).mean().item(),
        "true_spread": real.std(0).mean().item(),
        "tone_mae": dist.amin(0).mean().item(),
        "input_mae": base_mae}

    other = (torch.arange(len(toned), device=toned.device) + tones) % len(toned)  # next base
    moved = g(bases[base_index], code[other])
    moved_errors = per_input_mae(moved, toned)  # the identity's error is the removal one's
    t_mae = moved_errors.mean().item()
    rows["transfer"] = {"mae": t_mae, "input_mae": base_mae, "ratio": t_mae / base_mae,
                        "worst_decile_ratio": worst_decile_ratio(moved_errors, identity)}
    return rows
