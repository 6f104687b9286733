"""Para morphisms: a function between spaces together with the parameters it uses.

>>> import torch
>>> X = Euclid(2)
>>> lin = torch.nn.Linear(2, 2)
>>> f = Para.of(lin, X, X, name="f")
>>> ff = f >> f
>>> str(ff), len(list(ff.parameters()))          # shared modules are counted once
('f.f: R^2 -> R^2', 2)
>>> ident = Para.identity(X)
>>> x = torch.ones(1, 2)
>>> torch.equal(ident(x), x), len(list(ident.parameters()))
(True, 0)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from torch import nn

from .spaces import Euclid, Space  # noqa: F401  (Euclid is used by the doctest)


def call_module(module: nn.Module, dom: Space, point: object) -> object:
    """Apply ``module`` to a point: the factors of a product point become arguments."""
    return module(*point) if dom.is_product else module(point)  # type: ignore[misc]


def _unique(items) -> tuple:
    seen: dict[int, object] = {}
    for x in items:
        seen.setdefault(id(x), x)
    return tuple(seen.values())


class Para:
    """A parametrised map ``dom -> cod``: a function and the modules holding its parameters.

    A module receives a point of a product domain as separate arguments and returns
    a tuple for a product codomain.
    """

    def __init__(self, dom: Space, cod: Space, fn: Callable[[object], object],
                 modules: tuple[nn.Module, ...] = (), name: str = "?"):
        self.dom, self.cod, self.fn = dom, cod, fn
        self.modules = _unique(modules)
        self.name = name

    @classmethod
    def of(cls, module: nn.Module, dom: Space, cod: Space, name: str | None = None) -> Para:
        """Wrap any ``torch.nn.Module`` as a Para morphism ``dom -> cod``."""
        if not isinstance(module, nn.Module):
            raise TypeError(f"Para.of needs a torch.nn.Module, got {type(module).__name__}")
        return cls(dom, cod, lambda x: call_module(module, dom, x), (module,),
                   name or type(module).__name__)

    @classmethod
    def identity(cls, space: Space, name: str | None = None) -> Para:
        """The identity on ``space``: no parameters."""
        return cls(space, space, lambda x: x, (), name or "id")

    def __rshift__(self, other: Para) -> Para:
        if not isinstance(other, Para):
            return NotImplemented
        if self.cod != other.dom:
            raise TypeError(f"{self.name} >> {other.name} does not compose: "
                            f"cod is {self.cod} but dom is {other.dom}")
        f, g = self.fn, other.fn
        if not self.modules and self.name.startswith("id"):
            name = other.name
        elif not other.modules and other.name.startswith("id"):
            name = self.name
        else:
            name = f"{self.name}.{other.name}"
        return Para(self.dom, other.cod, lambda x: g(f(x)), self.modules + other.modules, name)

    def parameters(self) -> Iterator[nn.Parameter]:
        """Every parameter once, even where modules share them."""
        return iter(_unique(p for m in self.modules for p in m.parameters()))

    def __call__(self, x: object) -> object:
        return self.fn(x)

    def __str__(self) -> str:
        return f"{self.name}: {self.dom} -> {self.cod}"

    def __repr__(self) -> str:
        return f"Para({self})"
