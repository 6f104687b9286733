"""The morphisms of a presented category: irreducible words of its complete system.

With a confluent system every morphism has exactly one irreducible word, and a word
is irreducible exactly when the Aho–Corasick automaton of the left sides never
reaches a matching state while reading it. Removing the matching states leaves a
finite graph whose paths from the root *are* the morphisms, so

* the category is finite iff that graph has no cycle reachable from the root;
* its size is a count of paths, by dynamic programming over the (acyclic) graph —
  no word is listed or reduced;
* ``hom(A, B)`` walks the graph breadth first, pruned to states from which ``B`` can
  still be reached, so it yields normal forms shortest first.

>>> from category import Schema
>>> S = Schema.parse(open("examples/cyclegan.schema").read())
>>> S.size(), S.is_finite(), [str(p) for p in S.hom("Horse", "Horse")]
(4, True, ['id(Horse)'])
>>> L = Schema.parse("object X\\nf : X -> X")
>>> L.is_finite(), [str(p) for p in L.hom("X", "X", max_length=2)]
(False, ['id(X)', 'f', 'f.f'])
"""

from __future__ import annotations

from collections.abc import Iterator

from . import messages
from .completion import cached_completion
from .core import Ob, Path
from .errors import BoundError, Infinite, Undecided
from .rewriting import RewriteSystem


class _Graph:
    """The irreducible-word graph: states of the automaton that match no left side."""

    __slots__ = ("succ", "starts", "ob", "letter", "live", "counts", "cyclic")

    def __init__(self, system: RewriteSystem):
        auto, alphabet = system.automaton, system.alphabet
        match, delta = auto.match, auto.delta
        self.ob = auto.ob
        arrows = alphabet.arrows
        # letter[s]: the arrow read on entering s (every non-root state has one).
        self.letter = [None] + [arrows[ord(c)] for c in auto.letter[1:]]
        self.succ: list[tuple[int, ...]] = [()] * auto.size
        self.live = [s > 0 and m is None for s, m in enumerate(match)]
        for s in range(1, auto.size):
            if match[s] is None:
                self.succ[s] = tuple([t for t in delta[s].values() if match[t] is None])
        self.starts = {o: tuple(t for t in (delta[0][c] for c in alphabet.out[o])
                                if match[t] is None) for o in alphabet.objects}
        self.counts, self.cyclic = _count_paths(self.succ, [t for ts in self.starts.values()
                                                            for t in ts])


def _count_paths(succ, roots) -> tuple[list[int], bool]:
    """Paths out of each state (itself included), or ``cyclic`` if a cycle is reachable.

    Kahn's order over the states reachable from ``roots``: a cycle is what it cannot
    order; the counts are then summed in reverse order. (Loops over lists, no
    recursion and no iterator per state: the cost is per edge, at Python's best.)
    """
    n = len(succ)
    seen = [False] * n
    reached = []
    for r in roots:
        if not seen[r]:
            seen[r] = True
            reached.append(r)
    indegree = [0] * n
    for s in reached:  # grows as it goes: every reachable state, once
        for t in succ[s]:
            indegree[t] += 1
            if not seen[t]:
                seen[t] = True
                reached.append(t)
    order = [s for s in reached if not indegree[s]]
    for s in order:  # grows as it goes
        for t in succ[s]:
            indegree[t] -= 1
            if not indegree[t]:
                order.append(t)
    counts = [0] * n
    if len(order) < len(reached):
        return counts, True
    for s in reversed(order):
        c = 1
        for t in succ[s]:
            c += counts[t]
        counts[s] = c
    return counts, False


def _graph(schema, bounds) -> _Graph:
    system = cached_completion(schema, **bounds)
    if not system.is_confluent:
        # The reason reads "completion stopped at …"; the message says "completion" itself.
        reason = system.reason.removeprefix("completion ")
        raise Undecided(messages.not_decided_finite(schema.name, reason), system)
    graph = system.memo.get("graph")
    if graph is None:
        graph = system.memo["graph"] = _Graph(system)
    return graph


def is_finite(schema, **bounds) -> bool:
    """``True`` iff the presented category has finitely many morphisms."""
    return not _graph(schema, bounds).cyclic


def size(schema, **bounds) -> int:
    """The number of morphisms (identities included); :class:`Infinite` if infinite."""
    g = _graph(schema, bounds)
    if g.cyclic:
        raise Infinite(messages.infinite_hom(f"schema {schema.name!r}"))
    return sum(1 + sum(g.counts[t] for t in g.starts[o]) for o in schema.objects())


def _co_reaching(g: _Graph, B: Ob) -> list[bool]:
    """States from which some irreducible word can still end at ``B``."""
    n = len(g.succ)
    pred: list[list[int]] = [[] for _ in range(n)]
    for s, ts in enumerate(g.succ):
        for t in ts:
            pred[t].append(s)
    good = [False] * n
    todo = [s for s in range(1, n) if g.live[s] and g.ob[s] == B]
    for s in todo:
        good[s] = True
    while todo:
        s = todo.pop()
        for p in pred[s]:
            if not good[p]:
                good[p] = True
                todo.append(p)
    return good


def _check_length(max_length) -> None:
    if max_length is not None and (not isinstance(max_length, int)
                                   or isinstance(max_length, bool) or max_length < 0):
        raise BoundError(messages.bad_length(max_length))


def _has_cycle(succ, roots, allowed) -> bool:
    limited = [tuple(t for t in ts if allowed[t]) for ts in succ]
    return _count_paths(limited, [r for r in roots if allowed[r]])[1]


def hom(schema, A: Ob, B: Ob, max_length: int | None = None, **bounds) -> Iterator[Path]:
    """The distinct morphisms ``A -> B`` as normal forms, shortest first, then by letters."""
    _check_length(max_length)
    g = _graph(schema, bounds)
    good = _co_reaching(g, B)
    if max_length is None and g.cyclic and _has_cycle(g.succ, g.starts[A], good):
        raise Infinite(messages.infinite_hom(f"hom({A}, {B}) in schema {schema.name!r}"))
    return _walk(g, [A], B, good, max_length)


def morphisms(schema, max_length: int | None = None, **bounds) -> Iterator[Path]:
    """Every morphism, shortest first (identities first, by object)."""
    _check_length(max_length)
    g = _graph(schema, bounds)
    if max_length is None and g.cyclic:
        raise Infinite(messages.infinite_hom(f"the category presented by {schema.name!r}"))
    return _walk(g, list(schema.objects()), None, None, max_length)


def _walk(g: _Graph, sources, B, good, max_length) -> Iterator[Path]:
    make, ob, letter, succ = Path._unchecked, g.ob, g.letter, g.succ
    for A in sources:
        if B is None or A == B:
            yield A.id
    layer = [(t, A, (letter[t],)) for A in sources for t in g.starts[A]
             if good is None or good[t]]
    length = 1
    while layer and (max_length is None or length <= max_length):
        nxt = []
        for s, A, word in layer:
            if B is None or ob[s] == B:
                yield make(A, ob[s], word)
            if max_length is not None and length == max_length:
                continue
            for t in succ[s]:
                if good is None or good[t]:
                    nxt.append((t, A, word + (letter[t],)))
        layer = nxt
        length += 1
