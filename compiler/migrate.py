"""What the equations of a schema ``D`` say about a functor on ``C``, pulled back along
``G: D -> C``.

:meth:`Functor.pullback <compiler.Functor.pullback>` (Δ_G) reuses the networks of
``P: C -> Para`` for ``D``. An equation ``p = q`` of ``D`` holds for Δ_G P exactly when
``G(p) = G(q)`` holds for ``P``: if that is an equality of ``C`` (decided by ``C``'s
rewriting system) and ``P`` satisfies ``C``'s equations, the residual is as small as
``P``'s own; if it is not, nothing made ``P`` satisfy it. :func:`pullback_residuals`
reports, for each equation of ``D``: its image, whether that image holds in ``C``, and
the residual on data (the mean absolute difference of the two sides' outputs).

>>> import torch
>>> from torch import nn
>>> from category import Schema, SchemaMap
>>> from compiler import Euclid, Functor
>>> C = Schema.parse(open("examples/cyclegan.schema").read())
>>> G = SchemaMap.read("examples/involution_cyclegan.map")
>>> _ = torch.manual_seed(0)
>>> P = Functor(C, ob={"Horse": Euclid(2), "Zebra": Euclid(2)},
...             ar={"f": nn.Linear(2, 2), "g": nn.Linear(2, 2)})
>>> [r] = pullback_residuals(P, G, {"Horse": torch.randn(64, 2)})
>>> print(r.equation, "->", r.image, r.holds, r.residual > 0)
s.s = id(X) -> f.g.f.g = id(Horse) True True
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from category import Equation, Path, SchemaMap, Undecided

from .functor import Functor, _lookup


@dataclass(frozen=True)
class PulledEquation:
    """An equation of ``D``, its image in ``C`` and how far the pulled-back networks are
    from satisfying it on the data."""

    equation: Equation
    lhs: Path  # G(equation.lhs), a path of C
    rhs: Path
    holds: bool | None  # whether lhs = rhs in C (None: undecided within the bounds)
    residual: float     # mean |lhs(x) - rhs(x)| on the data of G(dom)

    @property
    def image(self) -> str:
        return f"{self.lhs} = {self.rhs}"


def pullback_residuals(P: Functor, G: SchemaMap, batch: Mapping[object, object],
                       **bounds) -> list[PulledEquation]:
    """For each equation of ``G``'s source whose domain's image ``batch`` feeds (``batch``:
    object of ``C`` or its name → a batch, as :meth:`Functor.residuals` takes): its image,
    whether the image holds in ``C`` and the residual of the pulled-back functor.

    ``G`` must map every object and arrow with the right endpoints; its equations need not
    hold (that is what this measures)."""
    pulled = P.pullback(G, check=False)
    out = []
    for e in G.source.equations:
        x = _lookup(P.schema, batch, G.ob[e.dom])
        if x is None:
            continue
        lhs, rhs = G(e.lhs), G(e.rhs)
        try:
            holds: bool | None = G.target.equal(lhs, rhs, **bounds)
        except Undecided:
            holds = None
        out.append(PulledEquation(e, lhs, rhs, holds, pulled.residual(e.lhs, e.rhs, x)))
    return out
