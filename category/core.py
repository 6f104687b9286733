"""Core values of a presentation: objects, arrows, paths and equations.

All four are immutable, hashable and validated on construction, so a value that
exists is a value that makes sense: a :class:`Path` always composes, an
:class:`Equation` always relates two parallel paths.

>>> H, Z = Ob("Horse"), Ob("Zebra")
>>> f, g = Arrow("f", H, Z), Arrow("g", Z, H)
>>> f >> g
Path(f.g: Horse -> Horse)
>>> str(f >> g >> f), len(f >> g >> f)
('f.g.f', 3)
>>> str(H.id), len(H.id)
('id(Horse)', 0)
>>> H.id >> f == f.path == f >> Z.id      # identities are units
True
>>> (f >> g) >> f == f >> (g >> f)         # composition is associative
True
>>> f >> f
Traceback (most recent call last):
...
category.errors.CompositionError: f.f does not compose: cod(f)=Zebra but dom(f)=Horse
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from . import messages
from .errors import CompositionError, EquationError, InvalidNameError, SchemaTypeError

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def check_name(kind: str, name: object) -> str:
    """Return ``name`` if it is an identifier, else raise :class:`InvalidNameError`."""
    if not isinstance(name, str) or not _IDENT.match(name):
        raise InvalidNameError(messages.bad_name(kind, name))
    return name


class _Frozen:
    """Base for slot classes whose attributes cannot be reassigned."""

    __slots__ = ()

    def __setattr__(self, key: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable; cannot set {key!r}")

    def __delattr__(self, key: str) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable; cannot delete {key!r}")

    def __hash__(self) -> int:  # computed once, on construction
        return self._hash


def _setter(cls: type, slot: str):
    return cls.__dict__[slot].__set__


class Ob(_Frozen):
    """An object of a schema: a name, and for a product object its factors.

    >>> B, C = Ob("B"), Ob("C")
    >>> BxC = Ob("BxC", factors=(B, C))
    >>> BxC.is_product, [str(x) for x in BxC.factors]
    (True, ['B', 'C'])
    """

    __slots__ = ("name", "factors", "_hash")

    def __init__(self, name: str, factors: Iterable[Ob] = ()):
        factors = tuple(factors)
        check_name("object", name)
        for x in factors:
            if not isinstance(x, Ob):
                raise SchemaTypeError(messages.not_a("an Ob as product factor", x))
        if len(factors) == 1:
            raise InvalidNameError(messages.empty_product(name))
        _ob_name(self, name)
        _ob_factors(self, factors)
        _ob_hash(self, hash(("Ob", name, factors)))

    @property
    def is_product(self) -> bool:
        return bool(self.factors)

    @property
    def id(self) -> Path:
        """The identity path on this object (length 0)."""
        return Path._unchecked(self, self, ())

    def __eq__(self, other: object) -> bool:
        return self is other or (isinstance(other, Ob) and self._hash == other._hash
                                 and (self.name, self.factors) == (other.name, other.factors))

    __hash__ = _Frozen.__hash__  # defining __eq__ would otherwise unset it

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        if self.factors:
            return f"Ob({self.name!r} = {' * '.join(x.name for x in self.factors)})"
        return f"Ob({self.name!r})"

    def __reduce__(self):
        return (Ob, (self.name, self.factors))


_ob_name, _ob_factors, _ob_hash = (_setter(Ob, s) for s in Ob.__slots__)


class Arrow(_Frozen):
    """A generating arrow ``name : dom -> cod``.

    An arrow composes with ``>>`` like its one-arrow path, so ``f >> g`` is a
    :class:`Path`.
    """

    __slots__ = ("name", "dom", "cod", "_hash")

    def __init__(self, name: str, dom: Ob, cod: Ob):
        check_name("arrow", name)
        for end in (dom, cod):
            if not isinstance(end, Ob):
                raise SchemaTypeError(messages.not_a(f"an Ob as endpoint of arrow {name!r}", end))
        _ar_name(self, name)
        _ar_dom(self, dom)
        _ar_cod(self, cod)
        _ar_hash(self, hash(("Arrow", name, dom, cod)))

    @property
    def path(self) -> Path:
        """This arrow as a path of length 1."""
        return Path._unchecked(self.dom, self.cod, (self,))

    def then(self, other: Arrow | Path) -> Path:
        """Diagrammatic composition: this arrow, then ``other`` (same as ``>>``)."""
        return self.path.then(other)

    __rshift__ = then

    def __rrshift__(self, other: Path) -> Path:
        return as_path(other) >> self.path

    def __eq__(self, other: object) -> bool:
        return self is other or (isinstance(other, Arrow) and self._hash == other._hash
                                 and (self.name, self.dom, self.cod)
                                 == (other.name, other.dom, other.cod))

    __hash__ = _Frozen.__hash__

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"Arrow({self.name}: {self.dom} -> {self.cod})"

    def __reduce__(self):
        return (Arrow, (self.name, self.dom, self.cod))


_ar_name, _ar_dom, _ar_cod, _ar_hash = (_setter(Arrow, s) for s in Arrow.__slots__)


class Path(_Frozen):
    """A composable word of arrows from ``dom`` to ``cod``; identities have no arrows.

    ``p >> q`` is diagrammatic composition (``p`` then ``q``), written ``p.q``
    in the text format.

    >>> A, B = Ob("A"), Ob("B")
    >>> f = Arrow("f", A, B)
    >>> Path(A, B, (f,)) == f.path
    True
    >>> Path(A, A, (f,))
    Traceback (most recent call last):
    ...
    category.errors.CompositionError: path f has cod B but A was declared as its cod
    """

    __slots__ = ("dom", "cod", "arrows", "_hash")

    def __init__(self, dom: Ob, cod: Ob, arrows: Iterable[Arrow] = ()):
        arrows = tuple(arrows)
        for end in (dom, cod):
            if not isinstance(end, Ob):
                raise SchemaTypeError(messages.not_a("an Ob as path endpoint", end))
        for a in arrows:
            if not isinstance(a, Arrow):
                raise SchemaTypeError(messages.not_a("an Arrow in a path", a))
        for left, right in zip(arrows, arrows[1:], strict=False):
            if left.cod != right.dom:
                raise CompositionError(
                    messages.not_composable(left.name, right.name, str(left.cod), str(right.dom))
                )
        shown = ".".join(a.name for a in arrows) or f"id({dom})"
        real_dom = arrows[0].dom if arrows else dom
        real_cod = arrows[-1].cod if arrows else dom
        if real_dom != dom:
            raise CompositionError(messages.path_endpoint(shown, "dom", str(dom), str(real_dom)))
        if real_cod != cod:
            raise CompositionError(messages.path_endpoint(shown, "cod", str(cod), str(real_cod)))
        _pa_dom(self, dom)
        _pa_cod(self, cod)
        _pa_arrows(self, arrows)

    @classmethod
    def of(cls, *arrows: Arrow) -> Path:
        """The path through the given arrows (at least one), checked for composability."""
        if not arrows:
            raise CompositionError("Path.of needs at least one arrow; use A.id for an identity")
        return cls(arrows[0].dom, arrows[-1].cod, arrows)

    @staticmethod
    def _unchecked(dom: Ob, cod: Ob, arrows: tuple[Arrow, ...]) -> Path:
        # Callers have already proved composability (e.g. extending a valid path
        # by an arrow out of its codomain): skip the O(n) re-validation.
        p = _new(Path)
        _pa_dom(p, dom)
        _pa_cod(p, cod)
        _pa_arrows(p, arrows)
        return p

    def then(self, other: Path | Arrow) -> Path:
        """Diagrammatic composition: ``self`` then ``other`` (same as ``>>``)."""
        other = as_path(other)
        if self.cod != other.dom:
            left = str(self) if self.arrows else f"id({self.cod})"
            right = str(other) if other.arrows else f"id({other.dom})"
            raise CompositionError(
                messages.not_composable(left, right, str(self.cod), str(other.dom))
            )
        return Path._unchecked(self.dom, other.cod, self.arrows + other.arrows)

    __rshift__ = then

    def __rrshift__(self, other: Arrow) -> Path:
        return as_path(other).then(self)

    def __len__(self) -> int:
        return len(self.arrows)

    def __iter__(self):
        return iter(self.arrows)

    @property
    def is_identity(self) -> bool:
        return not self.arrows

    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        return (
            isinstance(other, Path)
            and self.arrows == other.arrows
            and self.dom == other.dom
            and self.cod == other.cod
        )

    def __hash__(self) -> int:
        try:
            return self._hash
        except AttributeError:  # computed on first use: enumeration never pays for it
            h = hash(self.arrows) if self.arrows else hash(("id", self.dom))
            _pa_hash(self, h)
            return h

    def __str__(self) -> str:
        if not self.arrows:
            return f"id({self.dom})"
        return ".".join(a.name for a in self.arrows)

    def __repr__(self) -> str:
        return f"Path({self}: {self.dom} -> {self.cod})"

    def __reduce__(self):
        return (Path, (self.dom, self.cod, self.arrows))


_new = object.__new__
_pa_dom, _pa_cod, _pa_arrows, _pa_hash = (_setter(Path, s) for s in Path.__slots__)

PathLike = Path | Arrow


def as_path(value: PathLike) -> Path:
    """A :class:`Path` from a path or an arrow; anything else is a ``TypeError``."""
    if isinstance(value, Path):
        return value
    if isinstance(value, Arrow):
        return value.path
    raise SchemaTypeError(messages.not_a("a Path or an Arrow", value))


class Equation(_Frozen):
    """A path equation ``lhs = rhs`` between two parallel paths.

    >>> A, B = Ob("A"), Ob("B")
    >>> f, g = Arrow("f", A, B), Arrow("g", B, A)
    >>> print(Equation(f >> g, A.id))
    f.g = id(A)
    >>> Equation(f, A.id)
    Traceback (most recent call last):
    ...
    category.errors.EquationError: equation f = id(A): ... but cod(f)=B and cod(id(A))=A
    """

    __slots__ = ("lhs", "rhs", "_hash")

    def __init__(self, lhs: PathLike, rhs: PathLike):
        lhs, rhs = as_path(lhs), as_path(rhs)
        for which in ("dom", "cod"):
            left, right = getattr(lhs, which), getattr(rhs, which)
            if left != right:
                raise EquationError(
                    messages.equation_endpoints(str(lhs), str(rhs), which, str(left), str(right))
                )
        _eq_lhs(self, lhs)
        _eq_rhs(self, rhs)
        _eq_hash(self, hash(("Equation", lhs, rhs)))

    @property
    def dom(self) -> Ob:
        return self.lhs.dom

    @property
    def cod(self) -> Ob:
        return self.lhs.cod

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Equation) and (self.lhs, self.rhs) == (other.lhs, other.rhs)

    __hash__ = _Frozen.__hash__

    def __str__(self) -> str:
        return f"{self.lhs} = {self.rhs}"

    def __repr__(self) -> str:
        return f"Equation({self})"

    def __reduce__(self):
        return (Equation, (self.lhs, self.rhs))


_eq_lhs, _eq_rhs, _eq_hash = (_setter(Equation, s) for s in Equation.__slots__)
