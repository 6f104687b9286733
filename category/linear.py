"""Exact linear models: which equations does an assignment of matrices satisfy?

A linear model of a schema gives each object a dimension and each generating arrow
``f : A -> B`` a ``dim B x dim A`` matrix acting on column vectors, so the path
``f.g`` (``f`` then ``g``) is the product ``G * F``. Everything is sympy, in exact
rational arithmetic: floats are read as the short rationals they denote (``0.5`` is
``1/2``), so an equation holds or fails exactly — the symbolic counterpart of a
learned functor, whose path losses are only ever small.

>>> import sympy
>>> from category import Schema, check_linear
>>> S = Schema.parse(open("examples/cyclegan.schema").read())
>>> F = sympy.Matrix([[0, 1], [1, 0]])
>>> result = check_linear(S, dims={"Horse": 2, "Zebra": 2}, maps={"f": F, "g": F})
>>> [(str(e), ok) for e, ok in result.items()]
[('f.g = id(Horse)', True), ('g.f = id(Zebra)', True)]
>>> check_linear(S, dims={"Horse": 2, "Zebra": 2}, maps={"f": F, "g": 2 * F})[S.equations[0]]
False
"""

from __future__ import annotations

from collections.abc import Mapping

from . import messages
from .core import Equation, Ob, Path
from .errors import SchemaError


def _exact(x):
    import sympy

    return sympy.nsimplify(x, rational=True) if isinstance(x, sympy.Float) else x


def _dims(schema, dims: Mapping) -> dict[Ob, int]:
    out: dict[Ob, int] = {}
    for key, n in dims.items():
        ob = schema.ob(key)
        if not isinstance(n, int) or isinstance(n, bool) or n < 0:
            raise SchemaError(messages.bad_dim(ob.name, n))
        out[ob] = n
    for ob in schema.objects():
        # A product object defaults to the direct sum of its factors: the product in Vect.
        if ob not in out and ob.is_product and all(x in out for x in ob.factors):
            out[ob] = sum(out[x] for x in ob.factors)
    missing = [o.name for o in schema.objects() if o not in out]
    if missing:
        raise SchemaError(messages.missing_linear("dimension", missing))
    return out


def check_linear(schema, dims: Mapping, maps: Mapping) -> dict[Equation, bool]:
    """For each equation of ``schema`` (in order), whether the matrices satisfy it exactly."""
    import sympy  # here, not at module level: `import category` stays light

    dim = _dims(schema, dims)
    mats = {}
    for key, m in maps.items():
        a = schema.generator(key)
        m = sympy.Matrix(m).applyfunc(_exact)
        if m.shape != (dim[a.cod], dim[a.dom]):
            raise SchemaError(messages.bad_matrix_shape(a.name, dim[a.cod], dim[a.dom],
                                                        m.shape))
        mats[a] = m
    missing = [a.name for a in schema.arrows if a not in mats]
    if missing:
        raise SchemaError(messages.missing_linear("matrix", missing))

    def value(p: Path):
        out = sympy.eye(dim[p.dom])
        for a in p.arrows:
            out = mats[a] * out
        return out

    return {e: (value(e.lhs) - value(e.rhs)).applyfunc(sympy.simplify).is_zero_matrix
            for e in schema.equations}
