"""Maps between schemas: objects to objects, generating arrows to paths.

A :class:`SchemaMap` is a functor between the presented categories exactly when it
respects endpoints and sends every equation of the source to an equation that holds
in the target; :meth:`SchemaMap.check` lists every way it fails to be one. This is
what lets networks trained for one schema be reused in another.

>>> from category import Schema, SchemaMap
>>> S = Schema.parse("schema Involution\\nobject X\\ns : X -> X\\ns.s = id(X)")
>>> T = Schema.parse(open("examples/cyclegan.schema").read())
>>> F = SchemaMap(S, T, ob={"X": "Horse"}, ar={"s": "f.g"})
>>> F.check(), F(S.path("s.s"))
([], Path(f.g.f.g: Horse -> Horse))
>>> SchemaMap(S, T, ob={"X": "Horse"}, ar={"s": "f"}).check()
['arrow s : X -> X goes to f : Horse -> Zebra, but it must go Horse -> Horse']

As text (:mod:`category.map_text`), it reads back to an equal map:

>>> print(F)
map G : Involution -> CycleGAN
ob X -> Horse
ar s -> f.g
>>> SchemaMap.parse(F.to_text(), schemas=[S, T]) == F
True
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping

from . import messages
from .core import Arrow, Ob, Path, check_name
from .errors import SchemaError, SchemaTypeError, Undecided
from .schema import Schema


class SchemaMap:
    """``F: S -> T`` given on generators: ``ob`` sends objects (or names) of ``S`` to
    objects (or names) of ``T``, ``ar`` sends arrows (or names) of ``S`` to paths of ``T``
    (anything :meth:`Schema.path <category.Schema.path>` takes: a path, an arrow, an
    object for its identity, or path text).

    Keys and values are resolved as they come in, by ``S.ob``, ``S.generator``, ``T.ob``
    and ``T.path`` (unknown names, values of another schema); whether the result is a
    functor is :meth:`check`'s question. ``name`` is the map's name in its text;
    ``files`` the schema files its text named for source and target (``None``: a
    schema given by name), so that :meth:`to_text` writes them back.
    """

    def __init__(self, source: Schema, target: Schema, ob: Mapping | None = None,
                 ar: Mapping | None = None, *, name: str = "G"):
        for which, S in (("source", source), ("target", target)):
            if not isinstance(S, Schema):
                raise SchemaTypeError(messages.not_a(f"a Schema as the map's {which}", S))
        self.name = check_name("map", name)
        self.source = source
        self.target = target
        self.files: tuple[str | None, str | None] = (None, None)
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

    def check(self, *, equations: bool = True, **bounds) -> list[str]:
        """Every failure to be a functor; ``[]`` when it is one. ``equations=False``
        checks only that every object and arrow has an image with the right endpoints
        (a map of graphs: a functor of the free categories)."""
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
        for e in self.source.equations if equations else ():
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

    # ------------------------------------------------------------------ text
    @classmethod
    def parse(cls, text: str, schemas: Mapping[str, Schema] | Iterable[Schema] = (),
              base: str | os.PathLike[str] | None = None) -> SchemaMap:
        """A map from its text (:mod:`category.map_text`): ``map NAME : SOURCE -> TARGET``,
        then ``ob A -> X`` and ``ar f -> p`` lines. A side names a schema written above the
        map in the same text or given in ``schemas`` (by name), or a ``.schema`` file,
        relative to ``base`` (default: the current folder)."""
        from .map_text import parse_map

        return parse_map(text, cls, Schema, schemas, base)

    @classmethod
    def read(cls, path: str | os.PathLike[str],
             schemas: Mapping[str, Schema] | Iterable[Schema] = ()) -> SchemaMap:
        """The map in the file ``path`` (its schema files relative to its folder)."""
        try:
            with open(path, encoding="utf-8") as fh:
                text = fh.read()
        except OSError as err:
            raise SchemaError(f"cannot read map file {os.fspath(path)!r}: "
                              f"{err.strerror}") from None
        except UnicodeDecodeError:
            raise SchemaError(f"cannot read map file {os.fspath(path)!r}: not UTF-8 "
                              "text") from None
        return cls.parse(text, schemas, base=os.path.dirname(os.fspath(path)) or ".")

    def to_text(self, *, inline: bool = False, source: str | None = None,
                target: str | None = None) -> str:
        """The map as text: the header, then one ``ob`` line per object and one ``ar`` line
        per arrow, in the source's declaration order.

        Each side is written as ``source``/``target`` when given, else as the file the
        map was read from, else as the schema's name; ``inline=True`` writes both schemas
        above the map (one, if the map is an endomap), so the text stands alone.
        """
        sides = [given or (None if inline else file) or S.name
                 for given, file, S in ((source, self.files[0], self.source),
                                        (target, self.files[1], self.target))]
        lines: list[str] = []
        if inline:
            if self.source.name == self.target.name and self.source != self.target:
                raise SchemaError(f"cannot write both schemas in one text: both are named "
                                  f"{self.source.name!r}; rename one")
            lines.append(self.source.to_text())
            if self.target is not self.source and self.target != self.source:
                lines.append(self.target.to_text())
        lines.append(f"map {self.name} : {sides[0]} -> {sides[1]}")
        lines += [f"ob {o} -> {self.ob[o]}" for o in self.source.objects() if o in self.ob]
        lines += [f"ar {a} -> {self.ar[a]}" for a in self.source.arrows if a in self.ar]
        return "\n".join(lines) + "\n"

    def __str__(self) -> str:
        return self.to_text().rstrip("\n")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SchemaMap):
            return NotImplemented
        return ((self.name, self.ob, self.ar) == (other.name, other.ob, other.ar)
                and self.source == other.source and self.target == other.target)

    __hash__ = None  # type: ignore[assignment]  # mutable, like its schemas

    def __repr__(self) -> str:
        return f"SchemaMap({self.name} : {self.source.name} -> {self.target.name})"
