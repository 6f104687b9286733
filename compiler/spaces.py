"""Tensor spaces that the functor assigns to objects: ``Euclid`` and their products.

Dimensions are ints or sympy symbols; symbols are bound to numbers at compile time.

>>> import sympy
>>> n = sympy.Symbol("n")
>>> print(Euclid(3, 32, 32) * Euclid(100))
R^(3×32×32) × R^100
>>> X = Euclid(3, n, n)
>>> print(X, X.free_symbols, X.bind({n: 8}).shapes)
R^(3×n×n) {n} ((3, 8, 8),)
>>> Euclid(2) * Euclid(3) == ProductSpace(Euclid(2), Euclid(3))
True
"""

from __future__ import annotations

from collections.abc import Mapping

import sympy
import torch

from .errors import SpaceError, UnboundSymbolError

Dim = int | sympy.Expr


def _dim(d: object) -> Dim:
    if isinstance(d, bool):
        raise SpaceError(f"a dimension must be an int or a sympy symbol, got {d!r}")
    if isinstance(d, int):
        if d < 1:
            raise SpaceError(f"a dimension must be a positive int, got {d}")
        return d
    if isinstance(d, sympy.Expr):
        if d.is_Integer:
            return _dim(int(d))
        return d
    if isinstance(d, str):
        return sympy.Symbol(d)
    raise SpaceError(f"a dimension must be an int or a sympy symbol, got {d!r}")


class Space:
    """A space of tensors; points of a product space are tuples of tensors."""

    factors: tuple[Euclid, ...]

    @property
    def is_product(self) -> bool:
        return isinstance(self, ProductSpace)

    @property
    def free_symbols(self) -> set[sympy.Symbol]:
        out: set[sympy.Symbol] = set()
        for e in self.factors:
            for d in e.dims:
                if isinstance(d, sympy.Expr):
                    out |= d.free_symbols
        return out

    @property
    def shapes(self) -> tuple[tuple[int, ...], ...]:
        """The shape of each factor (one sample, no batch dimension)."""
        return tuple(e.shape for e in self.factors)

    def bind(self, values: Mapping[object, int]) -> Space:  # pragma: no cover - abstract
        raise NotImplementedError

    def __mul__(self, other: Space) -> ProductSpace:
        if not isinstance(other, Space):
            return NotImplemented
        return ProductSpace(*self.factors, *other.factors)

    def meta(self, batch: int) -> torch.Tensor | tuple[torch.Tensor, ...]:
        """A point of this space on the meta device, with a leading batch dimension."""
        ts = tuple(torch.empty(batch, *s, device="meta") for s in self.shapes)
        return ts if self.is_product else ts[0]


def _subs(d: Dim, values: Mapping[object, int]) -> Dim:
    if isinstance(d, int):
        return d
    table = {(sympy.Symbol(k) if isinstance(k, str) else k): v for k, v in values.items()}
    return _dim(d.subs(table))


class Euclid(Space):
    """The Euclidean space R^(d1×d2×…) of tensors of shape ``dims``.

    >>> print(Euclid(2), Euclid(3, 32, 32), Euclid())
    R^2 R^(3×32×32) R
    """

    def __init__(self, *dims: Dim):
        self.dims: tuple[Dim, ...] = tuple(_dim(d) for d in dims)

    @property
    def factors(self) -> tuple[Euclid, ...]:
        return (self,)

    @property
    def shape(self) -> tuple[int, ...]:
        """The dims as ints; an unbound symbol is an :class:`UnboundSymbolError`."""
        if self.free_symbols:
            names = ", ".join(sorted(str(s) for s in self.free_symbols))
            raise UnboundSymbolError(f"{self} has unbound symbol(s) {names}; "
                                     f"bind them, e.g. compile_functor(..., bind={{{names}: 32}})")
        return tuple(int(d) for d in self.dims)

    def bind(self, values: Mapping[object, int]) -> Euclid:
        return Euclid(*(_subs(d, values) for d in self.dims))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Euclid) and self.dims == other.dims

    def __hash__(self) -> int:
        return hash(("Euclid", self.dims))

    def __str__(self) -> str:
        if not self.dims:
            return "R"
        if len(self.dims) == 1:
            return f"R^{self.dims[0]}"
        return "R^(" + "×".join(str(d) for d in self.dims) + ")"

    def __repr__(self) -> str:
        return f"Euclid({', '.join(str(d) for d in self.dims)})"


class ProductSpace(Space):
    """The product of two or more Euclidean spaces; its points are tuples of tensors."""

    def __init__(self, *factors: Euclid):
        flat: list[Euclid] = []
        for f in factors:
            if not isinstance(f, Space):
                raise SpaceError(f"a product factor must be a space, got {f!r}")
            flat.extend(f.factors)
        if len(flat) < 2:
            raise SpaceError("a product space needs at least two factors")
        self.factors = tuple(flat)

    def bind(self, values: Mapping[object, int]) -> ProductSpace:
        return ProductSpace(*(f.bind(values) for f in self.factors))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ProductSpace) and self.factors == other.factors

    def __hash__(self) -> int:
        return hash(("Product", self.factors))

    def __str__(self) -> str:
        return " × ".join(str(f) for f in self.factors)

    def __repr__(self) -> str:
        return " * ".join(repr(f) for f in self.factors)


def as_point(space: Space, value: object) -> tuple[torch.Tensor, ...]:
    """The factors of a point as a tuple (a plain tensor becomes a 1-tuple)."""
    if space.is_product:
        return tuple(value)  # type: ignore[arg-type]
    return (value,)  # type: ignore[return-value]


def from_factors(space: Space, factors: tuple) -> object:
    """Inverse of :func:`as_point`."""
    return tuple(factors) if space.is_product else factors[0]
