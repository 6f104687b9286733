"""Transitive reduction: drop the generators that the equations make redundant.

A generator ``h`` is redundant when it equals a path of *other* generators (the empty
path included): then ``h`` can be replaced by that path everywhere, and the schema
without ``h`` — equations rewritten, trivial ones dropped — presents the same
category (a Tietze transformation). For a learner this is the difference between an
arrow that needs its own network and adversarial loss and one that is a composite.

Which paths to try: a generator that rewrites to something else under the completed
system is redundant at once (its normal form is shorter or an earlier letter). For
the others a breadth-first search over *normal forms* reachable with the remaining
generators, up to the longest equation side (or ``max_length``) and a state budget,
looks for ``h``'s normal form. Equality is read from the rules, so a partial
completion is still sound: a removed arrow is always truly redundant.

>>> from category import Schema
>>> S = Schema.parse("object A, B, C\\nf : A -> B\\ng : B -> C\\nh : A -> C\\nf.g = h")
>>> R = S.transitive_reduction()
>>> [a.name for a in R.arrows], R.equations
(['f', 'g'], ())
>>> S.reachability().reduction.number_of_edges()   # A -> B -> C; A -> C is implied
2
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .completion import cached_completion
from .core import Arrow, Path

if TYPE_CHECKING:
    import networkx

SEARCH_BUDGET = 20_000  # normal forms visited per generator before giving up on it


def _express(h: Arrow, kept: list[Arrow], system, depth: int) -> tuple[Arrow, ...] | None:
    """A path over ``kept`` equal to ``h`` (shortest found), or ``None``."""
    code, reduce = system.alphabet.code, system.automaton.reduce
    target = reduce(code[h])
    if target == "":
        return ()  # h is an identity: the empty path expresses it
    out: dict = {}
    for a in kept:
        out.setdefault(a.dom, []).append(a)
    seen = {"": ()}
    layer = [("", (), h.dom)]
    for _ in range(depth):
        nxt = []
        for word, arrows, ob in layer:
            for a in out.get(ob, ()):
                w = reduce(word + code[a])
                if w in seen:
                    continue
                seen[w] = arrows + (a,)
                if w == target and a.cod == h.cod:
                    return seen[w]
                nxt.append((w, seen[w], a.cod))
                if len(seen) > SEARCH_BUDGET:
                    return None
        layer = nxt
    return None


def redundant(schema, max_length: int | None = None, **bounds) -> dict[Arrow, Path]:
    """Each redundant generator, removed in order, with the path over kept generators it equals."""
    system = cached_completion(schema, **bounds)
    arrows = list(schema.arrows)
    mentioned = {a for e in schema.equations for a in (*e.lhs.arrows, *e.rhs.arrows)}
    depth = max_length if max_length is not None else max(
        [1, *(len(side) for e in schema.equations for side in (e.lhs, e.rhs))])
    code, reduce = system.alphabet.code, system.automaton.reduce
    # A generator that occurs in no equation is free: every path equal to a path through
    # it goes through it too. Reducible generators first: they are redundant at once.
    candidates = [a for a in reversed(arrows) if a in mentioned]
    candidates.sort(key=lambda a: reduce(code[a]) == code[a])
    removed: dict[Arrow, tuple[Arrow, ...]] = {}
    for h in candidates:
        kept = [a for a in arrows if a is not h and a not in removed]
        word = _express(h, kept, system, depth)
        if word is not None:
            removed[h] = word
    # Later removals avoid earlier ones, so substituting in reverse order terminates.
    final: dict[Arrow, tuple[Arrow, ...]] = {}
    for h in reversed(list(removed)):
        final[h] = tuple(b for a in removed[h] for b in final.get(a, (a,)))
    return {h: Path._unchecked(h.dom, h.cod, final[h]) for h in removed}


def transitive_reduction(schema, max_length: int | None = None, **bounds):
    """A schema with the same objects presenting the same category, minus redundant arrows.

    Kept arrows are the same :class:`Arrow` values, in declaration order; each equation
    has removed arrows replaced by their paths, and equations that became trivial or
    repeated are dropped.
    """
    sub = {h: p.arrows for h, p in redundant(schema, max_length, **bounds).items()}
    T = type(schema)(schema.name)  # a schema of the same class (reduction never imports it)
    for ob in schema.objects():
        if ob.is_product:
            T.product(ob.name, *ob.factors)
        else:
            T.object(ob.name)
    for a in schema.arrows:
        if a not in sub:
            T.arrow(a.name, a.dom, a.cod)
    seen = set()
    for e in schema.equations:
        sides = [Path._unchecked(side.dom, side.cod,
                                 tuple(b for a in side.arrows for b in sub.get(a, (a,))))
                 for side in (e.lhs, e.rhs)]
        key = tuple(sides)
        if sides[0] != sides[1] and key not in seen and key[::-1] not in seen:
            seen.add(key)
            T.equate(*sides)
    return T


@dataclass(frozen=True)
class Reachability:
    """Which objects reach which: ``graph`` has an edge ``A -> B`` when a non-empty path
    ``A -> B`` exists (a self-loop when ``A`` lies on a cycle); ``reduction`` is its
    transitive reduction (networkx) when the schema's graph is acyclic, else ``None``."""

    graph: networkx.DiGraph
    reduction: networkx.DiGraph | None

    @property
    def is_acyclic(self) -> bool:
        return self.reduction is not None

    def reaches(self, A, B) -> bool:
        """Whether some path (the identity included) goes from ``A`` to ``B``."""
        return A == B or self.graph.has_edge(A, B)


def reachability(schema) -> Reachability:
    """The object-level reachability of ``schema`` (see :class:`Reachability`)."""
    import networkx as nx

    G = nx.DiGraph(schema.graph)
    closure = nx.transitive_closure(G, reflexive=False)
    acyclic = nx.is_directed_acyclic_graph(G)
    return Reachability(closure, nx.transitive_reduction(G) if acyclic else None)
