"""What the equations of a schema ``D`` say about a functor on ``C``, pulled back along
``G: D -> C``.

:meth:`Functor.pullback <compiler.Functor.pullback>` (Δ_G) reuses the networks of
``P: C -> Para`` for ``D``. An equation ``p = q`` of ``D`` holds for Δ_G P exactly when
``G(p) = G(q)`` holds for ``P``: if that is an equality of ``C`` (decided by ``C``'s
rewriting system) and ``P`` satisfies ``C``'s equations, the residual is as small as
``P``'s own; if it is not, nothing made ``P`` satisfy it. :func:`pullback_residuals`
reports, for each equation of ``D``: its image, whether that image holds in ``C``, and
the residual on data (the mean absolute difference of the two sides' outputs).

A warm start copies instead of sharing: :func:`init_arrow` makes an arrow of a functor
``F`` start from the network of a path of ``P`` — ``P`` itself is never touched.

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

import copy
from collections.abc import Mapping
from dataclasses import dataclass

import torch
from torch import nn

from category import Equation, Path, SchemaMap, Undecided

from .composite import PathModule
from .errors import FunctorError
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


def same_architecture(a: nn.Module, b: nn.Module) -> bool:
    """Whether ``b``'s weights load into ``a`` as they are: the same class, and the same
    ``state_dict`` names, shapes and dtypes."""
    def layout(m: nn.Module) -> dict:
        return {k: (tuple(v.shape), v.dtype) for k, v in m.state_dict().items()}
    return type(a) is type(b) and layout(a) == layout(b)


def init_arrow(F: Functor, arrow: object, P: Functor, path: object) -> str:
    """Arrow ``arrow`` of ``F`` starts from ``P``'s network of ``path`` (a path of ``P``'s
    schema with at least one arrow: anything ``P.schema.path`` takes), copied — ``P`` is
    never changed. Returns how:

    - ``"weights"``: ``path`` is one arrow whose module has the architecture of ``F``'s
      (:func:`same_architecture`): its weights are loaded into ``F``'s own module, in place
      (a program compiled from ``F`` keeps working); or ``F``'s module can start as that
      one in place: it has a ``start_from(module) -> bool`` method that returned True
      (it took the weights and computes the same function, e.g. a warp-then-edit network
      starting as an editor with the identity warp);
    - ``"module"``: one arrow of another architecture: ``F``'s module is replaced by a deep
      copy of ``P``'s;
    - ``"path"``: a longer path: ``F``'s module is replaced by a deep copy of the path's
      network (a :class:`~compiler.composite.PathModule` of copies; an arrow met twice on
      the path is one copy met twice, as in ``P``).

    After ``"module"`` or ``"path"`` the arrow has another network than the one ``F`` was
    built with: compile ``F`` again. The spaces at both ends must be equal.

    >>> from category import Schema
    >>> from compiler import Euclid
    >>> C = Schema.parse("object A\\nf : A -> A\\ng : A -> A")
    >>> P = Functor(C, ob={"A": Euclid(2)}, ar={"f": nn.Linear(2, 2), "g": nn.Linear(2, 2)})
    >>> F = Functor(C, ob={"A": Euclid(2)}, ar={"f": nn.Linear(2, 2), "g": nn.Linear(2, 2)})
    >>> init_arrow(F, "f", P, "f"), torch.equal(F.modules["f"].weight, P.modules["f"].weight)
    ('weights', True)
    >>> init_arrow(F, "g", P, "f.g"), F.modules["g"].steps[0] is P.modules["f"]
    ('path', False)
    """
    a = F.schema.generator(arrow)
    p = P.schema.path(path)
    if p.is_identity:
        raise FunctorError([f"arrow {a} would start from {p}, which has no network: an "
                            f"arrow sent to an identity keeps its own"], "init_arrow")
    wrong = [f"{end} {x} of {F.schema.name} is {F.spaces[x]}, but {end} {y} of "
             f"{P.schema.name} is {P.spaces[y]}"
             for end, x, y in (("domain", a.dom, p.dom), ("codomain", a.cod, p.cod))
             if F.spaces[x] != P.spaces[y]]
    if wrong:
        raise FunctorError([f"arrow {a} : {a.dom} -> {a.cod} cannot start from {p} : "
                            f"{p.dom} -> {p.cod}: " + "; ".join(wrong)], "init_arrow")
    own = F.modules[a]
    if len(p) == 1:
        theirs = P.modules[p.arrows[0]]
        if same_architecture(own, theirs):
            with torch.no_grad():
                own.load_state_dict(theirs.state_dict())
            return "weights"
        start_from = getattr(own, "start_from", None)
        if callable(start_from):
            with torch.no_grad():
                if start_from(theirs):
                    return "weights"
        F.modules[a] = copy.deepcopy(theirs)
        return "module"
    F.modules[a] = copy.deepcopy(PathModule.along(p, [P.modules[b] for b in p.arrows]))
    return "path"
