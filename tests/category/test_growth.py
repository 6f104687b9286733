import math
from collections import Counter

import pytest
from hypothesis import HealthCheck, assume, given, settings

from category import BoundError, Schema, Undecided
from category.growth import spectral_radius

from .presentations import DIHEDRAL8, FREE_LOOP, TWO_GENERATOR, coxeter, monoid, presentations

BOUNDS = {"max_seconds": 0.2, "max_rules": 300}


def brute_force_growth(S: Schema, n: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Every free path up to length n listed, grouped by its normal form."""
    paths = Counter(len(p) for p in S.paths(n))
    forms = {S.normal_form(p, **BOUNDS) for p in S.paths(n)}
    morphisms = Counter(len(p) for p in forms)
    return (tuple(morphisms[k] for k in range(n + 1)), tuple(paths[k] for k in range(n + 1)))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(presentations(max_objects=3, max_arrows=4, max_equations=3))
def test_growth_counts_equal_brute_force_listing(S):
    try:
        S.completion(**BOUNDS)
    except Undecided:
        assume(False)
    g = S.growth(5, **BOUNDS)
    assert (g.morphisms, g.paths) == brute_force_growth(S, 5)
    assert all(m <= p for m, p in zip(g.morphisms, g.paths))
    assert g.paths == tuple(S.count_paths(k) - (S.count_paths(k - 1) if k else 0)
                            for k in range(6))
    if S.is_finite(**BOUNDS):
        assert sum(g.morphisms) <= S.size(**BOUNDS)
        assert S.entropy(**BOUNDS).morphisms == 0.0


@settings(max_examples=40, deadline=None)
@given(presentations(max_objects=3, max_arrows=4, max_equations=3))
def test_entropy_is_the_growth_rate_of_the_counts(S):
    """log of the spectral radius against the counts' own rate, read off far out."""
    try:
        S.completion(**BOUNDS)
    except Undecided:
        assume(False)
    e = S.entropy(**BOUNDS)
    assert 0 <= e.morphisms <= e.paths + 1e-9 and e.difference >= 0
    g = S.growth(60, **BOUNDS)
    for rate, counts in ((e.morphisms, g.morphisms), (e.paths, g.paths)):
        if not sum(counts[40:]):  # no word that long: a finite set
            assert rate == 0
            continue
        # the counts over a window grow like exp(rate * k), up to a polynomial factor
        # (k + 1)^d, d < 4 here, which adds less than 4 log(55/45) / 10 < 0.09 per arrow
        estimate = (math.log(sum(counts[50:60])) - math.log(sum(counts[40:50]))) / 10
        assert estimate == pytest.approx(rate, abs=0.1)


def test_known_growth():
    S = Schema.parse(open("examples/cyclegan.schema").read())
    assert S.growth(3).morphisms == (2, 2, 0, 0)
    assert S.growth(3).ratios == (1.0, 1.0, 0.0, 0.0)
    free = Schema.parse(FREE_LOOP)
    assert free.growth(4).morphisms == free.growth(4).paths == (1, 1, 1, 1, 1)
    assert free.entropy().paths == 0.0  # one loop: one path per length, polynomial
    D8 = Schema.parse(DIHEDRAL8)
    g = D8.growth(6)
    assert sum(g.morphisms) == 8 == D8.size() and g.paths == tuple(2 ** k for k in range(7))
    e = D8.entropy()
    assert (e.morphisms, e.paths) == (0.0, pytest.approx(math.log(2)))
    assert e.difference == pytest.approx(math.log(2))
    S4 = coxeter(4)
    assert sum(S4.growth(6).morphisms) == 24  # the longest element of S4 has length 6


def test_entropy_of_an_infinite_monoid_with_a_big_complete_system():
    M = monoid("ab", *TWO_GENERATOR["abbb"])
    e = M.entropy()
    assert 0 < e.morphisms < math.log(2) == pytest.approx(e.paths)
    g = M.growth(30)
    rate = math.log(g.morphisms[30] / g.morphisms[20]) / 10
    assert rate == pytest.approx(e.morphisms, abs=0.05)


def test_golden_ratio_and_free_monoids():
    # a.a = id leaves the words alternating a's and b's singly: the Fibonacci growth of
    # the words without "aa"
    M = monoid("ab", ("aa", ""))
    assert M.entropy().morphisms == pytest.approx(math.log((1 + 5 ** 0.5) / 2))
    assert M.growth(6).morphisms == (1, 2, 3, 5, 8, 13, 21)
    assert spectral_radius([[0, 0, 0]], [0]) == 3.0


def test_growth_is_refused_without_a_complete_system_and_for_bad_lengths():
    braid = monoid("ab", ("aba", "bab"))
    with pytest.raises(Undecided):
        braid.growth(3, max_rules=20)
    S = Schema.parse(FREE_LOOP)
    for bad in (-1, 1.5, True):
        with pytest.raises(BoundError):
            S.growth(bad)


def test_growth_prints_as_a_table():
    S = Schema.parse(open("examples/cyclegan.schema").read())
    assert str(S.growth(2)).splitlines() == [
        "length     0  1  2",
        "morphisms  2  2  0",
        "paths      2  2  2",
        "ratio      1  1  0",
    ]
