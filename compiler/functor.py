"""A functor from a schema to Para: a space per object, a network per generating arrow.

>>> import torch
>>> from category import Schema
>>> from compiler import Euclid
>>> S = Schema.parse("object A, B\\nf : A -> B\\ng : B -> A\\nf.g = id(A)")
>>> F = Functor(S, ob={"A": Euclid(2), "B": Euclid(3)},
...             ar={"f": torch.nn.Linear(2, 3), "g": torch.nn.Linear(3, 2)})
>>> print(F(S.path("f.g")))
f.g: R^2 -> R^2
>>> F.check() is F
True
>>> Functor(S, ob={"A": Euclid(2)}, ar={})
Traceback (most recent call last):
...
compiler.errors.FunctorError: 3 problems with the functor assignment:
  - object B has no space (ob={B: Euclid(...)})
  - arrow f : A -> B has no network (ar={f: module})
  - arrow g : B -> A has no network (ar={g: module})
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Mapping

import torch
from torch import nn

from category import Arrow, Ob, Path, Schema, SchemaError, SchemaMap, as_path

from .batches import point_problems
from .composite import PathModule
from .errors import BatchError, FunctorError, UnknownKeyError
from .para import Para
from .spaces import ProductSpace, Space, as_point


def lookup(resolve: Callable[[object], Ob | Arrow], key: object, what: str,
           problems: list[str]) -> Ob | Arrow | None:
    """``resolve(key)`` — a schema's resolver, ``S.ob`` or ``S.generator``: the object or
    arrow ``key`` names or is —, or None with the schema's reason noted in ``problems``
    as ``what: reason`` (so that every bad key of a mapping is listed)."""
    try:
        return resolve(key)
    except SchemaError as e:
        problems.append(f"{what}: {e}")
        return None


def meta_run(module: nn.Module, dom: Space, point: object) -> object:
    """Run ``module`` on meta tensors (its parameters and buffers moved to meta)."""
    state = {n: t.to("meta") for n, t in module.named_parameters()}
    state.update({n: t.to("meta") for n, t in module.named_buffers()})
    args = tuple(point) if dom.is_product else (point,)  # type: ignore[arg-type]
    return torch.func.functional_call(module, state, args, strict=False)


def describe_output(out: object) -> str:
    """A short text for a module output: its per-sample shape(s)."""
    if isinstance(out, torch.Tensor):
        return "R^" + ("(" + "×".join(map(str, out.shape[1:])) + ")"
                       if out.dim() != 2 else str(out.shape[1]))
    if isinstance(out, (tuple, list)):
        return " × ".join(describe_output(o) for o in out)
    return type(out).__name__


def shape_problem(out: object, space: Space, batch: int) -> str | None:
    """None if ``out`` is a batch of points of ``space``, else what is wrong."""
    if space.is_product:
        ok = isinstance(out, (tuple, list)) and len(out) == len(space.factors)
    else:
        ok = isinstance(out, torch.Tensor)
    if ok:
        ok = all(isinstance(o, torch.Tensor) and tuple(o.shape) == (batch, *s)
                 for o, s in zip(as_point(space, out), space.shapes, strict=False))
    return None if ok else f"expected {space}, got {describe_output(out)}"


class _Table(dict):
    """A dict keyed by objects or arrows that also takes their names (``F.modules["f"]``),
    and says what is known when a key is not there."""

    def __init__(self, data: dict, schema: Schema, kind: type):
        super().__init__(data)
        self._schema, self._kind = schema, kind

    def _resolve(self, key: object) -> object:
        """The object or arrow ``key`` names or is; ``key`` itself if none."""
        if dict.__contains__(self, key):
            return key
        try:
            return (self._schema.ob if self._kind is Ob else self._schema.generator)(key)
        except SchemaError:
            return key

    def __missing__(self, key: object):
        k = self._resolve(key)
        if k is not key and dict.__contains__(self, k):
            return dict.__getitem__(self, k)
        what = "object" if self._kind is Ob else "arrow"
        known = ", ".join(map(str, self)) or "none"
        raise UnknownKeyError(f"{key!r} is not an {what} of schema {self._schema.name} "
                              f"with an assignment (known: {known})")

    def __contains__(self, key: object) -> bool:
        return dict.__contains__(self, self._resolve(key))

    def get(self, key: object, default=None):
        return dict.get(self, self._resolve(key), default)


def _mapping(value: object, what: str, example: str) -> Mapping:
    if isinstance(value, Mapping):
        return value
    raise FunctorError([f"{what} must be a mapping ({example}), got {type(value).__name__}"
                        + (": pair each value with its key in a dict"
                           if isinstance(value, (list, tuple)) else "")], what)


class Functor:
    """An assignment of a :class:`Space` to each object and a module to each arrow.

    Product objects map to the product of their factors' spaces unless given.
    Every missing or unknown assignment is reported in one :class:`FunctorError`.
    """

    def __init__(self, S: Schema, ob: Mapping[object, Space], ar: Mapping[object, nn.Module]):
        if not isinstance(S, Schema):
            raise FunctorError([f"a Functor's first argument is a Schema, got "
                                f"{type(S).__name__}"])
        ob = _mapping(ob, "ob", "object or its name → space, e.g. {'Horse': Euclid(3, 32, 32)}")
        ar = _mapping(ar, "ar", "arrow or its name → torch.nn.Module, e.g. {'f': net}")
        problems: list[str] = []
        spaces: dict[Ob, Space] = {}
        wrong: set = set()  # given, but not a space / module: reported once, not as missing
        for k, v in ob.items():
            o = lookup(S.ob, k, "ob", problems)
            if o is None:
                continue
            if not isinstance(v, Space):
                problems.append(f"object {o} must map to a space (Euclid), got {type(v).__name__}")
                wrong.add(o)
                continue
            spaces[o] = v
        modules: dict[Arrow, nn.Module] = {}
        for k, v in ar.items():
            a = lookup(S.generator, k, "ar", problems)
            if a is None:
                continue
            if not isinstance(v, nn.Module):
                problems.append(f"arrow {a} must map to a torch.nn.Module, got {type(v).__name__}")
                wrong.add(a)
                continue
            modules[a] = v
        for o in S.objects():
            if o.is_product:
                missing = [x for x in o.factors if x not in spaces and not x.is_product]
                if missing or any(x not in spaces for x in o.factors):
                    continue  # reported on the factors
                auto = ProductSpace(*(spaces[x] for x in o.factors))
                if o in spaces and spaces[o] != auto:
                    problems.append(f"product object {o} must map to {auto}, got {spaces[o]}")
                spaces[o] = auto
            elif o not in spaces and o not in wrong:
                problems.append(f"object {o} has no space (ob={{{o}: Euclid(...)}})")
        for a in S.arrows:
            if a not in modules and a not in wrong:
                problems.append(f"arrow {a} : {a.dom} -> {a.cod} has no network "
                                f"(ar={{{a}: module}})")
        if problems:
            raise FunctorError(problems)
        self.schema = S
        self.spaces = _Table(spaces, S, Ob)
        self.modules = _Table(modules, S, Arrow)

    # ------------------------------------------------------------------ reading
    def __call__(self, x: object) -> Space | Para:
        """``F(object)`` is its space; ``F(arrow or path)`` is the composite Para morphism."""
        S = self.schema
        if isinstance(x, str):
            x = S[x] if x in S else S.path(x)
        if isinstance(x, Ob):
            if x not in S.objects():
                raise UnknownKeyError(f"{x} is not an object of schema {S.name} (objects: "
                                      f"{', '.join(map(str, S.objects()))})")
            return self.spaces[x]
        try:
            path = as_path(x)  # type: ignore[arg-type]
        except TypeError:
            raise FunctorError([f"F(x) takes an object, arrow or path of schema {S.name} "
                                f"(or its text), got {type(x).__name__}"], "F(x)") from None
        foreign = [a for a in path.arrows if dict.get(self.modules, a) is None]
        if foreign or path.dom not in S.objects():
            raise UnknownKeyError(
                f"{path} is not a path of schema {S.name}: "
                + (f"arrow {foreign[0]} : {foreign[0].dom} -> {foreign[0].cod} is not one of "
                   f"its arrows ({', '.join(map(str, S.arrows))})" if foreign else
                   f"{path.dom} is not one of its objects")
                + " (a path of another schema? use that schema's functor)")
        out = Para.identity(self.spaces[path.dom], name=f"id({path.dom})")
        for a in path.arrows:
            out = out >> Para.of(self.modules[a], self.spaces[a.dom], self.spaces[a.cod], a.name)
        return out

    def bind(self, values: Mapping[object, int]) -> Functor:
        """The same functor with symbolic dimensions replaced by numbers; every unknown
        symbol and bad value is reported in one :class:`FunctorError`."""
        symbols = {str(x) for s in self.spaces.values() for x in s.free_symbols}
        problems = [f"bind: {k!r} is not a symbol of the functor's spaces (symbols: "
                    f"{', '.join(sorted(symbols)) or 'none'})"
                    for k in values if str(k) not in symbols]
        problems += [f"bind: {k} must be a positive int, got {v!r}" for k, v in values.items()
                     if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v <= 0]
        if problems:
            raise FunctorError(problems, "bind")
        F = object.__new__(Functor)
        F.schema, F.modules = self.schema, self.modules
        F.spaces = _Table({o: s.bind(values) for o, s in self.spaces.items()}, self.schema, Ob)
        return F

    def problems(self, batch: int = 2) -> list[str]:
        """Every problem of the assignment, found by running each arrow on meta tensors."""
        out: list[str] = []
        for o, s in self.spaces.items():
            if s.free_symbols and not o.is_product:
                names = ", ".join(sorted(map(str, s.free_symbols)))
                out.append(f"object {o}: {s} has unbound symbol(s) {names} (pass bind={{...}})")
        for a, m in self.modules.items():
            dom, cod = self.spaces[a.dom], self.spaces[a.cod]
            if dom.free_symbols or cod.free_symbols:
                continue
            try:
                got = meta_run(m, dom, dom.meta(batch))
            except Exception as e:  # noqa: BLE001 - every failure is reported
                out.append(f"arrow {a} : {a.dom} -> {a.cod}: expected {dom} -> {cod}, "
                           f"but the network fails on input {dom}: {_first_line(e)}")
                continue
            bad = shape_problem(got, cod, batch)
            if bad:
                out.append(f"arrow {a} : {a.dom} -> {a.cod}: {bad}")
        return out

    def check(self) -> Functor:
        """Dry-run every arrow on meta tensors; raise one :class:`FunctorError` listing all."""
        problems = self.problems()
        if problems:
            raise FunctorError(problems)
        return self

    @torch.no_grad()
    def residuals(self, batch: Mapping[object, object]) -> dict[str, float]:
        """Each equation's violation on data: mean absolute difference of both sides
        (:meth:`residual`), for every equation whose domain ``batch`` feeds."""
        out: dict[str, float] = {}
        for eq in self.schema.equations:
            x = _lookup(self.schema, batch, eq.dom)
            if x is not None:
                out[str(eq)] = self.residual(eq.lhs, eq.rhs, x)
        return out

    @torch.no_grad()
    def residual(self, p: object, q: object, x: object) -> float:
        """How far the parallel paths ``p`` and ``q`` (paths, arrows, objects for their
        identities, or text) are
        from equal on the batch ``x`` of their domain: the mean absolute difference of
        their outputs (summed over the factors of a product codomain); 0 where the
        networks agree on ``x``."""
        S = self.schema
        p, q = S.path(p), S.path(q)  # text, arrows and objects (identities) too
        if (p.dom, p.cod) != (q.dom, q.cod):
            raise FunctorError([f"{p} : {p.dom} -> {p.cod} and {q} : {q.dom} -> {q.cod} are "
                                f"not parallel: a residual compares two paths with the same "
                                f"endpoints"], "residual")
        problems = point_problems(self.spaces[p.dom], x)
        if problems:
            raise BatchError("bad batch:\n" + "\n".join(f"  - {p.dom}: {e}" for e in problems))
        lhs, rhs = self(p)(x), self(q)(x)  # type: ignore[operator]
        space = self.spaces[p.cod]
        diffs = [(a - b).abs().mean() for a, b in zip(as_point(space, lhs),
                                                       as_point(space, rhs), strict=False)]
        return float(sum(diffs))

    # ------------------------------------------------------------------ migration
    def pullback(self, G: SchemaMap, *, check: bool = True) -> Functor:
        """Δ_G of this functor: the functor ``D -> Para`` of ``G: D -> C`` (``C`` this
        functor's schema) sending each object ``d`` to the space of ``G(d)`` and each
        arrow ``a`` to the network of the path ``G(a)``.

        The networks are this functor's own modules, not copies: an arrow sent to one
        arrow gets that arrow's module, an arrow sent to a longer path a
        :class:`~compiler.composite.PathModule` holding the path's modules (one per
        distinct path, shared by the arrows sent to it), an arrow sent to an identity a
        module without parameters. So a training step on a program compiled from the
        pullback changes this functor's networks, and the pullback satisfies an equation
        of ``D`` exactly when this functor satisfies its image in ``C``.

        ``G`` is checked first (:meth:`SchemaMap.check <category.SchemaMap.check>`), every
        failure listed in one :class:`FunctorError`; ``check=False`` checks only what the
        pullback cannot be built without (every object and arrow mapped, endpoints
        right) and leaves the equations to :func:`compiler.migrate.pullback_residuals`.
        """
        if not isinstance(G, SchemaMap):
            raise FunctorError([f"pullback needs a category.SchemaMap into schema "
                                f"{self.schema.name}, got {type(G).__name__}"], "pullback")
        if G.target != self.schema:
            raise FunctorError([f"{G!r} lands in schema {G.target.name}, but this functor is "
                                f"on schema {self.schema.name}: pull back along a map into "
                                f"{self.schema.name}"], "pullback")
        failures = G.check(equations=check)
        if failures:
            raise FunctorError(failures, f"pulling back along {G!r}, which is not a functor"
                               if check else f"pulling back along {G!r}")
        D = G.source
        ob = {d: self.spaces[G.ob[d]] for d in D.objects()}
        composites: dict[Path, nn.Module] = {}
        ar: dict[Arrow, nn.Module] = {}
        for a in D.arrows:
            path = G.ar[a]
            if len(path) == 1:
                ar[a] = self.modules[path.arrows[0]]
                continue
            if path not in composites:
                composites[path] = PathModule.along(path, [self.modules[b] for b in path.arrows])
            ar[a] = composites[path]
        return Functor(D, ob=ob, ar=ar)

    def __repr__(self) -> str:
        obs = ", ".join(f"{o} ↦ {s}" for o, s in self.spaces.items())
        return f"Functor({self.schema.name}: {obs})"


def _lookup(S: Schema, batch: Mapping[object, object], ob: Ob) -> object | None:
    if ob in batch:
        return batch[ob]
    if ob.name in batch:
        return batch[ob.name]
    if ob.is_product:
        parts = [_lookup(S, batch, x) for x in ob.factors]
        if all(p is not None for p in parts):
            return tuple(parts)
    return None


def _first_line(e: Exception) -> str:
    text = str(e).strip().splitlines()
    return f"{type(e).__name__}: {text[0] if text else ''}"


