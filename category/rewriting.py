"""Rewrite systems on typed words, and the automaton that indexes their left sides.

A path is a *typed word*: a string over the schema's arrows in which neighbours
compose; an identity is the empty word at its object. Inside the rewriting code a
word is a Python ``str`` with one character per arrow (``chr(i)`` for the arrow
declared ``i``-th), so factor search, slicing and comparison run at C speed and the
shortlex order is ``(len(w), w)``.

Left sides are indexed by an Aho–Corasick automaton: reading a word advances one
state per letter, and a state says which rule's left side (if any) ends there. So
reduction costs one table look-up per letter read, whatever the number of rules,
and the same automaton, with its matching states removed, accepts exactly the
irreducible words (see :mod:`category.morphisms`).

>>> from category import Schema
>>> S = Schema.parse("object X\\ns : X -> X\\ns.s = id(X)")
>>> R = S.completion()
>>> [str(r) for r in R.rules], R.is_confluent
(['s.s -> id(X)'], True)
>>> R.reduce(S.path("s.s.s"))
Path(s: X -> X)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from . import messages
from .core import Arrow, Ob, Path, _Frozen, _setter
from .errors import SchemaError, UnknownNameError


class Alphabet:
    """The bijection between a schema's arrows and the letters of its words.

    Letters follow declaration order, which is the deterministic arrow order of the
    shortlex ordering.
    """

    __slots__ = ("arrows", "code", "objects", "out", "ob_of_letter", "schema_name")

    def __init__(self, schema):
        self.arrows: tuple[Arrow, ...] = schema.arrows
        self.code: dict[Arrow, str] = {a: chr(i) for i, a in enumerate(self.arrows)}
        self.objects: tuple[Ob, ...] = schema.objects()
        # Letters leaving each object: the alphabet available after a letter ending there.
        self.out: dict[Ob, str] = {o: "".join(self.code[a] for a in schema.out_arrows(o))
                                   for o in self.objects}
        self.schema_name = schema.name

    def encode(self, path: Path) -> str:
        """The word of ``path``; an arrow not of this schema is an error."""
        try:
            return "".join(map(self.code.__getitem__, path.arrows))
        except KeyError as err:
            a = err.args[0]
            names = [b.name for b in self.arrows]
            if a.name in names:
                raise SchemaError(messages.foreign_value("arrow", repr(a), self.schema_name)) \
                    from None
            raise UnknownNameError(messages.unknown_name("arrow", a.name, self.schema_name,
                                                         names)) from None

    def decode(self, word: str, ob: Ob) -> Path:
        """The path of ``word``; ``ob`` is its domain (needed when the word is empty)."""
        if not word:
            return ob.id
        arrows = tuple(self.arrows[ord(c)] for c in word)
        return Path._unchecked(arrows[0].dom, arrows[-1].cod, arrows)

    def dom(self, word: str) -> Ob:
        return self.arrows[ord(word[0])].dom

    def cod(self, word: str) -> Ob:
        return self.arrows[ord(word[-1])].cod


class Rule(_Frozen):
    """A rewrite rule ``lhs -> rhs`` between parallel paths, ``lhs`` the larger in shortlex.

    >>> from category import Schema
    >>> S = Schema.parse("object X\\ns : X -> X\\ns.s = id(X)")
    >>> rule = S.completion().rules[0]
    >>> rule.lhs, rule.rhs
    (Path(s.s: X -> X), Path(id(X): X -> X))
    """

    __slots__ = ("lhs", "rhs")

    def __init__(self, lhs: Path, rhs: Path):
        _rule_lhs(self, lhs)
        _rule_rhs(self, rhs)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Rule) and (self.lhs, self.rhs) == (other.lhs, other.rhs)

    def __hash__(self) -> int:
        return hash(("Rule", self.lhs, self.rhs))

    def __str__(self) -> str:
        return f"{self.lhs} -> {self.rhs}"

    def __repr__(self) -> str:
        return f"Rule({self})"


_rule_lhs, _rule_rhs = (_setter(Rule, s) for s in Rule.__slots__)


class Automaton:
    """Aho–Corasick automaton over the left sides of some rules, typed by objects.

    State 0 is the root; every arrow has its own depth-1 state, so a state other than
    the root always knows its last letter and hence its object. ``delta[s]`` maps each
    letter that may follow state ``s`` to the next state; ``match[s]`` is ``None`` when
    no left side ends at ``s``, else ``(pops, reversed_rhs)`` for the reducer;
    ``rule_at[s]`` is the matching rule's index (for proofs).
    """

    __slots__ = ("delta", "match", "rule_at", "ob", "letter", "size")

    def __init__(self, alphabet: Alphabet, lhs: Sequence[str], rhs: Sequence[str]):
        children, letter, terminal = self._trie(alphabet, lhs)
        n = len(children)
        arrows = alphabet.arrows
        cod = {c: arrows[ord(c)].cod for c in alphabet.code.values()}
        ob: list[Ob | None] = [None] + [cod[c] for c in letter[1:]]
        delta: list[dict[str, int]] = [dict(children[0])] + [{}] * (n - 1)
        # A state whose failure target is the root moves as the root does on the
        # letters leaving its object; any other moves as its failure target does (the
        # same object: the target's word is a suffix of its own) — both copied at C
        # speed, then overridden by its children.
        root_row = {o: {c: delta[0][c] for c in out} for o, out in alphabet.out.items()}
        fail = [0] * n
        rule_at = [terminal[0]] + [-1] * (n - 1)
        order = list(children[0].values())  # breadth-first: a state after its fail state
        for s in order:
            rule_at[s] = terminal[s]
        for s in order:  # the list grows as it goes
            f = fail[s]
            f_row = delta[f]
            row = dict(f_row) if f else dict(root_row[ob[s]])
            kids = children[s]
            if kids:
                row.update(kids)
                for c, t in kids.items():
                    fail[t] = f_row[c]
                    rule_at[t] = terminal[t] if terminal[t] >= 0 else rule_at[fail[t]]
                    order.append(t)
            delta[s] = row
        self.delta = delta
        self.rule_at = rule_at
        by_rule = [(len(left) - 1, right[::-1]) for left, right in zip(lhs, rhs, strict=True)]
        self.match = [None if r < 0 else by_rule[r] for r in rule_at]
        self.ob = ob
        self.letter = letter
        self.size = n

    @staticmethod
    def _trie(alphabet: Alphabet, lhs: Sequence[str]):
        """The trie of the left sides: children, entering letter and rule per state (the
        first rule for a left side given twice); every arrow has its own depth-1 state."""
        children: list[dict[str, int]] = [{}]
        letter: list[str] = [""]
        terminal: list[int] = [-1]
        for c in alphabet.code.values():
            children[0][c] = len(children)
            children.append({})
            letter.append(c)
            terminal.append(-1)
        for i, word in enumerate(lhs):
            node = 0
            for j, c in enumerate(word):
                t = children[node].get(c)
                if t is None:  # the rest of the word is new: its states in one go
                    first = len(children)
                    k = len(word) - j
                    children.extend([{} for _ in range(k)])
                    for t, c2 in zip(range(first, first + k), word[j:]):
                        children[node][c2] = t
                        node = t
                    letter.extend(word[j:])
                    terminal.extend([-1] * k)
                    break
                node = t
            if terminal[node] < 0:
                terminal[node] = i
        return children, letter, terminal

    def reduce(self, word: str) -> str:
        """Leftmost-innermost normal form of ``word``: one table step per letter read."""
        delta, match = self.delta, self.match
        out: list[str] = []
        states = [0]
        todo = list(word)
        todo.reverse()
        pop, push_out, push_state = todo.pop, out.append, states.append
        while todo:
            c = pop()
            s = delta[states[-1]][c]
            m = match[s]
            if m is None:
                push_out(c)
                push_state(s)
                continue
            k, rhs_reversed = m
            if k:
                del out[-k:]
                del states[-k:]
            todo.extend(rhs_reversed)
        return "".join(out)

    def reduce_steps(self, word: str) -> tuple[str, list[tuple[int, int]]]:
        """Like :meth:`reduce`, also returning each step as ``(rule index, position)``."""
        delta, match, rule_at = self.delta, self.match, self.rule_at
        out: list[str] = []
        states = [0]
        todo = list(word)
        todo.reverse()
        steps: list[tuple[int, int]] = []
        while todo:
            c = todo.pop()
            s = delta[states[-1]][c]
            m = match[s]
            if m is None:
                out.append(c)
                states.append(s)
                continue
            k, rhs_reversed = m
            steps.append((rule_at[s], len(out) - k))
            if k:
                del out[-k:]
                del states[-k:]
            todo.extend(rhs_reversed)
        return "".join(out), steps


class RewriteSystem:
    """The rules a completion produced, with their index, for reducing paths.

    ``is_confluent`` is ``True`` when completion finished: every path then has exactly
    one normal form and two paths are equal exactly when their normal forms are. A
    system that stopped at a bound is still *sound* — each rule follows from the
    equations — so equal normal forms still prove equality; ``reason`` says which bound
    stopped it.
    """

    def __init__(self, alphabet: Alphabet, lhs: Sequence[str], rhs: Sequence[str],
                 ids: Sequence[int], derivations, *, is_confluent: bool,
                 reason: str = "", equations: Iterable = ()):
        self.alphabet = alphabet
        self._lhs = tuple(lhs)
        self._rhs = tuple(rhs)
        self._ids = tuple(ids)  # index in the completion's derivation store
        self._derivations = derivations
        self.equations = tuple(equations)
        self.is_confluent = is_confluent
        self.reason = reason
        self.automaton = Automaton(alphabet, self._lhs, self._rhs)
        self._rules: tuple[Rule, ...] | None = None
        self.memo: dict[str, object] = {}  # derived data (e.g. the irreducible-word graph)

    @property
    def rules(self) -> tuple[Rule, ...]:
        """The rules, as paths, ordered by their left sides in shortlex."""
        if self._rules is None:
            dec = self.alphabet.decode
            self._rules = tuple(Rule(dec(l, self.alphabet.dom(l)), dec(r, self.alphabet.dom(l)))
                                for l, r in zip(self._lhs, self._rhs, strict=True))
        return self._rules

    def __len__(self) -> int:
        return len(self._lhs)

    def reduce(self, path: Path) -> Path:
        """The normal form of ``path`` under these rules (its unique one if confluent)."""
        word = self.alphabet.encode(path)
        return self.alphabet.decode(self.automaton.reduce(word), path.dom)

    def reduce_word(self, word: str) -> str:
        return self.automaton.reduce(word)

    def __repr__(self) -> str:
        state = "confluent" if self.is_confluent else f"partial: {self.reason}"
        return f"RewriteSystem({len(self)} rules, {state})"

    def __str__(self) -> str:
        head = (f"{len(self)} rules, confluent" if self.is_confluent
                else f"{len(self)} rules, NOT confluent ({self.reason})")
        return "\n".join([head, *(f"  {r}" for r in self.rules)])
