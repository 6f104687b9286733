import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st

from category import (
    Arrow,
    CompositionError,
    Equation,
    EquationError,
    InvalidNameError,
    Ob,
    Path,
    SchemaError,
)

H, Z = Ob("Horse"), Ob("Zebra")
f, g = Arrow("f", H, Z), Arrow("g", Z, H)


def test_composition_is_diagrammatic_and_printed_with_dots():
    p = f >> g >> f
    assert str(p) == "f.g.f"
    assert (p.dom, p.cod, len(p)) == (H, Z, 3)
    assert p.arrows == (f, g, f)
    assert f.then(g) == f >> g


def test_identity_paths():
    assert str(H.id) == "id(Horse)"
    assert len(H.id) == 0 and H.id.is_identity
    assert H.id >> f == f.path == f >> Z.id
    assert H.id >> H.id == H.id
    assert H.id != Z.id


def test_non_composable_names_both_arrows_and_objects():
    with pytest.raises(CompositionError) as err:
        f >> f
    assert str(err.value) == "f.f does not compose: cod(f)=Zebra but dom(f)=Horse"
    with pytest.raises(CompositionError, match=r"id\(Horse\)"):
        H.id >> g
    assert isinstance(err.value, SchemaError)


def test_path_constructor_validates_every_link_and_endpoint():
    assert Path(H, Z, (f, g, f)) == f >> g >> f
    with pytest.raises(CompositionError, match="f.f does not compose"):
        Path(H, Z, (f, f))
    with pytest.raises(CompositionError, match="cod Zebra but Horse was declared"):
        Path(H, H, (f,))
    with pytest.raises(CompositionError, match="dom Horse but Zebra was declared"):
        Path(Z, Z, (f,))
    with pytest.raises(CompositionError, match="id"):
        Path(H, Z, ())
    with pytest.raises(TypeError, match="expected an Arrow"):
        Path(H, Z, ("f",))


def test_equation_requires_parallel_sides():
    e = Equation(f >> g, H.id)
    assert str(e) == "f.g = id(Horse)"
    assert (e.dom, e.cod) == (H, H)
    with pytest.raises(EquationError) as err:
        Equation(f, H.id)
    assert "cod(f)=Zebra" in str(err.value) and "cod(id(Horse))=Horse" in str(err.value)
    with pytest.raises(EquationError, match="same dom"):
        Equation(g >> f, f)


@pytest.mark.parametrize("name", ["", "two words", "1st", "a-b", "f.g", None, 3])
def test_bad_names_are_rejected(name):
    with pytest.raises((InvalidNameError, TypeError)) as err:
        Ob(name)
    if isinstance(err.value, InvalidNameError):
        assert repr(name) in str(err.value)
    with pytest.raises(InvalidNameError):
        Arrow(name, H, Z)


def test_values_are_immutable_and_hashable():
    for value in (H, f, f >> g, Equation(f >> g, H.id)):
        with pytest.raises(AttributeError, match="immutable"):
            value.name = "x"
        assert hash(value) == hash(pickle.loads(pickle.dumps(value)))
        assert pickle.loads(pickle.dumps(value)) == value
    assert len({f >> g, Path(H, H, (f, g)), H.id}) == 2


def test_product_object_knows_its_factors():
    BxC = Ob("BxC", (H, Z))
    assert BxC.is_product and BxC.factors == (H, Z)
    assert BxC != Ob("BxC")
    with pytest.raises(InvalidNameError, match="two factors"):
        Ob("P", (H,))


words = st.lists(st.sampled_from([f, g]), min_size=0, max_size=6)


def _alternating(word):
    # f and g alternate; any alternating word composes
    return all(a is not b for a, b in zip(word, word[1:]))


@given(words, words, words)
def test_composition_is_associative(a, b, c):
    paths = []
    for w in (a, b, c):
        if not w or not _alternating(w):
            return
        paths.append(Path.of(*w))
    p, q, r = paths
    try:
        left = (p >> q) >> r
    except CompositionError:
        with pytest.raises(CompositionError):
            p >> (q >> r)
        return
    assert left == p >> (q >> r)
    assert len(left) == len(p) + len(q) + len(r)


def test_category_layer_never_imports_torch():
    import subprocess
    import sys

    code = ("import sys, category, category.drawing, category.parser, runtime.cli; "
            "runtime.cli.main(['check', 'examples/cyclegan.schema']); "
            "assert 'torch' not in sys.modules, 'torch was imported'")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr


def test_equal_values_hash_equal():
    assert f.path != f  # a path is not an arrow: keeps hash consistent with ==
    assert hash(Path(H, Z, (f,))) == hash(f.path)
    assert hash(Ob("Horse")) == hash(H)
