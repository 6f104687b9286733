"""Knuth–Bendix completion of a schema's equations into a rewrite system.

Words are typed (see :mod:`category.rewriting`), but typing needs no special care:
a left side is never empty (shortlex puts the empty word below every other), every
rule relates parallel words, so rewriting keeps words composable, and two left sides
that overlap share a letter, so the overlap word composes too.

The loop is the classical one, with the usual economies:

* **Reduction** is a stack rewriter over an Aho–Corasick automaton of the alive left
  sides: letters are pushed with the automaton state they lead to; when a state
  matches a left side, its letters are popped (with their states) and the right side
  is pushed back through the automaton. A rewrite costs the lengths of its two sides,
  whatever the length of the word — and reading a right side from a state it was
  read from before costs one look-up (a memo of what the reading pushes and which
  match it meets, emptied by every change of the rules). The automaton changes as
  rules come and go, so its failure links and transitions are computed lazily, and a
  change makes stale only
  the states it can affect (those whose word contains the change's factor, found
  through an index of the left sides' factors).
* **Overlaps** are found on the automata, not by comparing rules pairwise: the proper
  suffixes of a left side that begin other left sides are its failure chain in the
  automaton, and the prefixes that end other left sides are the failure chain of the
  reversed left side in a second automaton of the reversed left sides (filled only
  when a later rule needs it: a lone rule never pays for it).
* **Critical pairs** of every rule with every alive rule wait in one queue, the pairs
  ranked by the total length of their two sides, never less than their overlap's
  length (a bucket per rank). For ``l1 = x.y -> r1`` and ``l2 = y.z -> r2`` the sides
  are ``r1.z`` and ``x.r2``: rank = ``|x.y.z| + max(0, |r1| + |r2| - |y|)``. Short
  sides make short rules early, before the longer rules that would contain them (and
  die) are made; the floor at the overlap's length keeps the order fair (finitely many
  overlap words lie below any rank, so every pair comes out in the end, as with the
  shortest overlap first). A pair whose two words are equal, whose
  rules died meanwhile, or whose overlap has another left side strictly inside it
  (then it is connected below the overlap through two smaller pairs) is dropped before
  any reduction — the last test made first when the pairs are found, a branch of the
  trie at a time, so most such pairs are never queued — and reduction steps are
  recorded only for the few pairs that make a rule.
* **The equations** become rules in one batch: oriented, one automaton built, the left
  sides that contain others sent back as equations, the pairs read off the forward
  automaton alone.
* **Inter-reduction** is eager for left sides (a rule whose left side contains a new
  one goes back to the queue as an equation) and lazy for right sides (they are
  reduced once, at the end).

When the queue is empty, every critical pair of the alive rules joins (or is connected
below its overlap), and the system is confluent.

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

import bisect
import sys
import time
from collections import deque

from . import messages
from .errors import BoundError, Undecided
from .rewriting import Alphabet, RewriteSystem

# Bounds of Knuth–Bendix completion; Schema's deciding methods show them as defaults.
DEFAULT_MAX_RULES = 5_000
DEFAULT_MAX_SECONDS = 2.0

# A derivation step: (reference, position, forward). A reference i >= 0 is rule i of
# the completion's store; -1 - j is the schema's equation j.
Step = tuple[int, int, bool]

# Left sides are indexed by their factors of these lengths, to find the left sides that
# contain a word (inter-reduction, invalidation): the long ones keep the candidates few
# on small alphabets, where every short factor is in most left sides.
_GRAMS = (1, 2, 4, 8)


def _grams_of(lhs: str) -> set[str]:
    """The distinct factors of ``lhs`` of the lengths in ``_GRAMS``."""
    return {lhs[i:i + k] for k in _GRAMS if k <= len(lhs) for i in range(len(lhs) - k + 1)}


# Critical pairs are tested for a left side inside their overlap when found, a branch of
# the trie at a time, down to branches of fewer than this many left sides.
_FEW = 5


def reverse(steps) -> tuple[Step, ...]:
    """The steps that undo ``steps``: same positions, opposite directions, reverse order."""
    return tuple((ref, pos, not fwd) for ref, pos, fwd in reversed(steps))


class _Store:
    """Every rule ever made (alive or not) with its derivation; proofs refer to it."""

    def __init__(self):
        self.lhs: list[str] = []
        self.rhs: list[str] = []
        self.derivation: list[tuple[Step, ...]] = []


class _Trie:
    """An Aho–Corasick automaton over a changing set of words, built lazily.

    The trie (``kids``) changes at once when a word is added or removed; every other
    table is per state and valid only when the state's ``stamp`` is the current
    ``version``: ``fail`` (the state of the longest proper suffix that is a trie
    node), ``hit`` (the word ending here or at a suffix, ``-1`` if none) and ``goto``
    (the transitions computed so far). Stale states are recomputed on their next use —
    only the states a reduction actually visits.

    A change makes stale only the states it can affect (see :meth:`invalidate`): the
    states whose word contains its *changed factor* ``u``, and the transitions of the
    states whose word ends with ``u`` less its last letter. Adding or removing one
    two-letter left side among thousands thus touches a handful of states.
    ``below[s]`` holds the words that pass through state ``s`` (for overlaps).
    """

    __slots__ = ("kids", "parent", "last", "depth", "term", "below", "fail", "hit", "goto",
                 "stamp", "version", "node", "path", "word", "memo")

    def __init__(self, letters: str):
        self.kids: list[dict[str, int]] = [{}]
        self.parent = [0]
        self.last = [""]
        self.depth = [0]
        self.term = [-1]
        self.below: list[set[int]] = [set()]
        self.fail = [0]
        self.hit = [-1]
        self.goto: list[dict[str, int]] = [{}]
        self.stamp = [0]
        self.version = 0
        self.node: dict[int, int] = {}  # word id -> its final state
        self.path: dict[int, list[int]] = {}  # word id -> its states, root first
        self.word: dict[int, str] = {}  # word id -> the word
        # (state, rule) -> what reading the rule's right side from the state does (see
        # _Completion.read_rhs); emptied by every change of the words.
        self.memo: dict[tuple[int, int], tuple[list[int], int, str]] = {}
        for c in letters:  # every letter has its own state, never pruned
            self._node(0, c)
        self._bump()

    def _bump(self) -> None:
        """Make every state stale (a change too wide for :meth:`invalidate`)."""
        self.version += 1
        self.memo.clear()
        self.stamp[0] = self.version
        self.goto[0] = {}

    def add(self, word: str, ident: int) -> str:
        """Add a word; return the changed factor (for :meth:`invalidate`)."""
        self.memo.clear()
        kids, below = self.kids, self.below
        s = 0
        path = [0]
        old = len(word)  # the depth of the deepest state that existed before
        for i, c in enumerate(word):
            t = kids[s].get(c)
            if t is None:
                old = i
                break
            s = t
            below[s].add(ident)
            path.append(s)
        if len(word) - old > 3:
            s = self._grow(s, word[old:], ident, path)
        else:  # a few new states (short left sides, often): one by one is faster
            for c in word[old:]:
                s = self._node(s, c)
                below[s].add(ident)
                path.append(s)
        self.term[s] = ident
        self.node[ident] = s
        self.path[ident] = path
        self.word[ident] = word
        return word[:old + 1]

    def _grow(self, s: int, tail: str, ident: int, path: list[int]) -> int:
        """New states below ``s`` for ``tail`` (word ``ident``), all at once; the last."""
        k = len(tail)
        first = len(self.kids)
        ids = range(first, first + k)
        kids = self.kids
        kids.extend([{} for _ in ids])
        for t, c in zip(ids, tail):
            kids[s][c] = t
            s = t
        self.parent.append(path[-1])
        self.parent.extend(range(first, first + k - 1))
        self.last.extend(tail)
        d = self.depth[path[-1]]
        self.depth.extend(range(d + 1, d + k + 1))
        self.term.extend([-1] * k)
        self.below.extend([{ident} for _ in ids])
        self.fail.extend([0] * k)
        self.hit.extend([-1] * k)
        self.goto.extend([{} for _ in ids])
        self.stamp.extend([-1] * k)
        path.extend(ids)
        return s

    def _node(self, s: int, c: str) -> int:
        t = len(self.kids)
        self.kids.append({})
        self.parent.append(s)
        self.last.append(c)
        self.depth.append(self.depth[s] + 1)
        self.term.append(-1)
        self.below.append(set())
        self.fail.append(0)
        self.hit.append(-1)
        self.goto.append({})
        self.stamp.append(-1)
        self.kids[s][c] = t
        return t

    def remove(self, ident: int) -> str:
        """Remove a word; return the changed factor (for :meth:`invalidate`)."""
        self.memo.clear()
        s = self.node.pop(ident)
        del self.path[ident]
        word = self.word.pop(ident)
        self.term[s] = -1
        kids, below, parent = self.kids, self.below, self.parent
        kept = len(word)  # the depth of the deepest state that survives
        while s:
            below[s].discard(ident)
            p = parent[s]
            if p and not kids[s] and self.term[s] < 0:
                del kids[p][self.last[s]]
                kept = self.depth[p]
            s = p
        return word[:kept + 1]

    def rename(self, old: int, new: int) -> str:
        """Give word ``old`` the id ``new``; return the changed factor (the word)."""
        self.memo.clear()
        s = self.node[new] = self.node.pop(old)
        self.term[s] = new
        path = self.path[new] = self.path.pop(old)
        for t in path[1:]:
            self.below[t].discard(old)
            self.below[t].add(new)
        word = self.word[new] = self.word.pop(old)
        return word

    def invalidate(self, u: str, candidates) -> None:
        """Make stale what a change with changed factor ``u`` can affect.

        A state's failure link and hit change only if the new (or removed) states or
        the word's end are among its suffixes, and all of those contain ``u``; a
        transition changes only if its source ends with ``v = u[:-1]``. So states
        containing ``u`` go stale, states ending with ``v`` lose their transitions.
        Both sets are closed as the lazy tables need: a state's failure target and
        the targets of its transitions are stale only if it is stale or has lost its
        transitions. ``candidates``: the ids of at least the words containing ``v``.
        """
        if len(u) < 2:
            self._bump()
            return
        v = u[:-1]
        stamp, goto, path, words = self.stamp, self.goto, self.path, self.word
        if len(v) == 1:
            goto[self.kids[0][v]] = {}  # the letter's state, on no word's path maybe
        n = len(v)
        for i in candidates:
            w = words.get(i)
            if w is None:
                continue
            e = w.find(v)
            if e < 0:
                continue
            states = path[i]
            f = w.find(u)
            stale = f + n + 1 if f >= 0 else len(w) + 1  # first depth containing u
            while 0 <= e and e + n < stale:
                goto[states[e + n]] = {}
                e = w.find(v, e + 1)
            for d in range(stale, len(w) + 1):
                stamp[states[d]] = -1

    def fresh(self, s: int) -> None:
        """Make ``s`` (and its ancestors) current; their failure targets are current too."""
        stamp, version = self.stamp, self.version
        if stamp[s] == version:
            return
        path = []
        while stamp[s] != version:
            path.append(s)
            s = self.parent[s]
        parent, fail, hit, term, last = self.parent, self.fail, self.hit, self.term, self.last
        goto, kids = self.goto, self.kids
        for t in reversed(path):
            p = parent[t]
            if p:
                u, c = fail[p], last[t]
                f = goto[u].get(c)
                if f is None:
                    f = kids[u].get(c)
                    if f is not None and stamp[f] == version:
                        goto[u][c] = f  # what step() would find and keep (inlined)
                    else:
                        f = self.step(u, c)
            else:
                f = 0
            fail[t] = f
            hit[t] = term[t] if term[t] >= 0 else hit[f]
            self.goto[t] = {}
            stamp[t] = version

    def step(self, s: int, c: str) -> int:
        """The state after reading ``c`` in the current state ``s`` (the result is current)."""
        goto, kids, fail = self.goto, self.kids, self.fail
        chain = []
        u = s
        while True:
            t = goto[u].get(c)
            if t is not None:
                break
            t = kids[u].get(c)
            if t is not None:
                self.fresh(t)
                break
            chain.append(u)
            if not u:
                t = 0
                break
            u = fail[u]
        goto[u][c] = t
        for v in chain:
            goto[v][c] = t
        return t

    def read(self, word: str) -> int:
        """The state after reading ``word`` from the root (no rewriting)."""
        s = 0
        goto = self.goto
        for c in word:
            t = goto[s].get(c)
            s = self.step(s, c) if t is None else t
        return s

    def suffix_states(self, s: int):
        """The proper failure chain of state ``s``: its suffixes that are trie nodes."""
        self.fresh(s)
        fail = self.fail
        s = fail[s]
        while s:
            yield s
            s = fail[s]


class _Completion:
    def __init__(self, alphabet: Alphabet, equations, max_rules: int, max_seconds: float):
        self.alphabet = alphabet
        self.max_rules = max_rules
        self.deadline = time.perf_counter() + max_seconds
        self.max_seconds = max_seconds
        self.store = _Store()
        self.alive: set[int] = set()
        self.by_lhs: dict[str, int] = {}
        self.lhs_len: list[int] = []
        self.longest = 0  # the longest left side made
        self.longest_rhs = 0  # the longest right side made
        self.rhs_rev: list[str] = []
        # factor (length in _GRAMS) -> alive rules whose left side contains it.
        self.grams: dict[str, set[int]] = {}
        # Critical pairs not yet processed, smallest rank first, then first come: bucket
        # n holds (left side, left side, length of the shared part) of the pairs of rank
        # n (a small integer: no heap needed), and no bucket below ``low`` holds any.
        self.buckets: list[deque[tuple[str, str, int]]] = []
        self.low = sys.maxsize
        self.pending: deque[tuple[str, str, tuple[Step, ...]]] = deque()
        for j, eq in enumerate(equations):
            u, v = alphabet.encode(eq.lhs), alphabet.encode(eq.rhs)
            self.pending.append((u, v, ((-1 - j, 0, True),)))
        # Words in completion only ever use the letters of the equations.
        letters = "".join(sorted({c for u, v, _ in self.pending for c in u + v}))
        self.trie = _Trie(letters)    # alive left sides: reduction, overlaps to the right
        self.rtrie = _Trie("")        # alive left sides reversed: overlaps to the left
        self.unreversed: dict[int, None] = {}  # alive rules not in rtrie yet, in order
        self.unindexed: dict[int, None] = {}  # alive rules not in grams yet, in order

    # ------------------------------------------------------------- reduction
    def states(self, word: str, states: list[int] | None = None, r: int = -1) -> list[int]:
        """The stack of states of the leftmost-innermost normal form under the alive
        rules, root first (two words are equal if and only if their stacks are).

        The stack holds the automaton state after each letter of the output so far
        (every letter has its own depth-1 state, so a state knows its letter).
        ``states``, if given, is the stack of an irreducible prefix already read
        (current states, root first; it is consumed), and ``word`` follows it; if
        ``r >= 0``, rule ``r``'s right side comes between them.

        A rewrite pops the left side's states and reads the right side from the state
        below — through the trie's memo of what reading a rule's right side from a
        state does (the states it pushes, and the match it meets, if any), so a right
        side read again from the same state costs one look-up, not a step per letter.
        """
        trie = self.trie
        goto, hit, step, memo = trie.goto, trie.hit, trie.step, trie.memo
        lhs_len, read_rhs = self.lhs_len, self.read_rhs
        if states is None:
            states = [0]
        push = states.append
        k = 0  # the states to pop before rule r's right side is read
        while True:
            if r >= 0:
                while True:  # right sides through the memo, while they meet matches
                    if k:
                        del states[-k:]
                    s = states[-1]
                    e = memo.get((s, r))
                    if e is None:
                        e = read_rhs(s, r)
                    seg, h, tail = e
                    if seg:
                        states += seg
                    if h < 0:
                        break
                    if tail:
                        word = tail + word
                    r = h
                    k = lhs_len[h] - 1
            s = states[-1]
            # A for loop over the letters still to read (the fastest loop in CPython).
            base = len(states)  # the letters read in this pass: what it pushed, + 1
            for c in word:
                t = goto[s].get(c)
                if t is None:
                    t = step(s, c)
                r = hit[t]
                if r < 0:
                    push(t)
                    s = t
                    continue
                word = word[len(states) - base + 1:]
                k = lhs_len[r] - 1
                break
            else:
                return states

    def read_rhs(self, s: int, r: int) -> tuple[list[int], int, str]:
        """Read rule ``r``'s right side from the current state ``s``: the states pushed
        before a match (all of them if none), the matching rule (``-1`` if none) and the
        letters after the matching one; kept in the trie's memo."""
        trie = self.trie
        goto, hit, step = trie.goto, trie.hit, trie.step
        rhs = self.store.rhs[r]
        seg: list[int] = []
        push = seg.append
        e = (seg, -1, "")
        t0 = s
        for c in rhs:
            t = goto[s].get(c)
            if t is None:
                t = step(s, c)
            h = hit[t]
            if h >= 0:
                e = (seg, h, rhs[len(seg) + 1:])
                break
            push(t)
            s = t
        trie.memo[(t0, r)] = e
        return e

    def reduce_steps(self, word: str) -> tuple[str, list[Step]]:
        """The leftmost-innermost normal form of ``word`` under the alive rules (as
        :meth:`states` reads it), with the steps taken (rule, position, forward)."""
        trie = self.trie
        goto, hit, step = trie.goto, trie.hit, trie.step
        lhs_len, rhs_rev = self.lhs_len, self.rhs_rev
        states = [0]
        todo = list(word[::-1])
        steps: list[Step] = []
        s = 0
        while todo:
            c = todo.pop()
            t = goto[s].get(c)
            if t is None:
                t = step(s, c)
            r = hit[t]
            if r < 0:
                states.append(t)
                s = t
                continue
            k = lhs_len[r] - 1
            steps.append((r, len(states) - 1 - k, True))
            if k:
                del states[-k:]
            s = states[-1]
            todo.extend(rhs_rev[r])
        last = trie.last
        return "".join([last[t] for t in states]), steps

    # ------------------------------------------------------------- rules
    def _new(self, lhs: str, rhs: str, derivation: tuple[Step, ...]) -> int:
        store = self.store
        r = len(store.lhs)
        store.lhs.append(lhs)
        store.rhs.append(rhs)
        store.derivation.append(derivation)
        self.lhs_len.append(len(lhs))
        if len(lhs) > self.longest:
            self.longest = len(lhs)
        if len(rhs) > self.longest_rhs:
            self.longest_rhs = len(rhs)
        self.rhs_rev.append(rhs[::-1])
        return r

    def add(self, lhs: str, rhs: str, derivation: tuple[Step, ...]) -> None:
        """A new rule; ``lhs`` is irreducible by the alive rules."""
        r = self._new(lhs, rhs, derivation)
        store = self.store
        # Inter-reduce: alive left sides that contain the new one go back as equations.
        for s in sorted(x for x in self.containing(lhs) if lhs in store.lhs[x]):
            self.remove(s)
            self.pending.append((store.lhs[s], store.rhs[s], ((s, 0, True),)))
        self.alive.add(r)
        self.by_lhs[lhs] = r
        self.changed(self.trie, self.trie.add(lhs, r), False)  # r need not be a candidate
        self.unindexed[r] = None
        self.overlaps(r)
        self.unreversed[r] = None
        self.check_rules()

    def check_rules(self) -> None:
        if len(self.alive) > self.max_rules:
            raise _Stop(messages.completion_bound("max_rules", self.max_rules,
                                                  len(self.alive)))

    def seed(self) -> None:
        """The schema's equations as rules all at once (the first step, instead of one
        :meth:`join` each): oriented, one automaton built, and the left sides that
        contain others sent back as equations (with a repeated left side's extra
        equations). Pairs then come from the forward automaton alone — each ordered
        pair from its left rule — so the reversed trie and the factor index wait for
        the first later rule; a schema whose equations are already complete (the
        grid declared cell by cell) pays one pass over its equations.
        """
        pending, trie = self.pending, self.trie
        made: list[int] = []
        back: list[tuple[str, str, tuple[Step, ...]]] = []
        seen: set[str] = set()
        while pending:
            u, v, chain = pending.popleft()
            if u == v:
                continue
            if (len(u), u) < (len(v), v):
                u, v, chain = v, u, reverse(chain)
            if u in seen:
                back.append((u, v, chain))
                continue
            seen.add(u)
            r = self._new(u, v, chain)
            trie.add(u, r)
            made.append(r)
        trie._bump()
        inner = [r for r in made if self.contains_other(r)] if len(made) > 1 else []
        for r in inner:
            trie.remove(r)
            back.append((self.store.lhs[r], self.store.rhs[r], ((r, 0, True),)))
        if inner:
            trie._bump()
        inner_set = set(inner)
        for r in made:
            if r in inner_set:
                continue
            self.alive.add(r)
            self.by_lhs[self.store.lhs[r]] = r
            self.unindexed[r] = None
            self.unreversed[r] = None
        self.check_rules()
        for r in made:
            if r not in inner_set:
                self.overlaps_right(r)
        pending.extend(back)

    def contains_other(self, r: int) -> bool:
        """Whether rule ``r``'s left side contains another word of the trie."""
        trie = self.trie
        goto, hit, step = trie.goto, trie.hit, trie.step
        s = 0
        for c in self.store.lhs[r][:-1]:
            t = goto[s].get(c)
            s = step(s, c) if t is None else t
            if hit[s] >= 0:
                return True  # one ends here
        t = trie.node[r]
        trie.fresh(t)
        return hit[trie.fail[t]] >= 0  # one is a proper suffix

    def remove(self, r: int) -> None:
        lhs = self.store.lhs[r]
        self.alive.discard(r)
        del self.by_lhs[lhs]
        if r in self.unindexed:
            del self.unindexed[r]
        else:
            self.unindex(lhs, r)
        self.changed(self.trie, self.trie.remove(r), False)
        if r in self.unreversed:
            del self.unreversed[r]
        else:
            self.changed(self.rtrie, self.rtrie.remove(r), True)

    def reverse_all(self) -> None:
        """Put the alive left sides not yet in the reversed trie into it (done only when
        a new rule's overlaps need it: a lone rule never pays for its reversal)."""
        store, rtrie = self.store, self.rtrie
        for r in self.unreversed:
            self.changed(rtrie, rtrie.add(store.lhs[r][::-1], r), True)
        self.unreversed.clear()

    def index(self, lhs: str, r: int) -> None:
        """File ``r`` under the factors of its left side (lengths in ``_GRAMS``)."""
        grams = self.grams
        for g in _grams_of(lhs):
            ids = grams.get(g)
            if ids is None:
                grams[g] = {r}
            else:
                ids.add(r)

    def unindex(self, lhs: str, r: int) -> None:
        grams = self.grams
        for g in _grams_of(lhs):
            ids = grams.get(g)
            if ids is not None:
                ids.discard(r)
                if not ids:
                    del grams[g]

    def index_all(self) -> None:
        """File the alive rules not filed yet (done when the index is first needed
        after they came: a lone rule never pays for it)."""
        store = self.store
        for r in self.unindexed:
            self.index(store.lhs[r], r)
        self.unindexed.clear()

    def containing(self, factor: str):
        """At least the alive rules whose left side contains ``factor`` (non-empty)."""
        if self.unindexed:
            self.index_all()
        grams = self.grams
        k = _GRAMS[bisect.bisect(_GRAMS, len(factor)) - 1]  # the longest that fits
        best = grams.get(factor[:k], ())
        for i in range(1, len(factor) - k + 1):
            if len(best) < 2:
                break
            ids = grams.get(factor[i:i + k], ())
            if len(ids) < len(best):
                best = ids
        return best

    def changed(self, trie: _Trie, u: str, reversed_words: bool) -> None:
        """Invalidate what a change of ``trie`` (changed factor ``u``) can affect."""
        if len(u) < 2:
            trie.invalidate(u, ())
            return
        v = u[:-1]
        trie.invalidate(u, self.containing(v[::-1] if reversed_words else v))

    def join(self, u: str, v: str, chain: tuple[Step, ...]) -> None:
        """Make a rule of ``u = v`` (proved by ``chain``) unless its sides already join;
        the reduction steps are recorded (callers test cheaply first, when they can:
        a critical pair's sides are compared as stacks of states, see :meth:`run`)."""
        if u == v:
            return
        u2, a = self.reduce_steps(u)
        v2, b = self.reduce_steps(v)
        if u2 == v2:
            return
        chain = reverse(a) + chain + tuple(b)  # now from u2 to v2
        if (len(u2), u2) > (len(v2), v2):
            self.add(u2, v2, chain)
        else:
            self.add(v2, u2, reverse(chain))

    def settle(self) -> None:
        """Turn every pending equation into a rule, unless its sides already join."""
        pending = self.pending
        while pending:
            self.check_time()
            self.join(*pending.popleft())

    def check_time(self) -> None:
        if time.perf_counter() > self.deadline:
            raise _Stop(messages.completion_bound("max_seconds", self.max_seconds,
                                                  len(self.alive)))

    # ------------------------------------------------------------- overlaps
    def overlaps(self, r: int) -> None:
        """Queue the critical pairs of rule ``r`` with the alive rules and itself, less
        those whose overlap has a left side strictly inside it (see :meth:`leaves`)."""
        self.overlaps_right(r)
        store, rtrie = self.store, self.rtrie
        l1 = store.lhs[r]
        n = len(l1)
        # A proper prefix y of l1 ends l2:  l2 = x.y, l1 = y.z (r is not in rtrie yet:
        # its self-overlaps are all found by overlaps_right). Read backwards, the
        # overlap is l1 reversed, then x reversed: below y's state in the reversed trie.
        self.reverse_all()
        if rtrie.node:
            s0 = rtrie.read(l1[::-1])
            depth = rtrie.depth
            states = [s0] if 0 < depth[s0] < n else []  # a shared part, not all of l1
            states += rtrie.suffix_states(s0)
            lhs, rhs, low = store.lhs, store.rhs, self.low
            m = len(rhs[r])
            buckets = self.buckets_for(n, m)
            for u in states:
                d = depth[u]
                ids = rtrie.below[u]
                for s in (ids if len(ids) < _FEW else self.leaves(rtrie, u, s0)):
                    l2 = lhs[s]
                    w = n + len(l2) - d + max(0, len(rhs[s]) + m - d)  # its rank (module doc)
                    buckets[w].append((l2, l1, d))
                    if w < low:
                        low = w
            self.low = low

    def overlaps_right(self, r: int) -> None:
        """Queue the critical pairs with ``r`` on the left: a proper suffix y of l1
        begins l2 (``l1 = x.y``, ``l2 = y.z``), ``l2`` any alive rule, ``r`` included
        (less those with a left side strictly inside the overlap, see :meth:`leaves`)."""
        store, trie = self.store, self.trie
        l1 = store.lhs[r]
        n = len(l1)
        depth = trie.depth
        lhs, rhs, low = store.lhs, store.rhs, self.low
        m = len(rhs[r])
        buckets = self.buckets_for(n, m)
        t = trie.node[r]
        below = trie.below
        period = 0  # l1's least period, from its longest border (the first met)
        for u in trie.suffix_states(t):
            d = depth[u]
            if not period and r in below[u]:
                period = n - d
            ids = below[u]
            for s in (ids if len(ids) < _FEW else self.leaves(trie, u, t)):
                if s == r and n - d != period and self.inside_itself(l1, n - d, period):
                    continue  # composite: l1 itself lies strictly inside the overlap
                l2 = lhs[s]
                w = n + len(l2) - d + max(0, m + len(rhs[s]) - d)  # its rank (module doc)
                buckets[w].append((l1, l2, d))
                if w < low:
                    low = w
        self.low = low

    def buckets_for(self, n: int, m: int) -> list[deque[tuple[str, str, int]]]:
        """The queue's buckets, enough of them for any pair of a rule with sides of
        lengths ``n`` and ``m`` with an alive one (a shared part has a letter at least)."""
        buckets = self.buckets
        need = n + self.longest + m + self.longest_rhs
        if len(buckets) < need:
            buckets.extend([deque() for _ in range(need - len(buckets))])
        return buckets

    @staticmethod
    def inside_itself(word: str, shift: int, period: int) -> bool:
        """Whether ``word`` occurs strictly inside ``word[:shift] + word`` (its overlap
        with itself at the period ``shift``), given its least period.

        A multiple of the least period: the overlap has that period too, so the word
        occurs at the least period. Otherwise the strings tell.
        """
        if shift % period == 0:
            return True
        return (word[:shift] + word).find(word, 1) < shift  # found at ``shift`` at least

    @staticmethod
    def leaves(trie: _Trie, u: int, a: int) -> list[int]:
        """The words of ``trie`` below its state ``u`` whose rest (after ``u``), read
        from the current state ``a``, meets no word before its last letter.

        For an overlap ``w`` of ``l1`` (read up to state ``a``) with the left sides
        ``l2`` through ``u`` (``l1``'s part in them): those whose overlap has no other
        left side strictly inside — one met before the end cannot start at ``w``'s
        start (it would contain ``l1``; left sides are inter-reduced), and a word met
        inside a branch is inside every overlap below it, so the branch is cut there.
        Only branches of ``_FEW`` words or more are read; the words of a smaller one are
        kept untested (reading a branch costs more than testing its few pairs later).
        The others are connected below their overlap (Winkler–Buchberger) and need no
        critical pair; one is still dropped if, by its turn, a later rule lies inside.
        """
        goto, hit, step, kids, term = trie.goto, trie.hit, trie.step, trie.kids, trie.term
        below = trie.below
        found: list[int] = []
        todo = [(u, a)]
        pop, push = todo.pop, todo.append
        while todo:
            v, b = pop()
            for c, w in kids[v].items():
                if len(below[w]) < _FEW:  # kept untested (their pairs are tested when
                    found.extend(below[w])  # they come out of the queue)
                    continue
                if term[w] >= 0:
                    found.append(term[w])
                t = goto[b].get(c)
                if t is None:
                    t = step(b, c)
                if hit[t] < 0:
                    push((w, t))
        return found

    def composite(self, r: int, z: str) -> bool:
        """Whether the overlap ``w = x.y.z`` of ``lhs[r] = x.y`` and ``lhs[s] = y.z``
        has another left side strictly inside it (neither at its start nor at its end);
        ``z`` has two letters at least (else nothing can be strictly inside).

        Such a critical pair needs no reduction: it is connected below ``w`` through the
        two smaller overlaps with that inner rule (Winkler–Buchberger), which are
        processed in their turn; an inner rule that later dies leaves a smaller inner
        left side in its place. Reading ``z`` from ``lhs[r]``'s state finds it.
        """
        trie = self.trie
        t = trie.node[r]
        trie.fresh(t)
        goto, hit, step, lhs_len = trie.goto, trie.hit, trie.step, self.lhs_len
        e = lhs_len[r]
        for c in z[:-1]:
            u = goto[t].get(c)
            t = step(t, c) if u is None else u
            e += 1
            h = hit[t]
            if h >= 0 and e > lhs_len[h]:
                return True
        return False

    def run(self) -> None:
        if len(self.pending) <= self.max_rules:  # else one by one, to stop at the bound
            self.seed()
        self.settle()
        store, buckets, by_lhs = self.store, self.buckets, self.by_lhs
        trie_path, node, fresh = self.trie.path, self.trie.node, self.trie.fresh
        states, composite, join = self.states, self.composite, self.join
        i = 0
        while True:
            low = self.low
            while low < len(buckets) and not buckets[low]:
                low += 1
            if low >= len(buckets):
                break
            self.low = low
            bucket = buckets[low]
            pop = bucket.popleft
            while bucket and self.low == low:  # until a new rule queues a lower-ranked pair
                l1, l2, d = pop()
                r, s = by_lhs.get(l1), by_lhs.get(l2)
                if r is None or s is None:
                    continue  # a rule died: its equation came back, and its pairs with it
                i += 1
                if not i & 63:
                    self.check_time()
                z = l2[d:]
                if len(z) > 1:
                    if composite(r, z):
                        continue
                else:
                    fresh(node[r])  # as composite() does: l1's states are current
                p = len(l1) - d  # l1 = x.y, l2 = y.z with |x| = p:  r1.z = x.r2
                # x is a proper prefix of a left side, so irreducible, and its states are
                # that left side's first ones (current, see above).
                if states(z, None, r) != states(store.rhs[s], trie_path[r][:p + 1]):
                    join(store.rhs[r] + z, l1[:p] + store.rhs[s],
                         ((r, 0, False), (s, p, True)))
                    if self.pending:  # rules that the new one made reducible
                        self.settle()
        self.check_time()

    def finish(self) -> None:
        """Lazy inter-reduction's last step: every right side to its normal form."""
        store = self.store
        for r in sorted(self.alive):
            rhs = store.rhs[r]
            nf, steps = self.reduce_steps(rhs)
            if steps:
                lhs = store.lhs[r]
                new = self._new(lhs, nf, ((r, 0, True), *steps))
                self.alive.discard(r)
                self.alive.add(new)
                self.by_lhs[lhs] = new
                self.index_all()
                self.unindex(lhs, r)
                self.index(lhs, new)
                self.changed(self.trie, self.trie.rename(r, new), False)


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
    run.finish()
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
