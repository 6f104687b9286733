"""Sample rows: fixed inputs through every path the plan evaluates, for the grids.

A grid per source object shows its inputs ``x`` and every path of the loss plan applied to
them — ``f(x)``, ``g(f(x))`` — labelled as ML users read function application, then the
object's reference rows (e.g. the ground truth).
"""

from __future__ import annotations

from collections.abc import Mapping

import torch

from compiler import Program

from ..sources.stacking import first_samples, to_device
from .networks import eval_mode

__all__ = ["application_label", "sample_inputs_for", "sample_rows"]


def sample_rows(program: Program, inputs: Mapping[str, object],
                references: Mapping[str, list] | None = None
                ) -> dict[str, list[tuple[str, torch.Tensor]]]:
    """Per source object, the labelled rows of a sample grid: ``x``, ``f(x)``, ``g(f(x))``…
    then the object's ``references`` rows (e.g. the ground truth). Rows may mix images and
    vectors (a GAN's latent ``x``, a product's code): the writers split them by kind."""
    F, plan = program.functor, program.plan
    out: dict[str, list[tuple[str, torch.Tensor]]] = {}
    with eval_mode(program), torch.no_grad():
        for ob, root in plan.roots.items():
            if ob.name not in inputs:
                continue
            values = {root: inputs[ob.name]}
            rows: list[tuple[str, torch.Tensor]] = []
            for node in plan.nodes:
                if node.source != ob:
                    continue
                if node.parent is not None:
                    arrow = node.arrow
                    values[node.id] = F(arrow)(values[node.parent])
                rows += _rows(application_label(node.path), values[node.id])
            for label, t in (references or {}).get(ob.name, []):
                rows += _rows(label, t)
            out[ob.name] = rows
    return out


def sample_inputs_for(program: Program, data: Mapping[object, object],
                      given: Mapping[object, object] | None, n: int) -> dict[str, object]:
    """The grids' inputs on the program's device: ``given``, or else the first ``n``
    samples of each source the plan starts from."""
    S = program.functor.schema
    if given is None:
        roots = {ob.name for ob in program.plan.roots}
        given = {k: first_samples(src, n) for k, src in data.items()
                 if S.ob(k).name in roots}
    return {S.ob(k).name: to_device(v, program.device) for k, v in given.items()}


def application_label(path) -> str:
    """``f.g`` applied to x, in the notation ML users read: ``g(f(x))``."""
    label = "x"
    for a in path.arrows:
        label = f"{a.name}({label})"
    return label


def _rows(label: str, value) -> list[tuple[str, torch.Tensor]]:
    if isinstance(value, (tuple, list)):
        return [(f"{label}[{k}]", v.float().cpu()) for k, v in enumerate(value)]
    return [(label, value.float().cpu())]
