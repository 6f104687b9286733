import pytest
import torch
from torch import nn

from compiler import Euclid, Para


def test_composition_composes_functions_and_shares_parameters():
    lin = nn.Linear(2, 2)
    f = Para.of(lin, Euclid(2), Euclid(2), "f")
    g = Para.of(nn.Linear(2, 3), Euclid(2), Euclid(3), "g")
    fg, ff = f >> g, f >> f
    x = torch.randn(4, 2)
    assert torch.allclose(fg(x), g(f(x)))
    assert len(list(fg.parameters())) == 4
    assert len(list(ff.parameters())) == 2  # lin counted once
    assert str(fg) == "f.g: R^2 -> R^3"


def test_identity_has_no_parameters_and_is_a_unit():
    X = Euclid(2)
    f = Para.of(nn.Linear(2, 2), X, X, "f")
    x = torch.randn(3, 2)
    assert list(Para.identity(X).parameters()) == []
    assert torch.equal((Para.identity(X) >> f)(x), f(x))
    assert str(Para.identity(X) >> f) == str(f)


def test_composition_checks_spaces():
    f = Para.of(nn.Linear(2, 3), Euclid(2), Euclid(3), "f")
    with pytest.raises(TypeError, match="R\\^3.*R\\^2"):
        f >> f


def test_product_domain_passes_factors_as_arguments():
    class Add(nn.Module):
        def forward(self, a, b):
            return a + b

    p = Para.of(Add(), Euclid(2) * Euclid(2), Euclid(2))
    a, b = torch.ones(1, 2), torch.full((1, 2), 2.0)
    assert torch.equal(p((a, b)), torch.full((1, 2), 3.0))
