import pytest
import sympy
import torch

from compiler import Euclid, ProductSpace, UnboundSymbolError


def test_euclid_prints_readably():
    assert str(Euclid(3, 32, 32) * Euclid(100)) == "R^(3×32×32) × R^100"
    assert str(Euclid(7)) == "R^7"


def test_product_flattens_and_compares():
    X = Euclid(2) * Euclid(3) * Euclid(4)
    assert isinstance(X, ProductSpace) and len(X.factors) == 3
    assert X == ProductSpace(Euclid(2), Euclid(3), Euclid(4))
    assert X != ProductSpace(Euclid(2), Euclid(4), Euclid(3))


def test_symbols_bind_to_numbers():
    n = sympy.Symbol("n")
    X = Euclid(3, n, 2 * n)
    assert X.free_symbols == {n}
    assert X.bind({n: 4}).shape == (3, 4, 8)
    assert X.bind({"n": 5}).shape == (3, 5, 10)
    with pytest.raises(UnboundSymbolError, match="n"):
        _ = X.shape


def test_meta_point_of_a_product_is_a_tuple():
    p = (Euclid(2) * Euclid(3, 4)).meta(5)
    assert [tuple(t.shape) for t in p] == [(5, 2), (5, 3, 4)]
    assert all(t.device == torch.device("meta") for t in p)


@pytest.mark.parametrize("bad", [0, -1, 2.5, True])
def test_bad_dimensions_are_rejected(bad):
    with pytest.raises((ValueError, TypeError)):
        Euclid(bad)


@pytest.mark.parametrize("bad", [0, -1, 2.5, True, None])
def test_bad_dimensions_are_compiler_errors_and_value_and_type_errors(bad):
    from compiler import CompilerError, SpaceError

    with pytest.raises(SpaceError, match="a dimension must be") as err:
        Euclid(bad)
    assert isinstance(err.value, CompilerError)
    assert isinstance(err.value, ValueError) and isinstance(err.value, TypeError)
