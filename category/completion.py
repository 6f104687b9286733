"""Knuth–Bendix completion of a schema's equations into a rewrite system.

Words are typed (see :mod:`category.rewriting`), but typing needs no special care:
a left side is never empty (shortlex puts the empty word below every other), every
rule relates parallel words, so rewriting keeps words composable, and two left sides
that overlap share a letter, so the overlap word composes too.

The loop is the classical one. Equations are reduced and oriented into rules; each
new rule removes the rules it makes reducible (inter-reduction: a rule whose left side
it rewrites goes back to the queue as an equation, one whose right side it rewrites is
re-derived); rules are then taken shortest first and every overlap with the rules
already taken is reduced — a critical pair whose sides differ becomes a new rule. When
no rule is left to take, every critical pair joins and the system is confluent.

Every rule records how it was derived (steps by equations or earlier rules), so a
proof can be replayed by equations alone (see :mod:`category.proof`).

>>> from category import Schema
>>> S = Schema.parse("object X\\na, b : X -> X\\na.a = id(X)\\nb.b = id(X)\\n"
...                  "a.b.a = b.a.b")
>>> R = S.completion()
>>> R.is_confluent, [str(r) for r in R.rules]
(True, ['a.a -> id(X)', 'b.b -> id(X)', 'b.a.b -> a.b.a'])
"""

from __future__ import annotations

import heapq
import time
from collections import deque

from . import messages
from .errors import BoundError, Undecided
from .rewriting import Alphabet, RewriteSystem
from .schema import DEFAULT_MAX_RULES, DEFAULT_MAX_SECONDS

# A derivation step: (reference, position, forward). A reference i >= 0 is rule i of
# the completion's store; -1 - j is the schema's equation j.
Step = tuple[int, int, bool]



def reverse(steps) -> tuple[Step, ...]:
    """The steps that undo ``steps``: same positions, opposite directions, reverse order."""
    return tuple((ref, pos, not fwd) for ref, pos, fwd in reversed(steps))


class _Store:
    """Every rule ever made (alive or not) with its derivation; proofs refer to it."""

    def __init__(self):
        self.lhs: list[str] = []
        self.rhs: list[str] = []
        self.derivation: list[tuple[Step, ...]] = []


class _Completion:
    def __init__(self, alphabet: Alphabet, equations, max_rules: int, max_seconds: float):
        self.alphabet = alphabet
        self.max_rules = max_rules
        self.deadline = time.perf_counter() + max_seconds
        self.max_seconds = max_seconds
        self.store = _Store()
        self.alive: set[int] = set()
        self.taken: set[int] = set()
        self.by_lhs: dict[str, int] = {}
        # Every prefix (suffix) of an alive left side -> the rules having it: finds
        # overlaps, and lets the reducer stop as soon as no left side can end here.
        self.by_prefix: dict[str, set[int]] = {}
        self.by_suffix: dict[str, set[int]] = {}
        # letter -> alive rules mentioning it in either side: inter-reduction candidates.
        self.by_letter: dict[str, set[int]] = {}
        self.queue: list[tuple[int, int]] = []
        self.pending: deque[tuple[str, str, tuple[Step, ...]]] = deque()
        for j, eq in enumerate(equations):
            u, v = alphabet.encode(eq.lhs), alphabet.encode(eq.rhs)
            self.pending.append((u, v, ((-1 - j, 0, True),)))

    # ------------------------------------------------------------- reduction
    def reduce(self, word: str) -> tuple[str, list[Step]]:
        """Leftmost-innermost normal form under the alive rules, with its steps."""
        by_suffix, by_lhs, rhs = self.by_suffix, self.by_lhs, self.store.rhs
        out = ""
        todo = list(word)
        todo.reverse()
        steps: list[Step] = []
        while todo:
            out += todo.pop()
            n = len(out)
            k = 1
            while k <= n:
                tail = out[n - k:]
                if tail not in by_suffix:
                    break
                r = by_lhs.get(tail)
                if r is not None:
                    steps.append((r, n - k, True))
                    out = out[:n - k]
                    todo.extend(reversed(rhs[r]))
                    break
                k += 1
        return out, steps

    # ------------------------------------------------------------- rules
    def add(self, lhs: str, rhs: str, derivation: tuple[Step, ...]) -> None:
        store = self.store
        r = len(store.lhs)
        store.lhs.append(lhs)
        store.rhs.append(rhs)
        store.derivation.append(derivation)
        self.alive.add(r)
        self.by_lhs[lhs] = r
        for k in range(1, len(lhs) + 1):
            self.by_prefix.setdefault(lhs[:k], set()).add(r)
            self.by_suffix.setdefault(lhs[-k:], set()).add(r)
        for c in set(lhs + rhs):
            self.by_letter.setdefault(c, set()).add(r)
        heapq.heappush(self.queue, (len(lhs), r))
        if len(self.alive) > self.max_rules:
            raise _Stop(messages.completion_bound("max_rules", self.max_rules,
                                                  len(self.alive)))
        # Inter-reduce: the new left side may occur in older rules.
        rarest = min(set(lhs), key=lambda c: len(self.by_letter[c]))
        for s in sorted(self.by_letter[rarest]):
            if s != r and (lhs in store.lhs[s] or lhs in store.rhs[s]):
                self.remove(s)
                self.pending.append((store.lhs[s], store.rhs[s], ((s, 0, True),)))

    def remove(self, r: int) -> None:
        lhs, rhs = self.store.lhs[r], self.store.rhs[r]
        self.alive.discard(r)
        self.taken.discard(r)
        del self.by_lhs[lhs]
        for k in range(1, len(lhs) + 1):
            for index, key in ((self.by_prefix, lhs[:k]), (self.by_suffix, lhs[-k:])):
                ids = index[key]
                ids.discard(r)
                if not ids:
                    del index[key]
        for c in set(lhs + rhs):
            self.by_letter[c].discard(r)

    def settle(self) -> None:
        """Turn every pending equation into a rule, unless its sides already join."""
        pending = self.pending
        while pending:
            if time.perf_counter() > self.deadline:
                raise _Stop(messages.completion_bound("max_seconds", self.max_seconds,
                                                      len(self.alive)))
            u, v, chain = pending.popleft()
            u2, a = self.reduce(u)
            v2, b = self.reduce(v)
            if u2 == v2:
                continue
            chain = reverse(a) + chain + tuple(b)  # now from u2 to v2
            if (len(u2), u2) > (len(v2), v2):
                self.add(u2, v2, chain)
            else:
                self.add(v2, u2, reverse(chain))

    # ------------------------------------------------------------- overlaps
    def overlaps(self, r: int) -> None:
        """Queue the critical pairs of rule ``r`` with every taken rule and itself."""
        store, taken = self.store, self.taken
        l1, r1 = store.lhs[r], store.rhs[r]
        for i in range(1, len(l1)):
            # A suffix of l1 is a prefix of l2:  l1[:i] . u . rest
            u = l1[i:]
            for s in sorted(self.by_prefix.get(u, ())):
                if s != r and s not in taken:
                    continue
                l2 = store.lhs[s]
                if len(l2) <= len(u):
                    continue
                rest = l2[len(u):]
                self.pending.append((r1 + rest, l1[:i] + store.rhs[s],
                                     ((r, 0, False), (s, i, True))))
            # A prefix of l1 is a suffix of l2:  head . l1[:i] . l1[i:]
            u = l1[:i]
            for s in sorted(self.by_suffix.get(u, ())):
                if s == r or s not in taken:
                    continue  # the self-overlap is found by the first case
                l2 = store.lhs[s]
                if len(l2) <= i:
                    continue
                p = len(l2) - i
                self.pending.append((store.rhs[s] + l1[i:], l2[:p] + r1,
                                     ((s, 0, False), (r, p, True))))

    def run(self) -> None:
        self.settle()
        while self.queue:
            _, r = heapq.heappop(self.queue)
            if r not in self.alive:
                continue
            self.overlaps(r)
            self.taken.add(r)
            self.settle()


class _Stop(Exception):
    """A bound was hit; carries the message."""


def complete(schema, max_rules: int = DEFAULT_MAX_RULES,
             max_seconds: float = DEFAULT_MAX_SECONDS) -> RewriteSystem:
    """Run completion on ``schema``; return the system, confluent or stopped at a bound.

    Never raises for a bound: the returned system's ``is_confluent`` is ``False`` and
    its ``reason`` names the bound (``Schema.completion`` turns that into
    :class:`~category.Undecided`).
    """
    if not isinstance(max_rules, int) or isinstance(max_rules, bool) or max_rules < 1:
        raise BoundError(messages.bad_bound("max_rules", max_rules))
    if not isinstance(max_seconds, (int, float)) or isinstance(max_seconds, bool) \
            or not max_seconds > 0:
        raise BoundError(messages.bad_bound("max_seconds", max_seconds))
    alphabet = Alphabet(schema)
    run = _Completion(alphabet, schema.equations, max_rules, float(max_seconds))
    reason = ""
    try:
        run.run()
    except _Stop as stop:
        reason = str(stop)
    alive = sorted(run.alive, key=lambda r: (len(run.store.lhs[r]), run.store.lhs[r]))
    return RewriteSystem(alphabet, [run.store.lhs[r] for r in alive],
                         [run.store.rhs[r] for r in alive], alive, run.store,
                         is_confluent=not reason, reason=reason, equations=schema.equations)


def completion(schema, max_rules: int = DEFAULT_MAX_RULES,
               max_seconds: float = DEFAULT_MAX_SECONDS) -> RewriteSystem:
    """The cached completed system of ``schema``; :class:`Undecided` if a bound stopped it."""
    system = cached_completion(schema, max_rules, max_seconds)
    if not system.is_confluent:
        raise Undecided(messages.completion_stopped(schema.name, system.reason, system.rules),
                        system)
    return system


def cached_completion(schema, max_rules: int = DEFAULT_MAX_RULES,
                      max_seconds: float = DEFAULT_MAX_SECONDS) -> RewriteSystem:
    """Like :func:`completion` but returns a partial system instead of raising."""
    return schema.cached(f"completion:{max_rules}:{max_seconds}",
                         lambda: complete(schema, max_rules, max_seconds))
