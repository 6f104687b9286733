"""The network of a path: the modules of its arrows, composed, as one ``nn.Module``.

A functor pulled back along a schema map (:meth:`Functor.pullback
<compiler.Functor.pullback>`) sends an arrow to the network of a path; that network is a
:class:`PathModule` holding the path's modules *themselves* as submodules (weight
tying: training it trains them), so it compiles, fuses, checkpoints and moves like any
other module. The empty path is the identity, a module without parameters.

>>> import torch
>>> from torch import nn
>>> f, g = nn.Linear(2, 3), nn.Linear(3, 2)
>>> fg = PathModule([f, g], [False, False, False], "f.g")
>>> x = torch.randn(4, 2)
>>> torch.equal(fg(x), g(f(x))), fg.steps[0] is f, fg
(True, True, PathModule(f.g))
>>> ident = PathModule([], [False], "id(X)")
>>> torch.equal(ident(x), x), list(ident.parameters())
(True, [])
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn


class PathModule(nn.Module):
    """``modules`` applied one after the other; ``products[i]`` says whether the ``i``-th
    object along the path (its domain first, its codomain last) is a product, whose
    points a module receives as separate arguments (as :func:`compiler.para.call_module`
    passes them) and returns as a tuple.

    ``products`` is a plain attribute, so two path modules of the same steps over
    product and plain spaces never count as one architecture (``fusion.arch_key``); the
    path's text (``_path``) is not, so two paths of networks of one architecture may
    still be stacked.
    """

    def __init__(self, modules: Sequence[nn.Module], products: Sequence[bool], path: str = ""):
        super().__init__()
        if len(products) != len(modules) + 1:
            raise ValueError(f"PathModule: one product flag per object along the path "
                             f"({len(modules) + 1}), got {len(products)}")
        self.steps = nn.ModuleList(modules)
        self.products = tuple(bool(p) for p in products)
        self._path = path or ".".join(type(m).__name__ for m in modules) or "id"

    @classmethod
    def along(cls, path, modules: Sequence[nn.Module]) -> PathModule:
        """The network of ``path`` (a :class:`category.Path`) from its arrows' ``modules``,
        in order: the product flags are read off the path's objects."""
        return cls(modules, [path.dom.is_product] + [a.cod.is_product for a in path.arrows],
                   str(path))

    def forward(self, *xs):
        x = tuple(xs) if self.products[0] else xs[0]
        for module, product in zip(self.steps, self.products):
            x = module(*x) if product else module(x)
        return x

    def extra_repr(self) -> str:
        return self._path

    def __repr__(self) -> str:
        return f"PathModule({self._path})"
