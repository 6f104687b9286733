import itertools

import pytest
from hypothesis import HealthCheck, given, settings

from category import Infinite, Schema, Undecided

from .presentations import (
    BRAID,
    DIHEDRAL8,
    FREE_LOOP,
    QUATERNION,
    coxeter,
    grid,
    presentations,
)

BOUNDS = {"max_seconds": 0.2, "max_rules": 500}


def test_cyclegan_has_exactly_four_morphisms():
    S = Schema.parse(open("examples/cyclegan.schema").read())
    assert S.is_finite() and S.size() == 4
    assert [str(p) for p in S.morphisms()] == ["id(Horse)", "id(Zebra)", "f", "g"]
    assert [str(p) for p in S.hom("Horse", "Zebra")] == ["f"]


@pytest.mark.parametrize("n, order", [(3, 6), (4, 24), (5, 120), (6, 720)])
def test_coxeter_presentations_of_symmetric_groups(n, order):
    S = coxeter(n)
    assert S.is_finite()
    assert S.size() == order
    listed = list(S.hom("X", "X"))
    assert len(listed) == order == len(set(listed))


@pytest.mark.parametrize("text", [DIHEDRAL8, QUATERNION])
def test_groups_of_order_eight(text):
    S = Schema.parse(text)
    assert S.size() == 8
    elements = list(S.hom("X", "X"))
    assert len(elements) == 8
    # Closed under composition, and every element has an inverse: a group.
    for p, q in itertools.product(elements, repeat=2):
        assert S.normal_form(p >> q) in elements
    X = S.objects()[0]
    for p in elements:
        assert any(S.equal(p >> q, X.id) for q in elements)


def test_quaternion_and_dihedral_differ():
    # Same order, different groups: Q8 has one element of order 2, D8 has five.
    def involutions(S):
        X = S.objects()[0]
        return sum(1 for p in S.hom(X, X) if not p.is_identity and S.equal(p >> p, X.id))

    assert involutions(Schema.parse(QUATERNION)) == 1
    assert involutions(Schema.parse(DIHEDRAL8)) == 5


def test_free_loop_is_infinite():
    S = Schema.parse(FREE_LOOP)
    assert not S.is_finite()
    with pytest.raises(Infinite, match=r"hom\(X, X\) in schema 'Loop' is infinite.*max_length"):
        S.hom("X", "X")
    with pytest.raises(Infinite):
        S.size()
    with pytest.raises(Infinite):
        S.morphisms()
    assert [str(p) for p in S.hom("X", "X", max_length=3)] == ["id(X)", "f", "f.f", "f.f.f"]
    assert len(list(S.morphisms(max_length=4))) == 5


def test_a_finite_hom_set_in_an_infinite_category():
    S = Schema.parse("object X, Y\nf : X -> X\ng : X -> Y\nh : Y -> Y\nh.h = id(Y)")
    assert not S.is_finite()
    assert [str(p) for p in S.hom("Y", "Y")] == ["id(Y)", "h"]
    assert [str(p) for p in S.hom("Y", "X")] == []
    with pytest.raises(Infinite):
        S.hom("X", "Y")
    assert [str(p) for p in S.hom("X", "Y", max_length=2)] == ["g", "f.g", "g.h"]


@pytest.mark.parametrize("n", [2, 3, 5, 8])
def test_grid_of_commuting_squares_is_thin(n):
    S = grid(n)
    for i, j, k, l in itertools.product(range(n), repeat=4):
        homs = list(S.hom(f"o{i}_{j}", f"o{k}_{l}"))
        comparable = i <= k and j <= l
        assert len(homs) == (1 if comparable else 0)
    assert S.size() == (n * (n + 1) // 2) ** 2


def test_hom_yields_in_length_order_without_repeats():
    S = coxeter(5)
    lengths = [len(p) for p in S.hom("X", "X")]
    assert lengths == sorted(lengths) and lengths[-1] == 10  # the longest element of S5


def test_hom_needs_a_confluent_system():
    with pytest.raises(Undecided, match="cannot enumerate morphisms"):
        Schema.parse(BRAID).hom("X", "X", max_length=2, max_seconds=0.1)


@pytest.mark.parametrize("ask", ["size", "is_finite", "hom"])
def test_undecided_finiteness_names_the_bound_once(ask):
    S = Schema.parse(BRAID)
    call = {"size": lambda: S.size(max_seconds=0.1),
            "is_finite": lambda: S.is_finite(max_seconds=0.1),
            "hom": lambda: S.hom("X", "X", max_seconds=0.1)}[ask]
    with pytest.raises(Undecided, match=r"; completion stopped at max_seconds=0.1 with \d+ rules"
                       ) as info:
        call()
    assert "completion completion" not in str(info.value)


def test_hom_bad_input():
    S = Schema.parse(FREE_LOOP)
    with pytest.raises(ValueError, match="max_length must be an int >= 0 or None"):
        S.hom("X", "X", max_length=-1)
    with pytest.raises(Exception, match="unknown object 'Y'"):
        S.hom("X", "Y")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(presentations())
def test_hom_lists_each_morphism_once(S):
    try:
        finite = S.is_finite(**BOUNDS)
    except Undecided:
        return
    listed = list(S.morphisms(**BOUNDS) if finite else S.morphisms(max_length=4, **BOUNDS))
    assert len(listed) == len(set(listed))
    for p in listed:
        assert S.normal_form(p, **BOUNDS) == p  # each is its own normal form
    if finite:
        assert S.size(**BOUNDS) == len(listed)
    # Every word short enough is equal to exactly one listed morphism (its normal form).
    for w in S.paths(3):
        n = S.normal_form(w, **BOUNDS)
        if finite or len(n) <= 4:
            assert n in listed
