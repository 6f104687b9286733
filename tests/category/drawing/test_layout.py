"""Geometry of schema pictures: checked on boxes and curves, not on pixels."""

import glob
import math

import pytest
from hypothesis import HealthCheck, given, settings

from category import Schema
from category.drawing.layout import ARC_SPREAD, equation_layout, layout, overlaps

from ..strategies import schemas_with_equations

BUNDLED = sorted(glob.glob("examples/*.schema"))

GRID = """schema Grid
object A, B, C, D, E, F, G, H, I
a : A -> B
b : B -> C
c : D -> E
d : E -> F
e : G -> H
f : H -> I
p : A -> D
q : B -> E
r : C -> F
s : D -> G
t : E -> H
u : F -> I
a.q = p.c
b.r = q.d
s.e = c.t
t.f = d.u
"""

MORE = {
    "parallel": "schema Par\nobject A, B\nf, g, h : A -> B\nk : B -> A\nl : A -> A\nf = g\n",
    "triangle": "schema Tri\nobject A, B, C\nf : A -> B\ng : B -> C\nh : A -> C\nf.g = h\n",
    "loops": "schema L\nobject X, Y\ns, t, u, w, z : X -> X\nf : X -> Y\ng : Y -> X\nv : Y -> Y\n",
    "apart": "schema D\nobject A, B, C, D, E\nf : A -> B\ng : C -> D\nl : A -> A\nm : C -> C\n",
    "product3": "schema P\nobject A, B, C, D\nobject T = B * C * D\nf : A -> T\ng : T -> B\n",
    "square_of_product": "schema Q\nobject X\nobject XX = X * X\nd : X -> XX\n",
    "long_names": "schema N\nobject VeryLongObjectName, W\nsome_long_arrow : "
                  "VeryLongObjectName -> W\nm : W -> VeryLongObjectName\n",
    "grid": GRID,
}


def schema(text_or_file: str) -> Schema:
    if text_or_file.endswith(".schema"):
        return Schema.parse(open(text_or_file).read())
    return Schema.parse(text_or_file)


@pytest.mark.parametrize("source", BUNDLED + list(MORE.values()),
                         ids=[f.split("/")[-1] for f in BUNDLED] + list(MORE))
def test_nothing_overlaps(source):
    """No two nodes overlap; every label is clear of every node, label and curve."""
    L = layout(schema(source))
    assert overlaps(L) == []
    assert len({n.name for n in L.nodes}) == len(L.nodes)


@pytest.mark.parametrize("source", BUNDLED + [GRID])
def test_the_same_schema_gives_the_same_layout(source):
    assert layout(schema(source)) == layout(schema(source))


def test_the_commuting_square_is_a_rectangle():
    L = layout(schema("examples/square.schema"))
    A, B, C, D = (L.node(n) for n in "ABCD")
    assert A.y == B.y and C.y == D.y and A.x == C.x and B.x == D.x
    assert B.x > A.x and C.y < A.y  # r1 goes right, d1 goes down
    for e in L.edges:  # and its sides are straight
        (x0, y0), *_, (x3, y3) = e.points
        assert math.isclose(x0, x3, abs_tol=1e-6) or math.isclose(y0, y3, abs_tol=1e-6)


def test_a_grid_of_squares_is_a_grid():
    L = layout(schema(GRID))
    xs = sorted({n.x for n in L.nodes})
    ys = sorted({n.y for n in L.nodes}, reverse=True)
    assert len(xs) == 3 and len(ys) == 3
    for i, row in enumerate(("ABC", "DEF", "GHI")):
        for j, name in enumerate(row):
            assert (L.node(name).x, L.node(name).y) == (xs[j], ys[i])


def test_product_factors_are_joined_to_the_product():
    L = layout(schema("examples/product.schema"))
    projections = {(e.dom, e.cod): e for e in L.edges if e.kind == "projection"}
    assert set(projections) == {("BxC", "B"), ("BxC", "C")}
    for (p, f), e in projections.items():  # each starts at the product's box, ends at the factor's
        assert _near_box(e.points[0], L.node(p)) and _near_box(e.points[3], L.node(f))
    assert {lab.text for lab in L.labels} >= {"π₁", "π₂"}
    assert "BxC = B × C" in L.notes


def test_an_inverse_pair_is_two_arcs_between_objects_set_apart():
    L = layout(schema("examples/cyclegan.schema"))
    H, Z = L.node("Horse"), L.node("Zebra")
    assert H.y == Z.y and Z.x0 - H.x1 > 50  # side by side, well apart
    f, g = (next(e for e in L.edges if e.name == n) for n in "fg")
    fy, gy = f.at(0.5)[1], g.at(0.5)[1]
    assert fy - gy >= 0.9 * ARC_SPREAD  # f above, g below
    assert f.points[0][0] < f.points[3][0] and g.points[0][0] > g.points[3][0]


def test_parallel_arrows_are_spread():
    L = layout(schema(MORE["parallel"]))
    middles = [e.at(0.5) for e in L.edges if e.name in "fghk"]
    for i, p in enumerate(middles):
        for q in middles[i + 1:]:
            assert math.dist(p, q) >= 0.9 * ARC_SPREAD


def test_acyclic_parts_are_layered_left_to_right():
    for source in ("examples/gan.schema", "examples/equalizer.schema", MORE["triangle"]):
        L = layout(schema(source))
        for e in L.edges:
            assert L.node(e.cod).x > L.node(e.dom).x, (source, e.name)


def test_loops_are_clearly_visible_and_each_has_its_own_place():
    L = layout(schema(MORE["loops"]))
    X = L.node("X")
    loops = [e for e in L.edges if e.dom == e.cod == "X"]
    assert len(loops) == 5
    for e in loops:  # each reaches well outside its node
        far = max(max(abs(p[0] - X.x) - X.width / 2, abs(p[1] - X.y) - X.height / 2)
                  for p in e.polyline())
        assert far > 25
    apexes = [e.at(0.5) for e in loops]
    assert min(math.dist(p, q) for i, p in enumerate(apexes) for q in apexes[i + 1:]) > 20


def test_unconnected_parts_are_stacked_apart():
    L = layout(schema(MORE["apart"]))
    top = [L.node(n) for n in "AB"]
    below = [L.node(n) for n in "CD"]
    assert min(n.y1 for n in top) > max(n.y1 for n in below)
    assert overlaps(L) == []


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(schemas_with_equations(max_objects=5, max_arrows=7))
def test_random_schemas_never_overlap_nodes_or_labels(S):
    L = layout(S)
    assert [o for o in overlaps(L) if "lies on edge" not in o] == []
    assert len(L.edges) == len(S.arrows)
    assert layout(S) == L


def _near_box(p, box, tol=6.0):
    inside_grown = box.grown(tol).contains(p)
    strictly_inside = box.grown(-tol).contains(p) if box.width > 2 * tol else False
    return inside_grown and not strictly_inside


@pytest.mark.parametrize("source", BUNDLED + list(MORE.values()),
                         ids=[f.split("/")[-1] for f in BUNDLED] + list(MORE))
def test_each_equation_is_its_own_clean_diagram(source):
    S = schema(source)
    for eq in S.equations:
        L = equation_layout(eq)
        assert overlaps(L) == [] and L.title == str(eq)
        arrows = [e for e in L.edges if e.kind == "arrow"]
        assert [e.name for e in arrows] == [a.name for a in (*eq.lhs, *eq.rhs)]
        ids = [e for e in L.edges if e.kind == "identity"]
        assert len(ids) == (len(eq.lhs) == 0) + (len(eq.rhs) == 0)
        start, end = L.nodes[0], L.nodes[1]  # both sides run from one dom to one cod
        assert start.name == str(eq.dom) and end.name == str(eq.cod) and start.x < end.x
