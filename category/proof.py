"""Equality proofs: chains of equation applications, and their independent checker.

A proof that ``p = q`` is a chain of steps; each step names an equation, the position
in the current path where one of its sides occurs, and the direction (``forward``: its
left side is replaced by its right side). The equation is one of the schema's, or a
*lemma* of the proof: a derived equation with its own chain, whose steps use the
schema's equations and earlier lemmas only. Lemmas are how a proof stays small: the
completion records how each rule was derived, and a proof cites the rules it uses as
lemmas, each proved once, instead of unfolding every use into equation steps (which
can multiply into millions). :func:`check_proof` replays each lemma once and then the
chain, using nothing but the schema's equations — it trusts neither the completion nor
the rewrite system.

``len(proof)`` is the length of the fully unfolded chain (counted, not unfolded);
``proof.steps`` unfolds it into equation steps, and ``proof.expanded()`` gives the same
proof without lemmas.

>>> from category import Schema
>>> S = Schema.parse(open("examples/cyclegan.schema").read())
>>> proof = S.prove("f.g.f", "f")
>>> print(proof)
f.g.f
  = f          by f.g = id(Horse) at 0, left to right
>>> check_proof(S, proof)
True
"""

from __future__ import annotations

from . import messages
from .core import Arrow, Equation, Path, _Frozen, _setter
from .errors import BoundError, ProofError, SchemaError

DEFAULT_MAX_STEPS = 1_000_000


def check_max_steps(value: object) -> int:
    """``value`` if it is a valid ``max_steps`` (an int >= 0), else :class:`BoundError`."""
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise BoundError(messages.bad_max_steps(value))
    return value


class ProofStep(_Frozen):
    """Replace an occurrence of one side of ``equation`` at ``position`` by the other."""

    __slots__ = ("equation", "position", "forward")

    def __init__(self, equation: Equation, position: int, forward: bool):
        _st_eq(self, equation)
        _st_pos(self, position)
        _st_fwd(self, forward)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ProofStep) and (
            (self.equation, self.position, self.forward)
            == (other.equation, other.position, other.forward))

    def __hash__(self) -> int:
        return hash((self.equation, self.position, self.forward))

    def __str__(self) -> str:
        way = "left to right" if self.forward else "right to left"
        return f"by {self.equation} at {self.position}, {way}"

    def __repr__(self) -> str:
        return f"ProofStep({self})"


_st_eq, _st_pos, _st_fwd = (_setter(ProofStep, s) for s in ProofStep.__slots__)


class Lemma(_Frozen):
    """A derived equation ``statement`` with the chain of ``steps`` that proves it
    (from ``statement.lhs`` to ``statement.rhs``)."""

    __slots__ = ("statement", "steps")

    def __init__(self, statement: Equation, steps):
        _lm_stmt(self, statement)
        _lm_steps(self, tuple(steps))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Lemma) and (self.statement, self.steps) == (
            other.statement, other.steps)

    def __hash__(self) -> int:
        return hash(("Lemma", self.statement, self.steps))

    def __repr__(self) -> str:
        return f"Lemma({self.statement}, {len(self.steps)} steps)"


_lm_stmt, _lm_steps = (_setter(Lemma, s) for s in Lemma.__slots__)


class Proof(_Frozen):
    """A chain of steps from ``source`` to ``target``, citing ``lemmas`` (if any).

    ``chain`` is the chain as given: its steps use the schema's equations and the
    statements of ``lemmas``; each lemma's steps use the equations and earlier lemmas.
    ``len(proof)`` counts the equation steps of the unfolded chain, ``size`` the steps
    actually held (what :func:`check_proof` replays), ``steps`` unfolds the chain.
    ``max_steps`` bounds that unfolding (``Schema.prove`` passes its own ``max_steps``);
    it is a limit, not part of the proof, so proofs compare without it.
    """

    __slots__ = ("source", "target", "chain", "lemmas", "max_steps", "_cache")

    def __init__(self, source: Path, target: Path, steps, lemmas=(),
                 max_steps: int = DEFAULT_MAX_STEPS):
        _pr_src(self, source)
        _pr_tgt(self, target)
        _pr_chain(self, tuple(steps))
        _pr_lemmas(self, tuple(lemmas))
        _pr_max(self, check_max_steps(max_steps))
        _pr_cache(self, {})

    @property
    def steps(self) -> tuple[ProofStep, ...]:
        """The chain unfolded into the schema's equation steps only.

        Refused (:class:`SchemaError`) above :attr:`max_steps` steps (the ``max_steps``
        of ``Schema.prove``, default ``DEFAULT_MAX_STEPS``): use :meth:`expanded` with a
        larger ``max_steps`` to unfold such a proof on purpose.
        """
        if not self.lemmas:
            return self.chain
        if "steps" not in self._cache:
            self._cache["steps"] = self.expanded().chain
        return self._cache["steps"]

    def expanded(self, max_steps: int | None = None) -> Proof:
        """The same proof with every lemma unfolded: equation steps only; refused above
        ``max_steps`` steps (default: this proof's :attr:`max_steps`)."""
        max_steps = self.max_steps if max_steps is None else check_max_steps(max_steps)
        if not self.lemmas:
            return self
        if len(self) > max_steps:
            raise SchemaError(messages.proof_too_long(max_steps))
        index = {lemma.statement: i for i, lemma in enumerate(self.lemmas)}
        done: list[list[ProofStep]] = []

        def unfold(steps) -> list[ProofStep]:
            out: list[ProofStep] = []
            for step in steps:
                i = index.get(step.equation)
                if i is None or i >= len(done):
                    out.append(step)
                    continue
                pos = step.position
                if step.forward:
                    out.extend(ProofStep(t.equation, pos + t.position, t.forward)
                               for t in done[i])
                else:
                    out.extend(ProofStep(t.equation, pos + t.position, not t.forward)
                               for t in reversed(done[i]))
            return out

        for lemma in self.lemmas:
            done.append(unfold(lemma.steps))
        return Proof(self.source, self.target, unfold(self.chain), max_steps=max_steps)

    @property
    def size(self) -> int:
        """The steps this proof holds: its chain and its lemmas' chains."""
        return len(self.chain) + sum(len(lemma.steps) for lemma in self.lemmas)

    def paths(self) -> list[Path]:
        """The paths the chain passes through, ``source`` first (replayed, hence checked)."""
        return replay(self.source, self.chain)

    def __len__(self) -> int:
        if "length" not in self._cache:
            index = {lemma.statement: i for i, lemma in enumerate(self.lemmas)}
            counts: list[int] = []

            def count(steps) -> int:
                total = 0
                for step in steps:
                    i = index.get(step.equation)
                    total += 1 if i is None or i >= len(counts) else counts[i]
                return total

            for lemma in self.lemmas:
                counts.append(count(lemma.steps))
            self._cache["length"] = count(self.chain)
        return self._cache["length"]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Proof) and (
            (self.source, self.target, self.chain, self.lemmas)
            == (other.source, other.target, other.chain, other.lemmas))

    def __hash__(self) -> int:
        return hash(("Proof", self.source, self.target, self.chain, self.lemmas))

    def __str__(self) -> str:
        lines = []
        names = {}
        for i, lemma in enumerate(self.lemmas, 1):
            names[lemma.statement] = f"lemma {i}"
            lines.append(f"lemma {i}: {lemma.statement}")
            lines += _show(lemma.statement.lhs, lemma.steps, names, "    ")
        if self.lemmas:
            lines.append("proof:")
        lines += _show(self.source, self.chain, names, "")
        return "\n".join(lines)

    def __repr__(self) -> str:
        held = f", {len(self.lemmas)} lemmas, {self.size} steps held" if self.lemmas else ""
        return f"Proof({self.source} = {self.target}, {len(self)} steps{held})"


_pr_src, _pr_tgt, _pr_chain, _pr_lemmas, _pr_max, _pr_cache = (_setter(Proof, s)
                                                               for s in Proof.__slots__)


def _show(source: Path, steps, names: dict, indent: str) -> list[str]:
    paths = replay(source, steps)
    width = max(len(str(p)) for p in paths[1:]) if steps else 0
    lines = [f"{indent}{source}"]
    for p, step in zip(paths[1:], steps, strict=True):
        name = names.get(step.equation)
        shown = str(step) if name is None else f"by {name} ({step.equation}) at " \
            f"{step.position}, {'left to right' if step.forward else 'right to left'}"
        lines.append(f"{indent}  = {str(p):<{width}}  {shown}")
    return lines


def _apply(word: tuple[Arrow, ...], dom, step: ProofStep, index: int) -> tuple[Arrow, ...]:
    eq, pos = step.equation, step.position
    old, new = (eq.lhs, eq.rhs) if step.forward else (eq.rhs, eq.lhs)
    shown = str(Path._unchecked(dom, dom, word)) if word else f"id({dom})"
    if not isinstance(pos, int) or not 0 <= pos <= len(word) - len(old):
        raise ProofError(messages.bad_step(index, str(step), shown, "position out of range"))
    if word[pos:pos + len(old)] != old.arrows:
        raise ProofError(messages.bad_step(index, str(step), shown, f"{old} does not occur there"))
    here = dom if pos == 0 else word[pos - 1].cod
    if here != old.dom:  # matters for an identity side: it must sit at its own object
        raise ProofError(messages.bad_step(index, str(step), shown,
                                           f"the object there is {here}, not {old.dom}"))
    return word[:pos] + new.arrows + word[pos + len(old):]


def replay(source: Path, steps) -> list[Path]:
    """Apply ``steps`` to ``source``; every intermediate path, or :class:`ProofError`."""
    word, dom, cod = source.arrows, source.dom, source.cod
    out = [source]
    for i, step in enumerate(steps):
        word = _apply(word, dom, step, i)
        out.append(Path._unchecked(dom, cod, word))
    return out


def check_proof(schema, proof: Proof) -> bool:
    """``True`` if ``proof`` turns its source into its target by the schema's equations.

    Independent of the completion: it checks that each lemma's chain turns the lemma's
    left side into its right side using the schema's equations and earlier lemmas only,
    then the proof's chain likewise — each step's equation must be one of
    ``schema.equations`` or a lemma's statement, and the side it replaces must occur
    where the step says. Each lemma is replayed once, however often it is cited.
    Raises :class:`~category.ProofError` naming the first bad step otherwise.
    """
    source, target = schema.path(proof.source), schema.path(proof.target)
    known = set(schema.equations)

    def check(steps, start: Path, end: Path, what: str) -> None:
        for i, step in enumerate(steps):
            if step.equation not in known:
                raise ProofError(messages.bad_step(i, str(step), "?",
                                                   f"{step.equation} is not an equation of "
                                                   f"schema {schema.name!r}{what}"))
        got = replay(start, steps)[-1]
        if got != end:
            raise ProofError(messages.proof_mismatch(f"end{what}", str(end), str(got)))

    for i, lemma in enumerate(proof.lemmas, 1):
        statement = lemma.statement
        lhs, rhs = schema.path(statement.lhs), schema.path(statement.rhs)
        check(lemma.steps, lhs, rhs, f" (in lemma {i}, {statement})")
        known.add(statement)
    check(proof.chain, source, target, "")
    return True


def from_rules(store, chain, equations, decode, max_steps: int = DEFAULT_MAX_STEPS) -> Proof:
    """A proof from a chain of rule and equation steps, citing the rules it needs as
    lemmas (``Proof.expanded`` unfolds them).

    ``chain`` is ``(source, target, steps)``; a step is ``(reference, position,
    forward)``, a reference ``i >= 0`` rule ``i`` of ``store``, ``-1 - j`` equation
    ``j``; ``decode(word)`` is the path of a left or right side. Rules are unfolded
    where that costs nothing: a rule derived in one step is replaced by that step, and
    a rule cited only once is spelled out where it is cited. Every other rule becomes a
    lemma, proved once. ``max_steps`` bounds the steps the proof holds, and is the
    proof's bound on unfolding them (:attr:`Proof.max_steps`).
    """
    source, target, top = chain
    derivation = store.derivation
    single: dict[int, tuple[int, int, bool]] = {}

    def resolve(step):
        ref, pos, fwd = step
        while ref in single:
            ref, p, f = single[ref]
            pos, fwd = pos + p, (f if fwd else not f)
        return ref, pos, fwd

    needed: set[int] = set()
    todo = [ref for ref, _, _ in top if ref >= 0]
    while todo:
        r = todo.pop()
        if r not in needed:
            needed.add(r)
            todo.extend(ref for ref, _, _ in derivation[r] if ref >= 0)
    steps_of: dict[int, list[tuple[int, int, bool]]] = {}
    for r in sorted(needed):
        steps = [resolve(step) for step in derivation[r]]
        if len(steps) == 1:
            single[r] = steps[0]
        else:
            steps_of[r] = steps
    top = [resolve(step) for step in top]
    # Citations, counted from the chain down through the rules still cited.
    cited: dict[int, int] = {}
    todo = [ref for ref, _, _ in top if ref >= 0]
    while todo:
        r = todo.pop()
        cited[r] = cited.get(r, 0) + 1
        if cited[r] == 1:
            todo.extend(ref for ref, _, _ in steps_of[r] if ref >= 0)
    kept = sorted(r for r, n in cited.items() if n > 1)
    spelled: dict[int, list[tuple[int, int, bool]]] = {}

    def unfold(steps) -> list[tuple[int, int, bool]]:
        out: list[tuple[int, int, bool]] = []
        for ref, pos, fwd in steps:
            sub = spelled.get(ref)
            if sub is None:
                out.append((ref, pos, fwd))
            elif fwd:
                out.extend((e, pos + p, f) for e, p, f in sub)
            else:
                out.extend((e, pos + p, not f) for e, p, f in reversed(sub))
        return out

    for r in sorted(cited):
        if cited[r] == 1:
            spelled[r] = unfold(steps_of[r])
    lhs, rhs = store.lhs, store.rhs
    statements = {r: Equation(decode(lhs[r], lhs[r]), decode(rhs[r], lhs[r])) for r in kept}

    def as_steps(steps) -> list[ProofStep]:
        return [ProofStep(equations[-1 - ref] if ref < 0 else statements[ref], pos, fwd)
                for ref, pos, fwd in steps]

    lemmas = [Lemma(statements[r], as_steps(unfold(steps_of[r]))) for r in kept]
    proof = Proof(source, target, as_steps(unfold(top)), lemmas, max_steps)
    if proof.size > max_steps:
        raise SchemaError(messages.proof_too_long(max_steps))
    return proof
