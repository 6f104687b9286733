"""Maps between schemas: objects to objects, generating arrows to paths.

A :class:`SchemaMap` is a functor between the presented categories exactly when it
respects endpoints and sends every equation of the source to an equation that holds
in the target; :meth:`SchemaMap.check` lists every way it fails to be one. This is
what lets networks trained for one schema be reused in another.

>>> from category import Schema, SchemaMap
>>> S = Schema.parse("object X\\ns : X -> X\\ns.s = id(X)")
>>> T = Schema.parse(open("examples/cyclegan.schema").read())
>>> F = SchemaMap(S, T, ob={"X": "Horse"}, ar={"s": "f.g"})
>>> F.check(), F(S.path("s.s"))
([], Path(f.g.f.g: Horse -> Horse))
>>> SchemaMap(S, T, ob={"X": "Horse"}, ar={"s": "f"}).check()
['arrow s : X -> X goes to f : Horse -> Zebra, but it must go Horse -> Horse']
"""

from __future__ import annotations

from collections.abc import Mapping

from . import messages
from .core import Arrow, Ob, Path
from .errors import SchemaError, Undecided


class SchemaMap:
    """``F: S -> T`` given on generators: ``ob`` sends objects (or names) of ``S`` to
    objects (or names) of ``T``, ``ar`` sends arrows (or names) of ``S`` to paths of ``T``
    (anything :meth:`Schema.path <category.Schema.path>` takes: a path, an arrow, an
    object for its identity, or path text).

    Keys and values are resolved as they come in, by ``S.ob``, ``S.generator``, ``T.ob``
    and ``T.path`` (unknown names, values of another schema); whether the result is a
    functor is :meth:`check`'s question.
    """

    def __init__(self, source, target, ob: Mapping | None = None, ar: Mapping | None = None):
        self.source = source
        self.target = target
        self.ob: dict[Ob, Ob] = {source.ob(k): target.ob(v) for k, v in (ob or {}).items()}
        self.ar: dict[Arrow, Path] = {source.generator(k): target.path(v)
                                      for k, v in (ar or {}).items()}

    def __call__(self, p) -> Path:
        """The image of a path of the source (arrows mapped, then composed)."""
        path = self.source.path(p)
        if path.is_identity:
            if path.dom not in self.ob:
                raise SchemaError(messages.unmapped("object", str(path.dom)))
            return self.ob[path.dom].id
        image = None
        for a in path.arrows:
            if a not in self.ar:
                raise SchemaError(messages.unmapped("arrow", a.name))
            image = self.ar[a] if image is None else image >> self.ar[a]
        return image

    def check(self, **bounds) -> list[str]:
        """Every failure to be a functor; ``[]`` when it is one."""
        failures = [messages.unmapped("object", o.name)
                    for o in self.source.objects() if o not in self.ob]
        failures += [messages.unmapped("arrow", a.name)
                     for a in self.source.arrows if a not in self.ar]
        bad: set[Arrow] = set()
        for a, p in self.ar.items():
            want = (self.ob.get(a.dom), self.ob.get(a.cod))
            if None not in want and (p.dom, p.cod) != want:
                bad.add(a)
                failures.append(messages.wrong_endpoints(
                    f"{a.name} : {a.dom} -> {a.cod}", f"{p} : {p.dom} -> {p.cod}",
                    str(want[0]), str(want[1])))
        for e in self.source.equations:
            used = set(e.lhs.arrows) | set(e.rhs.arrows)
            if not used <= self.ar.keys() or used & bad or e.dom not in self.ob:
                continue  # already reported through its arrows or objects
            lhs, rhs = self(e.lhs), self(e.rhs)
            try:
                holds = self.target.equal(lhs, rhs, **bounds)
            except Undecided as err:
                failures.append(messages.equation_undecided(str(e), str(lhs), str(rhs), str(err)))
                continue
            if not holds:
                failures.append(messages.equation_broken(str(e), str(lhs), str(rhs),
                                                         self.target.name))
        return failures

    def __repr__(self) -> str:
        return f"SchemaMap({self.source.name} -> {self.target.name})"
