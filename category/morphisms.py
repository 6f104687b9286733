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
        # letter[s]: the arrow read on entering s (every non-root state has one).
        self.letter = [None] + [None] * (auto.size - 1)
        self.succ: list[tuple[int, ...]] = [()] * auto.size
        self.live = [s > 0 and m is None for s, m in enumerate(match)]
        for s in range(1, auto.size):
            if match[s] is None:
                self.succ[s] = tuple(t for t in delta[s].values() if match[t] is None)
        for s in range(auto.size):
            for c, t in delta[s].items():
                self.letter[t] = alphabet.arrows[ord(c)]
        self.starts = {o: tuple(t for t in (delta[0][c] for c in alphabet.out[o])
                                if match[t] is None) for o in alphabet.objects}
        self.counts, self.cyclic = _count_paths(self.succ, [t for ts in self.starts.values()
                                                            for t in ts])


def _count_paths(succ, roots) -> tuple[list[int], bool]:
    """Paths out of each state (itself included), or ``cyclic`` if a cycle is reachable."""
    counts = [0] * len(succ)
    done = [False] * len(succ)
    on_stack = [False] * len(succ)
    for root in roots:
        if done[root]:
            continue
        stack = [(root, iter(succ[root]))]
        on_stack[root] = True
        while stack:
            s, it = stack[-1]
            for t in it:
                if done[t]:
                    continue
                if on_stack[t]:
                    return counts, True
                on_stack[t] = True
                stack.append((t, iter(succ[t])))
                break
            else:
                stack.pop()
                on_stack[s] = False
                done[s] = True
                counts[s] = 1 + sum(counts[t] for t in succ[s])
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
