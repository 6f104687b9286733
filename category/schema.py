"""A finitely presented category: objects, generating arrows, path equations.

>>> S = Schema("CycleGAN")
>>> H, Z = S.objects("Horse", "Zebra")
>>> f = S.arrow("f", H, Z)
>>> g = S.arrow("g", Z, H)
>>> _ = S.equate(f >> g, H.id)
>>> _ = S.equate(g >> f, Z.id)
>>> print(S)
schema CycleGAN
object Horse, Zebra
f : Horse -> Zebra
g : Zebra -> Horse
f.g = id(Horse)
g.f = id(Zebra)
>>> Schema.parse(str(S)) == S
True
>>> S["f"] is f, S.path("g.f") == g >> f
(True, True)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from . import messages
from .completion import DEFAULT_MAX_RULES, DEFAULT_MAX_SECONDS
from .core import Arrow, Equation, Ob, Path, PathLike, as_path, check_name
from .errors import DuplicateNameError, SchemaError, SchemaTypeError, UnknownNameError

if TYPE_CHECKING:
    import networkx

    from .growth import Entropy, Growth
    from .proof import Proof
    from .reduction import Reachability
    from .rewriting import RewriteSystem

ObLike = Ob | str


class Schema:
    """A presentation of a category, built step by step and validated at each step.

    Objects and arrows share one namespace. Every builder method validates its
    input completely before changing anything, so a failed call leaves the schema
    exactly as it was.
    """

    def __init__(self, name: str = "Schema"):
        self.name = check_name("schema", name)
        self._objects: dict[str, Ob] = {}
        self._arrows: dict[str, Arrow] = {}
        self._equations: list[Equation] = []
        self._out: dict[Ob, list[Arrow]] = {}
        self._version = 0
        self._cache: dict[str, tuple[int, object]] = {}

    # ------------------------------------------------------------------ building
    def objects(self, *names: str) -> tuple[Ob, ...]:
        """Declare objects and return them; with no argument, list all objects.

        >>> S = Schema()
        >>> A, B = S.objects("A", "B")
        >>> S.objects()
        (Ob('A'), Ob('B'))
        """
        if not names:
            return tuple(self._objects.values())
        obs = [Ob(check_name("object", n)) for n in names]
        self.check_fresh(*[o.name for o in obs])
        for o in obs:
            self._add_object(o)
        return tuple(obs)

    def object(self, name: str) -> Ob:
        """Declare one object and return it."""
        return self.objects(name)[0]

    def check_fresh(self, *names: str) -> None:
        """Raise :class:`~category.DuplicateNameError` unless every name is unused here
        and distinct: what the declaring methods check first, for a caller that
        declares several things at once and must add none if one name is taken.

        >>> S = Schema.parse("object A\\nf : A -> A")
        >>> S.check_fresh("g", "h")
        >>> S.check_fresh("g", "f")
        Traceback (most recent call last):
        ...
        category.errors.DuplicateNameError: name 'f' is already used by arrow f : A -> A ...
        """
        seen: set[str] = set()
        for n in names:
            if n in self._objects:
                raise DuplicateNameError(messages.duplicate_name(n, f"object {n}", self.name))
            if n in self._arrows:
                a = self._arrows[n]
                raise DuplicateNameError(
                    messages.duplicate_name(n, f"arrow {n} : {a.dom} -> {a.cod}", self.name))
            if n in seen:
                raise DuplicateNameError(
                    messages.duplicate_name(n, "an earlier name in the same call", self.name))
            seen.add(n)

    def product(self, name: str, *factors: ObLike) -> Ob:
        """Declare the product object ``name = factors[0] * factors[1] * …``."""
        obs = tuple(self.ob(x) for x in factors)
        if len(obs) < 2:
            raise SchemaError(messages.empty_product(name))
        ob = Ob(name, obs)
        self.check_fresh(name)
        self._add_object(ob)
        return ob

    def arrow(self, name: str, dom: ObLike, cod: ObLike) -> Arrow:
        """Declare the generating arrow ``name : dom -> cod`` and return it."""
        arrow = Arrow(check_name("arrow", name), self.ob(dom), self.ob(cod))
        self.check_fresh(name)
        self._arrows[name] = arrow
        self._out[arrow.dom].append(arrow)
        self._changed()
        return arrow

    def equate(self, lhs: PathLike | Ob | str, rhs: PathLike | Ob | str) -> Equation:
        """Add the path equation ``lhs = rhs``: each side anything :meth:`path` takes
        (a path, an arrow, an object for its identity, or text like ``"f.g"``)."""
        eq = Equation(self.path(lhs), self.path(rhs))
        self._equations.append(eq)
        self._changed()
        return eq

    # ------------------------------------------------------------------ resolving
    # "An object, an arrow or a path of this schema, or its name": the one place where
    # such a value is looked up and checked. Each resolver returns this schema's own
    # value, or raises UnknownNameError (an unknown name, with a did-you-mean), a
    # SchemaError (a value of another schema under a known name) or SchemaTypeError.
    def ob(self, x: ObLike) -> Ob:
        """This schema's object ``x``: an :class:`Ob` of this schema, or its name.

        Looks up, never declares (that is :meth:`object`).

        >>> S = Schema.parse("object Horse, Zebra\\nf : Horse -> Zebra")
        >>> S.ob("Horse"), S.ob(S.ob("Zebra"))
        (Ob('Horse'), Ob('Zebra'))
        >>> S.ob("Hrose")
        Traceback (most recent call last):
        ...
        category.errors.UnknownNameError: unknown object 'Hrose' ... (did you mean 'Horse'?)
        >>> S.ob("f")
        Traceback (most recent call last):
        ...
        category.errors.UnknownNameError: expected an object name ... 'f', which names an arrow; ...
        >>> S.ob(3)
        Traceback (most recent call last):
        ...
        category.errors.SchemaTypeError: expected an object (Ob or its name), got int 3
        """
        return self._lookup("object", x, Ob, self._objects)

    def generator(self, x: Arrow | str) -> Arrow:
        """This schema's generating arrow ``x``: an :class:`Arrow` of this schema, or its name.

        Looks up, never declares (that is :meth:`arrow`); ``S[name]`` looks up objects
        and arrows alike, this only arrows.

        >>> S = Schema.parse("object Horse, Zebra\\nf : Horse -> Zebra")
        >>> S.generator("f"), S.generator(S["f"]) is S["f"]
        (Arrow(f: Horse -> Zebra), True)
        >>> S.generator("Horse")
        Traceback (most recent call last):
        ...
        category.errors.UnknownNameError: expected an arrow name ... which names an object; ...
        """
        return self._lookup("arrow", x, Arrow, self._arrows)

    def path(self, x: PathLike | Ob | str) -> Path:
        """This schema's path ``x``: a :class:`Path` or an :class:`Arrow` of this schema,
        an :class:`Ob` (its identity), or text such as ``"f.g"`` or ``"id(Horse)"``.

        Text is parsed against this schema's names (errors give the column); values
        are checked to be this schema's own.

        >>> S = Schema.parse("object Horse, Zebra\\nf : Horse -> Zebra\\ng : Zebra -> Horse")
        >>> S.path("f.g"), S.path(S["f"]), S.path(S["Horse"])
        (Path(f.g: Horse -> Horse), Path(f: Horse -> Zebra), Path(id(Horse): Horse -> Horse))
        >>> S.path("f.k")
        Traceback (most recent call last):
        ...
        category.errors.UnknownNameParseError: line 1, col 3: unknown arrow 'k'; known: f, g
        """
        if isinstance(x, str):
            from .parser import parse_path

            return parse_path(self, x)
        if isinstance(x, Ob):
            return self.ob(x).id
        if isinstance(x, (Path, Arrow)):
            path = as_path(x)
            for a in path.arrows:
                self._own_arrow(a)
            self.ob(path.dom)
            return path
        raise SchemaTypeError(messages.not_a_path(x))

    # ------------------------------------------------------------------ reading
    @property
    def arrows(self) -> tuple[Arrow, ...]:
        """The generating arrows, in declaration order."""
        return tuple(self._arrows.values())

    @property
    def equations(self) -> tuple[Equation, ...]:
        """The path equations, in declaration order."""
        return tuple(self._equations)

    def __getitem__(self, name: str) -> Ob | Arrow:
        found = self._objects.get(name) or self._arrows.get(name)
        if found is None:
            raise UnknownNameError(
                messages.unknown_name("object or arrow", name, self.name,
                                      [*self._objects, *self._arrows])
            )
        return found

    def __contains__(self, item: object) -> bool:
        if isinstance(item, str):
            return item in self._objects or item in self._arrows
        if isinstance(item, Ob):
            return self._objects.get(item.name) == item
        if isinstance(item, Arrow):
            return self._arrows.get(item.name) == item
        return False

    def out_arrows(self, ob: ObLike) -> tuple[Arrow, ...]:
        """The generating arrows whose domain is ``ob``, in declaration order."""
        return tuple(self._out[self.ob(ob)])

    @property
    def graph(self) -> networkx.MultiDiGraph:
        """The underlying graph: nodes are objects, edges are arrows keyed by name.

        Each edge carries its :class:`Arrow` as the ``arrow`` attribute. A fresh
        copy is returned, so mutating it does not touch the schema.
        """
        import networkx as nx

        G = nx.MultiDiGraph(name=self.name)
        for ob in self._objects.values():
            G.add_node(ob, name=ob.name, factors=ob.factors)
        for a in self._arrows.values():
            G.add_edge(a.dom, a.cod, key=a.name, arrow=a)
        return G

    def paths(self, max_length: int, dom: ObLike | None = None,
              cod: ObLike | None = None) -> Iterator[Path]:
        """Every path of the free category up to ``max_length`` arrows, lazily.

        Ordered by length, then by the arrows' names; identities have length 0.
        Equations are ignored here: this lists words, not morphisms. The arguments are
        checked at the call (:class:`~category.BoundError`, unknown objects), not at
        the first ``next()``.

        >>> S = Schema.parse("object A, B\\nf : A -> B\\ng : B -> A")
        >>> [str(p) for p in S.paths(2, dom="A")]
        ['id(A)', 'f', 'f.g']
        """
        from .enumeration import free_paths

        return free_paths(self, max_length,
                          None if dom is None else self.ob(dom),
                          None if cod is None else self.ob(cod))

    def count_paths(self, max_length: int, dom: ObLike | None = None,
                    cod: ObLike | None = None, *, max_bits: int = 1 << 20) -> int:
        """How many paths :meth:`paths` would list, computed without listing them.

        The number of paths of length k from A to B is the (A, B) entry of the k-th power
        of the adjacency matrix (arrows counted with multiplicity); the sum over
        k = 0..max_length is computed with exact integers, by repeated squaring of the
        block matrix ``[[M, I], [0, I]]`` or, when cheaper, one vector step per length.
        Raises :class:`~category.CountTooLarge` (with a lower bound) rather than build
        numbers of more than ``max_bits`` bits.

        >>> S = Schema.parse("object A, B\\nf : A -> B\\ng : B -> A")
        >>> S.count_paths(2, dom="A"), len(list(S.paths(2, dom="A")))
        (3, 3)
        >>> S.count_paths(10**9)
        2000000002
        """
        from .enumeration import count_free_paths

        return count_free_paths(self, max_length,
                                None if dom is None else self.ob(dom),
                                None if cod is None else self.ob(cod), max_bits)

    # ------------------------------------------------------------------ equality
    def completion(self, max_rules: int = DEFAULT_MAX_RULES,
                   max_seconds: float = DEFAULT_MAX_SECONDS) -> RewriteSystem:
        """Knuth–Bendix completion (shortlex, declaration order), cached until a change.

        Raises :class:`~category.Undecided` (with the partial system as ``.system``)
        when ``max_rules`` or ``max_seconds`` stops it before it is confluent. The
        deciding methods below (``equal``, ``normal_form``, ``prove``, ``hom``,
        ``size``…) take the same two bounds as keywords and share this cache.
        """
        from .completion import completion

        return completion(self, max_rules, max_seconds)

    def normal_form(self, p: PathLike | str, **bounds) -> Path:
        """The canonical representative of ``p``'s morphism (needs a confluent completion)."""
        from .equality import normal_form

        return normal_form(self, p, **bounds)

    def equal(self, p: PathLike | str, q: PathLike | str, **bounds) -> bool:
        """Decide ``p = q``: ``True``, ``False``, or :class:`~category.Undecided`; never hangs."""
        from .equality import equal

        return equal(self, p, q, **bounds)

    def prove(self, p: PathLike | str, q: PathLike | str, **bounds) -> Proof:
        """A chain of equation steps from ``p`` to ``q``, checkable by ``check_proof``."""
        from .equality import prove

        return prove(self, p, q, **bounds)

    def hom(self, A: ObLike, B: ObLike, max_length: int | None = None,
            **bounds) -> Iterator[Path]:
        """The distinct morphisms ``A -> B`` (normal forms), shortest first.

        Without ``max_length`` an infinite hom-set raises :class:`~category.Infinite`.
        """
        from .morphisms import hom

        return hom(self, self.ob(A), self.ob(B), max_length, **bounds)

    def morphisms(self, max_length: int | None = None, **bounds) -> Iterator[Path]:
        """Every morphism of the presented category (normal forms), shortest first."""
        from .morphisms import morphisms

        return morphisms(self, max_length, **bounds)

    def is_finite(self, **bounds) -> bool:
        """Whether the presented category has finitely many morphisms."""
        from .morphisms import is_finite

        return is_finite(self, **bounds)

    def size(self, **bounds) -> int:
        """The number of morphisms, counted on the automaton (no listing)."""
        from .morphisms import size

        return size(self, **bounds)

    def growth(self, max_length: int, **bounds) -> Growth:
        """How many morphisms (normal forms) and free paths there are of each length
        ``0..max_length``, counted on the automaton and the adjacency matrix, never by
        listing; ``.ratios`` is the constraint ratio per length (morphisms / paths).

        >>> S = Schema.parse("object X\\ns : X -> X\\ns.s = id(X)")
        >>> g = S.growth(3)
        >>> g.morphisms, g.paths, g.ratios
        ((1, 1, 0, 0), (1, 1, 1, 1), (1.0, 1.0, 0.0, 0.0))
        """
        from .growth import growth

        return growth(self, max_length, **bounds)

    def entropy(self, **bounds) -> Entropy:
        """The exponential growth rates (log of the spectral radius, nats per arrow) of
        the morphisms and of the free paths, and their difference; 0 for a finite
        category (see :mod:`category.growth`)."""
        from .growth import entropy

        return entropy(self, **bounds)

    def transitive_reduction(self, max_length: int | None = None, **bounds) -> Schema:
        """The same category without the generators that equations make redundant."""
        from .reduction import transitive_reduction

        return transitive_reduction(self, max_length, **bounds)

    def reachability(self) -> Reachability:
        """Object-level reachability, and its transitive reduction when acyclic."""
        from .reduction import reachability

        return reachability(self)

    # ------------------------------------------------------------------ text
    @classmethod
    def parse(cls, text: str) -> Schema:
        """Build a schema from the ``.schema`` text format."""
        from .parser import parse_schema

        return parse_schema(text, cls)

    def to_text(self) -> str:
        """The schema in the ``.schema`` text format (``str(S)`` gives the same)."""
        lines = [f"schema {self.name}"]
        run: list[str] = []  # consecutive plain objects share one 'object' line
        for o in self._objects.values():
            if not o.is_product:
                run.append(o.name)
                continue
            if run:
                lines.append("object " + ", ".join(run))
                run = []
            lines.append(f"object {o.name} = " + " * ".join(x.name for x in o.factors))
        if run:
            lines.append("object " + ", ".join(run))
        lines += [f"{a.name} : {a.dom} -> {a.cod}" for a in self._arrows.values()]
        lines += [str(e) for e in self._equations]
        return "\n".join(lines) + "\n"

    def __str__(self) -> str:
        return self.to_text().rstrip("\n")

    def to_dot(self) -> str:
        """The schema as Graphviz ``dot`` text (equations as a note)."""
        from .drawing import to_dot

        return to_dot(self)

    def draw(self, path=None, **options):
        """A picture of the schema: a matplotlib Figure, or written to ``path``.

        ``S.draw()`` in a notebook shows the diagram; ``S.draw("s.svg")`` writes a PNG,
        SVG or PDF file. See :func:`category.drawing.draw` for the options.
        """
        from .drawing import draw

        return draw(self, path, **options)

    def __repr__(self) -> str:
        return (f"Schema({self.name!r}: {len(self._objects)} objects, "
                f"{len(self._arrows)} arrows, {len(self._equations)} equations)")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Schema):
            return NotImplemented
        return (
            self.name == other.name
            and list(self._objects.values()) == list(other._objects.values())
            and list(self._arrows.values()) == list(other._arrows.values())
            and self._equations == other._equations
        )

    __hash__ = None  # type: ignore[assignment]  # mutable while built

    # ------------------------------------------------------------------ internals
    def cached(self, key: str, compute):
        """``compute()`` memoised until the schema next changes (for derived data)."""
        hit = self._cache.get(key)
        if hit is not None and hit[0] == self._version:
            return hit[1]
        value = compute()
        self._cache[key] = (self._version, value)
        return value

    def _changed(self) -> None:
        self._version += 1

    def _add_object(self, ob: Ob) -> None:
        self._objects[ob.name] = ob
        self._out[ob] = []
        self._changed()

    def _lookup(self, kind: str, x: object, cls: type, table: dict):
        """The one resolver behind :meth:`ob` and :meth:`generator`: a name looked up in
        ``table``, or a value of ``cls`` checked to be this schema's own."""
        if isinstance(x, str):
            found = table.get(x)
            if found is None:
                raise self._unknown_name(kind, x)
            return found
        if not isinstance(x, cls):
            raise SchemaTypeError(messages.not_a(f"an {kind} ({cls.__name__} or its name)", x))
        if table.get(x.name) != x:
            if x.name not in table:
                raise UnknownNameError(messages.unknown_name(kind, x.name, self.name, table))
            raise SchemaError(messages.foreign_value(kind, repr(x), self.name))
        return x

    def _own_arrow(self, a: Arrow) -> Arrow:
        return self._lookup("arrow", a, Arrow, self._arrows)

    def _unknown_name(self, kind: str, name: str) -> UnknownNameError:
        """The error for a name that is not one of this schema's ``kind``s."""
        known, others, other = ((self._objects, self._arrows, "an arrow") if kind == "object"
                                else (self._arrows, self._objects, "an object"))
        if name in others:  # the other kind's name: say so rather than guess a spelling
            return UnknownNameError(messages.wrong_kind(kind, name, other, self.name, known))
        return UnknownNameError(messages.unknown_name(kind, name, self.name, known))
