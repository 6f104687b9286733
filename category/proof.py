"""Equality proofs: chains of equation applications, and their independent checker.

A proof that ``p = q`` is a list of steps; each step names one of the schema's
equations, the position in the current path where one of its sides occurs, and the
direction (``forward``: its left side is replaced by its right side). The completion
records how each rule was derived; :func:`expand` unfolds a rule chain into equation
steps, and :func:`check_proof` replays the steps using nothing but the schema's
equations — it trusts neither the completion nor the rewrite system.

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
from .errors import ProofError, SchemaError

DEFAULT_MAX_STEPS = 1_000_000


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


class Proof(_Frozen):
    """A chain of equation steps from ``source`` to ``target``; ``str`` shows every path."""

    __slots__ = ("source", "target", "steps")

    def __init__(self, source: Path, target: Path, steps):
        _pr_src(self, source)
        _pr_tgt(self, target)
        _pr_steps(self, tuple(steps))

    def paths(self) -> list[Path]:
        """The paths the chain passes through, ``source`` first (replayed, hence checked)."""
        return replay(self.source, self.steps)

    def __len__(self) -> int:
        return len(self.steps)

    def __str__(self) -> str:
        paths = self.paths()
        width = max(len(str(p)) for p in paths[1:]) if self.steps else 0
        lines = [str(self.source)]
        lines += [f"  = {str(p):<{width}}  {s}" for p, s in zip(paths[1:], self.steps, strict=True)]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"Proof({self.source} = {self.target}, {len(self.steps)} steps)"


_pr_src, _pr_tgt, _pr_steps = (_setter(Proof, s) for s in Proof.__slots__)


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

    Independent of the completion: it checks only that each step's equation is one of
    ``schema.equations`` and that the side it replaces occurs where the step says.
    Raises :class:`~category.ProofError` naming the first bad step otherwise.
    """
    source, target = schema._path(proof.source), schema._path(proof.target)
    equations = set(schema.equations)
    for i, step in enumerate(proof.steps):
        if step.equation not in equations:
            raise ProofError(messages.bad_step(i, str(step), "?",
                                               f"{step.equation} is not an equation of "
                                               f"schema {schema.name!r}"))
    end = replay(source, proof.steps)[-1]
    if end != target:
        raise ProofError(messages.proof_mismatch("end", str(target), str(end)))
    return True


def expand(store, chain, equations, max_steps: int = DEFAULT_MAX_STEPS) -> list[ProofStep]:
    """Unfold a chain of rule and equation steps into equation steps only.

    A rule refers only to rules made before it, so unfolding rules in increasing order
    needs no recursion; each rule's unfolding is kept for the later ones that use it.
    """
    needed: set[int] = set()
    stack = [ref for ref, _, _ in chain if ref >= 0]
    while stack:
        r = stack.pop()
        if r in needed:
            continue
        needed.add(r)
        stack.extend(ref for ref, _, _ in store.derivation[r] if ref >= 0)
    done: dict[int, list[tuple[int, int, bool]]] = {}

    def unfold(steps) -> list[tuple[int, int, bool]]:
        out: list[tuple[int, int, bool]] = []
        for ref, pos, fwd in steps:
            if ref < 0:
                out.append((-1 - ref, pos, fwd))
                continue
            sub = done[ref]
            if fwd:
                out.extend((e, pos + p, f) for e, p, f in sub)
            else:
                out.extend((e, pos + p, not f) for e, p, f in reversed(sub))
            if len(out) > max_steps:
                raise SchemaError(messages.proof_too_long(max_steps))
        return out

    for r in sorted(needed):
        done[r] = unfold(store.derivation[r])
    return [ProofStep(equations[e], p, f) for e, p, f in unfold(chain)]
