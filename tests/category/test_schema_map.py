import pytest

from category import Schema, SchemaError, SchemaMap, UnknownNameError

from .presentations import DIHEDRAL8


def cyclegan() -> Schema:
    return Schema.parse(open("examples/cyclegan.schema").read())


def involution() -> Schema:
    return Schema.parse(open("examples/involution.schema").read())


def test_a_functor_checks_clean_and_maps_paths():
    F = SchemaMap(involution(), cyclegan(), ob={"X": "Horse"}, ar={"s": "f.g"})
    assert F.check() == []
    assert str(F(F.source.path("s.s.s"))) == "f.g.f.g.f.g"
    assert F(F.source["X"].id) == F.target["Horse"].id


def test_every_failure_is_listed():
    T = Schema.parse(DIHEDRAL8)
    S = Schema.parse("object A, B\nu : A -> A\nv : A -> A\nw : A -> B\nu.u = id(A)\nv.v = u")
    F = SchemaMap(S, T, ob={"A": "X"}, ar={"u": "r", "v": "r"})
    failures = F.check()
    assert failures == [
        "object B has no image",
        "arrow w has no image",
        "equation u.u = id(A) goes to r.r = id(X), which does not hold in D8",
        "equation v.v = u goes to r.r = r, which does not hold in D8",
    ]


def test_wrong_endpoints():
    F = SchemaMap(involution(), cyclegan(), ob={"X": "Horse"}, ar={"s": "f"})
    assert F.check() == ["arrow s : X -> X goes to f : Horse -> Zebra, but it must go "
                         "Horse -> Horse"]


def test_undecided_equations_are_failures_not_guesses():
    T = Schema.parse("object X\na, b : X -> X\na.b.a = b.a.b")
    S = Schema.parse("object Y\nx : Y -> Y\nx.x = id(Y)")
    failures = SchemaMap(S, T, ob={"Y": "X"}, ar={"x": "a.b"}).check(max_seconds=0.1)
    assert len(failures) == 1 and "could not be decided" in failures[0]


def test_bad_keys_and_values_are_refused_where_they_enter():
    S, T = involution(), cyclegan()
    with pytest.raises(UnknownNameError, match="unknown object 'Y'"):
        SchemaMap(S, T, ob={"Y": "Horse"})
    with pytest.raises(UnknownNameError, match="unknown object 'Hrose'"):
        SchemaMap(S, T, ob={"X": "Hrose"})
    with pytest.raises(SchemaError, match="unknown arrow 'k'"):
        SchemaMap(S, T, ar={"s": "f.k"})
    with pytest.raises(SchemaError, match="expected an arrow name of schema 'Involution'"):
        SchemaMap(S, T, ar={"X": "f"})
    with pytest.raises(SchemaError, match="not the one declared"):
        SchemaMap(S, T, ar={"s": Schema.parse("object Zebra, Horse\nf : Zebra -> Horse")["f"]})
    with pytest.raises(SchemaError, match="arrow s has no image"):
        SchemaMap(S, T, ob={"X": "Horse"})(S.path("s"))
