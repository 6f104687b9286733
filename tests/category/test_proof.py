
import pytest

from category import (
    BoundError,
    Equation,
    Proof,
    ProofError,
    ProofStep,
    Schema,
    SchemaError,
    check_proof,
)
from category.proof import DEFAULT_MAX_STEPS, Lemma

from .presentations import DIHEDRAL8, TRIVIAL, coxeter, monoid


def cyclegan() -> Schema:
    return Schema.parse(open("examples/cyclegan.schema").read())


def test_a_proof_prints_every_path_and_step():
    S = cyclegan()
    proof = S.prove("f.g.f.g", "id(Horse)")
    assert str(proof).splitlines() == [
        "f.g.f.g",
        "  = f.g        by f.g = id(Horse) at 0, left to right",
        "  = id(Horse)  by f.g = id(Horse) at 0, left to right",
    ]
    assert [str(p) for p in proof.paths()] == ["f.g.f.g", "f.g", "id(Horse)"]
    assert repr(proof) == "Proof(f.g.f.g = id(Horse), 2 steps)"


def test_proofs_run_right_to_left_too():
    S = cyclegan()
    proof = S.prove("f", "f.g.f")
    assert any(not step.forward for step in proof.steps)
    assert check_proof(S, proof)


def test_the_checker_rejects_a_step_at_the_wrong_place():
    S = cyclegan()
    eq = S.equations[0]
    bad = Proof(S.path("f.g.f"), S.path("f"), [ProofStep(eq, 1, True)])
    with pytest.raises(ProofError, match=r"step 0 .* does not apply to f.g.f: f.g does not occur"):
        check_proof(S, bad)
    with pytest.raises(ProofError, match="position out of range"):
        check_proof(S, Proof(S.path("f"), S.path("f"), [ProofStep(eq, 5, True)]))


def test_the_checker_rejects_a_wrong_end():
    S = cyclegan()
    eq = S.equations[0]
    bad = Proof(S.path("f.g.f"), S.path("f.g.f"), [ProofStep(eq, 0, True)])
    with pytest.raises(ProofError, match="the proof's end is f but f.g.f was claimed"):
        check_proof(S, bad)


def test_the_checker_rejects_an_equation_of_another_schema():
    S = cyclegan()
    H, Z = S.objects()
    f, g = S.arrows
    foreign = Equation(f >> g >> f, f)  # true in S, but not one of its equations
    with pytest.raises(ProofError, match="is not an equation of schema 'CycleGAN'"):
        check_proof(S, Proof(S.path("f.g.f"), S.path("f"), [ProofStep(foreign, 0, True)]))


def test_the_checker_types_identity_insertions():
    # Inserting f.g (= id(Horse)) is only valid where the path is at Horse.
    S = cyclegan()
    eq = S.equations[0]
    ok = Proof(S.path("f"), S.path("f.g.f"), [ProofStep(eq, 0, False)])
    assert check_proof(S, ok)
    wrong = Proof(S.path("f"), S.path("f"), [ProofStep(eq, 1, False)])
    with pytest.raises(ProofError, match="the object there is Zebra, not Horse"):
        check_proof(S, wrong)


def test_long_derived_rules_unfold_into_equation_steps():
    # The dihedral rule r.r.r.s -> s.r is derived by completion, not given.
    D = Schema.parse(DIHEDRAL8)
    proof = D.prove("r.r.r.s", "s.r")
    assert check_proof(D, proof)
    assert all(step.equation in D.equations for step in proof.steps)
    S = coxeter(5)
    proof = S.prove("s4.s3.s2.s1.s4.s3.s2.s4.s3.s4", "s1.s2.s1.s3.s2.s1.s4.s3.s2.s1")
    assert check_proof(S, proof)


def test_proof_length_is_bounded():
    S = coxeter(5)
    with pytest.raises(Exception, match="max_steps=3"):
        S.prove("s4.s3.s2.s1.s4.s3.s2.s4.s3.s4", "s1.s2.s1.s3.s2.s1.s4.s3.s2.s1", max_steps=3)


def test_proves_max_steps_bounds_the_unfolding_of_the_proof_it_returns():
    # prove's max_steps used to bound only the steps held; .steps unfolded up to the
    # default 1,000,000 whatever the caller asked.
    S = coxeter(5)
    p, q = "s4.s3.s2.s1.s4.s3.s2.s4.s3.s4", "s1.s2.s1.s3.s2.s1.s4.s3.s2.s1"
    full = S.prove(p, q)
    assert full.size < len(full)  # lemmas: the unfolded chain is longer than the one held
    held = S.prove(p, q, max_steps=full.size)
    assert held == full  # the same proof, with a tighter bound on unfolding it
    with pytest.raises(SchemaError, match=f"max_steps={full.size} equation steps"):
        len(held.steps)
    with pytest.raises(SchemaError, match=f"max_steps={full.size} equation steps"):
        held.expanded()
    assert S.prove(p, q, max_steps=len(full)).steps == full.steps
    assert held.max_steps == full.size
    assert held.expanded(max_steps=len(full)).steps == full.steps
    # a bound above the default is the proof's too: it, not the default, refuses
    T = monoid("abc", *TRIVIAL)
    n = len(T.prove("c.b.b", "b.a"))
    assert n > DEFAULT_MAX_STEPS
    for bound in (20_000, n - 1):
        with pytest.raises(SchemaError, match=f"max_steps={bound} equation steps"):
            len(T.prove("c.b.b", "b.a", max_steps=bound).steps)


@pytest.mark.parametrize("bad", [-1, 2.5, "10", True, None])
def test_a_bad_max_steps_is_refused_where_it_is_given(bad):
    S = cyclegan()
    with pytest.raises(BoundError, match=rf"max_steps must be an int >= 0 .*got {bad!r}"):
        S.prove("f.g.f", "f", max_steps=bad)
    if bad is not None:  # expanded's None: the proof's own bound
        with pytest.raises(BoundError, match="max_steps must be an int >= 0"):
            S.prove("f.g.f", "f").expanded(max_steps=bad)


def test_the_checker_refuses_paths_of_another_schema():
    S = cyclegan()
    other = Schema.parse("object A\nq : A -> A")
    with pytest.raises(Exception, match="unknown arrow 'q'"):
        check_proof(S, Proof(other.path("q"), other.path("q"), []))


def test_proofs_cite_lemmas_instead_of_unfolding_them():
    # Issue 10: on this trivial monoid, c.b.b = b.a unfolds into tens of millions of
    # equation steps; citing the derived rules as lemmas keeps the proof small.
    S = monoid("abc", *TRIVIAL)
    assert S.size() == 1
    proof = S.prove("c.b.b", "b.a")
    assert check_proof(S, proof)
    assert proof.lemmas and proof.size < 1_000
    assert len(proof) > 1_000_000  # counted, not unfolded
    assert "lemmas" in repr(proof) and str(proof).startswith("lemma 1: ")
    with pytest.raises(SchemaError, match="max_steps=1000000"):
        len(proof.steps)
    with pytest.raises(SchemaError, match="max_steps=10"):
        S.prove("c.b.b", "b.a", max_steps=10)


def test_an_unfolded_proof_is_the_same_chain_of_equation_steps():
    S = coxeter(5)
    proof = S.prove("s4.s3.s2.s1.s4.s3.s2.s4.s3.s4", "s1.s2.s1.s3.s2.s1.s4.s3.s2.s1")
    flat = proof.expanded()
    assert not flat.lemmas and flat.steps == proof.steps and len(flat) == len(proof)
    assert all(step.equation in S.equations for step in flat.steps)
    assert check_proof(S, flat) and check_proof(S, proof)
    assert flat.paths()[-1] == proof.paths()[-1] == proof.target


def lemma_proof():
    # a.a = id and b = a.a.b.a.a, proved through the lemma a.a.a.a = id(X) (used twice).
    S = Schema.parse("object X\na, b : X -> X\na.a = id(X)\n")
    (aa,) = S.equations
    X = S["X"]
    a4 = Equation(S.path("a.a.a.a"), X.id)
    lemma = Lemma(a4, [ProofStep(aa, 0, True), ProofStep(aa, 0, True)])
    chain = [ProofStep(a4, 0, True), ProofStep(a4, 0, False)]
    return S, a4, lemma, Proof(S.path("a.a.a.a"), S.path("a.a.a.a"), chain, [lemma])


def test_lemmas_are_checked_once_and_unfold_with_their_positions():
    S, a4, lemma, proof = lemma_proof()
    assert check_proof(S, proof)
    assert len(proof) == 4 and proof.size == 4
    assert [(s.position, s.forward) for s in proof.steps] == [
        (0, True), (0, True), (0, False), (0, False)]
    assert "lemma 1: a.a.a.a = id(X)" in str(proof)
    assert "by lemma 1 (a.a.a.a = id(X)) at 0, right to left" in str(proof)


def test_the_checker_rejects_a_bad_lemma():
    S, a4, lemma, proof = lemma_proof()
    (aa,) = S.equations
    wrong = Lemma(a4, [ProofStep(aa, 0, True)])  # ends at a.a, not id(X)
    with pytest.raises(ProofError, match=r"end \(in lemma 1, a.a.a.a = id\(X\)\) is a.a"):
        check_proof(S, Proof(proof.source, proof.target, proof.chain, [wrong]))
    # A lemma may not cite itself, nor a later one.
    circular = Lemma(a4, [ProofStep(a4, 0, True)])
    with pytest.raises(ProofError, match="is not an equation of schema"):
        check_proof(S, Proof(proof.source, proof.target, proof.chain, [circular]))
    # Without its lemma, the chain cites an equation the schema does not have.
    with pytest.raises(ProofError, match="is not an equation of schema"):
        check_proof(S, Proof(proof.source, proof.target, proof.chain))
