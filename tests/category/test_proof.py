import pytest

from category import Equation, Proof, ProofError, ProofStep, Schema, check_proof

from .presentations import DIHEDRAL8, coxeter


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


def test_the_checker_refuses_paths_of_another_schema():
    S = cyclegan()
    other = Schema.parse("object A\nq : A -> A")
    with pytest.raises(Exception, match="unknown arrow 'q'"):
        check_proof(S, Proof(other.path("q"), other.path("q"), []))
