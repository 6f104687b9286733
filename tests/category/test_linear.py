import pytest
import sympy

from category import Schema, SchemaError, check_linear


def test_a_rotation_models_the_dihedral_relations_exactly():
    S = Schema.parse("schema D8\nobject X\nr, s : X -> X\nr.r.r.r = id(X)\ns.s = id(X)\n"
                     "s.r.s = r.r.r")
    rot = sympy.Matrix([[0, -1], [1, 0]])
    flip = sympy.Matrix([[1, 0], [0, -1]])
    assert all(check_linear(S, {"X": 2}, {"r": rot, "s": flip}).values())
    result = check_linear(S, {"X": 2}, {"r": rot, "s": sympy.eye(2)})
    assert [ok for ok in result.values()] == [True, True, False]


def test_exact_rationals_not_float_tolerance():
    S = Schema.parse(open("examples/cyclegan.schema").read())
    f = sympy.Matrix([[3]])
    g = sympy.Matrix([[sympy.Rational(1, 3)]])
    assert all(check_linear(S, {"Horse": 1, "Zebra": 1}, {"f": f, "g": g}).values())
    # 0.333 reads as 333/1000, so f.g = 999/1000, not 1: no tolerance hides it.
    close = check_linear(S, {"Horse": 1, "Zebra": 1}, {"f": f, "g": [[0.333]]})
    assert list(close.values()) == [False, False]


def test_paths_compose_diagrammatically():
    # f then g is G*F: with non-commuting matrices only that order satisfies f.g = h.
    S = Schema.parse("object A, B, C\nf : A -> B\ng : B -> C\nh : A -> C\nf.g = h")
    F = sympy.Matrix([[1, 2], [0, 1]])
    G = sympy.Matrix([[0, 1], [1, 0]])
    dims = {"A": 2, "B": 2, "C": 2}
    assert list(check_linear(S, dims, {"f": F, "g": G, "h": G * F}).values()) == [True]
    assert list(check_linear(S, dims, {"f": F, "g": G, "h": F * G}).values()) == [False]


def test_product_dimension_defaults_to_the_direct_sum():
    S = Schema.parse(open("examples/product.schema").read())
    f = sympy.eye(3)
    result = check_linear(S, {"A": 3, "B": 1, "C": 2}, {"f": f, "g": f})
    assert all(result.values())


def test_bad_input():
    S = Schema.parse(open("examples/cyclegan.schema").read())
    with pytest.raises(SchemaError, match="maps\\[f\\] must be a 2x1 matrix"):
        check_linear(S, {"Horse": 1, "Zebra": 2}, {"f": [[1]], "g": [[1, 1]]})
    with pytest.raises(SchemaError, match="missing: Zebra"):
        check_linear(S, {"Horse": 1}, {})
    with pytest.raises(SchemaError, match="missing: g"):
        check_linear(S, {"Horse": 1, "Zebra": 1}, {"f": [[1]]})
    with pytest.raises(SchemaError, match="dims\\[Horse\\] must be an int >= 0"):
        check_linear(S, {"Horse": 1.5, "Zebra": 1}, {})
    with pytest.raises(SchemaError, match="unknown object 'Hrose'"):
        check_linear(S, {"Hrose": 1}, {})
