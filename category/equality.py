"""Deciding equality of paths from a (possibly partial) completed rewrite system.

Soundness is the rule: equal normal forms prove equality under *any* set of rules
derived from the equations, so ``equal`` answers ``True`` even from a completion that
stopped at a bound. Different normal forms prove inequality only in a confluent
system; otherwise the answer is :class:`~category.Undecided`, never a guess.

>>> from category import Schema
>>> S = Schema.parse(open("examples/cyclegan.schema").read())
>>> S.equal("f.g.f", "f"), S.equal("f.g", "id(Horse)"), S.equal("f", "f.g.f.g.f")
(True, True, True)
>>> S.normal_form("g.f.g.f.g")
Path(g: Zebra -> Horse)
"""

from __future__ import annotations

from . import messages
from .completion import DEFAULT_MAX_RULES, DEFAULT_MAX_SECONDS, cached_completion
from .core import Ob, Path, as_path
from .errors import SchemaError, Undecided
from .proof import DEFAULT_MAX_STEPS, Proof, check_max_steps, from_rules


def _word(schema, system, p) -> tuple[str, Path]:
    """Validate ``p`` against ``schema`` and encode it: one dict look-up per arrow."""
    path = schema.path(p) if isinstance(p, (str, Ob)) else as_path(p)
    if not path.arrows:
        schema.ob(path.dom)
    return system.alphabet.encode(path), path


def _parallel(p: Path, q: Path) -> None:
    if p.dom != q.dom or p.cod != q.cod:
        raise SchemaError(messages.not_parallel(str(p), str(q), str(p.dom), str(p.cod),
                                                str(q.dom), str(q.cod)))


def normal_form(schema, p, max_rules: int = DEFAULT_MAX_RULES,
                max_seconds: float = DEFAULT_MAX_SECONDS) -> Path:
    """The normal form of ``p``: unique for its morphism when completion is confluent.

    From a partial system it is still a path equal to ``p``, but not canonical, so it
    raises :class:`Undecided` instead.
    """
    system = cached_completion(schema, max_rules, max_seconds)
    word, path = _word(schema, system, p)
    if not system.is_confluent:
        raise Undecided(messages.completion_stopped(schema.name, system.reason, system.rules),
                        system)
    return system.alphabet.decode(system.automaton.reduce(word), path.dom)


def equal(schema, p, q, max_rules: int = DEFAULT_MAX_RULES,
          max_seconds: float = DEFAULT_MAX_SECONDS) -> bool:
    """``True`` if ``p = q`` follows from the equations, ``False`` if it provably does not."""
    system = cached_completion(schema, max_rules, max_seconds)
    wp, p = _word(schema, system, p)
    wq, q = _word(schema, system, q)
    _parallel(p, q)
    if wp == wq:
        return True
    reduce = system.automaton.reduce
    np, nq = reduce(wp), reduce(wq)
    if np == nq:
        return True
    if system.is_confluent:
        return False
    dec = system.alphabet.decode
    raise Undecided(messages.undecided_pair(str(p), str(q), str(dec(np, p.dom)),
                                            str(dec(nq, q.dom)), system.reason), system)


def prove(schema, p, q, max_rules: int = DEFAULT_MAX_RULES,
          max_seconds: float = DEFAULT_MAX_SECONDS,
          max_steps: int = DEFAULT_MAX_STEPS) -> Proof:
    """A chain of equation steps from ``p`` to ``q`` (see :mod:`category.proof`).

    Raises :class:`SchemaError` when ``p`` and ``q`` are provably different and
    :class:`Undecided` when the (partial) rules cannot join them. ``max_steps`` bounds
    the steps the proof holds and, carried by it, their unfolding (``proof.steps``).
    """
    check_max_steps(max_steps)
    system = cached_completion(schema, max_rules, max_seconds)
    wp, p = _word(schema, system, p)
    wq, q = _word(schema, system, q)
    _parallel(p, q)
    auto = system.automaton
    np, a = auto.reduce_steps(wp)
    nq, b = auto.reduce_steps(wq)
    if np != nq:
        dec = system.alphabet.decode
        shown = str(dec(np, p.dom)), str(dec(nq, q.dom))
        if system.is_confluent:
            raise SchemaError(messages.not_equal(str(p), str(q), *shown))
        raise Undecided(messages.undecided_pair(str(p), str(q), *shown, system.reason), system)
    ids = system._ids
    chain = [(ids[r], pos, True) for r, pos in a]
    chain += [(ids[r], pos, False) for r, pos in reversed(b)]
    alphabet = system.alphabet
    return from_rules(system._derivations, (p, q, chain), system.equations,
                      lambda w, lhs: alphabet.decode(w, alphabet.dom(lhs)), max_steps)
