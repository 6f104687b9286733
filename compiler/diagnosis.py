"""What a program says when a step goes wrong: which losses are not finite and why, and
which network fails on a batch.

>>> import torch
>>> text = non_finite_message([(["adv:f", "adv:g"], torch.tensor([1.0, float("nan")]))],
...                           {"Horse": (torch.ones(2),)}, [], returned=False)
>>> print(text)
non-finite losses (NaN or inf): adv:g; the step was not applied (parameters and ...)
the data and parameters are finite: the losses overflowed — try a lower learning rate, ...
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
from torch import nn

from .functor import _first_line, meta_run


def non_finite_message(losses: Sequence[tuple[Sequence[str], torch.Tensor]],
                       data: Mapping[object, Sequence[torch.Tensor]],
                       modules: Sequence[tuple[str, nn.Module]], returned: bool) -> str:
    """Why a step's losses are not finite: ``losses`` (names, vector of values) pairs,
    the batch's ``data`` (object → tensors) and the ``modules`` (what, module) whose
    parameters may be at fault; ``returned``: the losses were to be returned (rather
    than a step applied)."""
    bad = [n for names, vector in losses
           for n, v in zip(names, vector.detach().unbind(0), strict=True)
           if not torch.isfinite(v)]
    inputs = [str(ob) for ob, parts in data.items()
              if any(not torch.isfinite(x).all() for x in parts)]
    params = [what for what, m in modules
              if any(not torch.isfinite(p).all() for p in m.parameters())]
    done = ("they were not returned (check_finite=False returns them)" if returned else
            "the step was not applied (parameters and optimizer state are unchanged)")
    lines = [f"non-finite losses (NaN or inf): {', '.join(bad) or 'the total'}; {done}"]
    if inputs:
        lines.append(f"the batch holds NaN or inf values for: {', '.join(inputs)}")
    if params:
        lines.append(f"non-finite parameters already in: {', '.join(params)}")
    if not inputs and not params:
        lines.append("the data and parameters are finite: the losses overflowed — try "
                     "a lower learning rate, smaller loss weights, or a bounded critic")
    return "\n".join(lines)


def failing_networks(networks: Sequence[tuple[str, nn.Module, object]], n: int) -> list[str]:
    """Which of ``networks`` (what, module, its input space) fail on a batch of size
    ``n``, each run on meta tensors: one line per failure, with a hint where known."""
    found = []
    for what, m, space in networks:
        try:
            meta_run(m, space, space.meta(n))  # type: ignore[attr-defined]
        except Exception as e:  # noqa: BLE001 - every failure is reported
            hint = ""
            if "more than 1 value per channel" in str(e):
                hint = (" (batch normalisation needs more than one sample per batch in "
                        "training mode: use a batch size > 1 or drop_last=True)")
            found.append(f"{what} fails on a batch of size {n}: {_first_line(e)}{hint}")
    return found
