import itertools

import networkx as nx
from hypothesis import HealthCheck, given, settings

from category import Schema, Undecided

from .presentations import coxeter, grid, presentations

BOUNDS = {"max_seconds": 0.2, "max_rules": 500}


def names(S):
    return [a.name for a in S.arrows]


def test_a_composite_arrow_is_dropped():
    S = Schema.parse("object A, B, C\nf : A -> B\ng : B -> C\nh : A -> C\nf.g = h")
    R = S.transitive_reduction()
    assert names(R) == ["f", "g"] and R.equations == ()
    assert R.arrows == S.arrows[:2]  # the same Arrow values
    assert R.objects() == S.objects()


def test_equations_are_rewritten_through_the_removed_arrow():
    S = Schema.parse("object A, B, C\nf : A -> B\ng : B -> C\nh : A -> C\nk : C -> A\n"
                     "h = f.g\nh.k = id(A)")
    R = S.transitive_reduction()
    assert names(R) == ["f", "g", "k"]
    assert [str(e) for e in R.equations] == ["f.g.k = id(A)"]
    # Same category: as many morphisms between each pair of objects.
    assert S.is_finite() and R.is_finite() and S.size() == R.size() == 12
    for A, B in itertools.product(S.objects(), repeat=2):
        assert len(list(S.hom(A, B))) == len(list(R.hom(A, B)))


def test_arrows_equal_to_other_arrows_or_identities_are_dropped():
    S = Schema.parse("object A, B\nf, g : A -> B\ne : A -> A\nf = g\ne = id(A)")
    R = S.transitive_reduction()
    assert names(R) == ["f"] and R.equations == ()


def test_nothing_is_redundant_in_cyclegan_the_grid_or_coxeter():
    for S in (Schema.parse(open("examples/cyclegan.schema").read()), grid(4), coxeter(4)):
        R = S.transitive_reduction()
        assert R.arrows == S.arrows and R.equations == S.equations


def test_chains_of_redundancy_substitute_fully():
    S = Schema.parse("object A, B, C, D\nf : A -> B\ng : B -> C\nh : C -> D\n"
                     "fg : A -> C\nfgh : A -> D\nfg = f.g\nfgh = fg.h")
    R = S.transitive_reduction()
    assert names(R) == ["f", "g", "h"] and R.equations == ()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(presentations())
def test_reduction_presents_the_same_finite_category(S):
    try:
        finite = S.is_finite(**BOUNDS)
    except Undecided:
        return
    R = S.transitive_reduction(**BOUNDS)
    assert set(R.arrows) <= set(S.arrows)
    try:
        same = R.is_finite(**BOUNDS) == finite
    except Undecided:
        return
    assert same
    if finite:
        for A, B in itertools.product(S.objects(), repeat=2):
            assert len(list(S.hom(A, B, **BOUNDS))) == len(list(R.hom(A, B, **BOUNDS)))


def test_reachability_of_a_dag():
    S = Schema.parse(open("examples/square.schema").read())
    reach = S.reachability()
    A, B, C, D = S.objects()
    assert reach.is_acyclic
    assert set(reach.graph.edges) == {(A, B), (A, C), (A, D), (B, D), (C, D)}
    assert set(reach.reduction.edges) == {(A, B), (A, C), (B, D), (C, D)}
    assert reach.reaches(A, D) and reach.reaches(B, B) and not reach.reaches(B, C)


def test_reachability_with_a_cycle():
    S = Schema.parse(open("examples/cyclegan.schema").read())
    reach = S.reachability()
    H, Z = S.objects()
    assert not reach.is_acyclic and reach.reduction is None
    assert set(reach.graph.edges) == {(H, Z), (Z, H), (H, H), (Z, Z)}
    assert isinstance(reach.graph, nx.DiGraph)
