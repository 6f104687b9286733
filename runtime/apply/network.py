"""A path of a trained functor as one ``torch.nn.Module``: what ``cdl apply`` runs and
``cdl export`` saves.

:func:`path_network` parses the path's text in the functor's schema (a generating arrow
``f``, a composite ``f.g``, an identity ``id(A)``) and chains the functor's networks along
it: the same function as ``F(path)``, held by a module whose ``forward`` takes one tensor
per factor of the domain and returns a tensor, or a tuple for a product codomain — the
shape ``torch.export`` and ONNX need.

>>> import torch
>>> from category import Schema
>>> from compiler import Euclid, Functor
>>> S = Schema.parse("object A, B\\nf : A -> B\\ng : B -> A")
>>> F = Functor(S, ob={"A": Euclid(2), "B": Euclid(3)},
...             ar={"f": torch.nn.Linear(2, 3), "g": torch.nn.Linear(3, 2)})
>>> net = path_network(F, "f.g")
>>> x = torch.randn(4, 2)
>>> torch.equal(net(x), F(S.path("f.g"))(x)), str(net)
(True, 'f.g: A -> A (R^2 -> R^2)')
>>> data_kind((3, 32, 32)), data_kind((8,)), data_kind((2, 5))
('images', 'vectors', 'tensors')
"""

from __future__ import annotations

from torch import nn

from category import Path, SchemaError
from compiler import Functor, Space

from ..errors import ApplyError

__all__ = ["PathNetwork", "data_kind", "describe_space", "path_network"]

IMAGE_CHANNELS = (1, 3, 4)  # L, RGB, RGBA: what an image file holds


def data_kind(shape: tuple[int, ...]) -> str:
    """What a point of ``shape`` is as data: ``"images"`` (``C×H×W`` with 1, 3 or 4
    channels), ``"vectors"`` (one dimension) or ``"tensors"`` (anything else: only a
    tensor file holds them)."""
    if len(shape) == 3 and shape[0] in IMAGE_CHANNELS:
        return "images"
    return "vectors" if len(shape) == 1 else "tensors"


def describe_space(space: Space) -> str:
    """``images 1×32×32``, ``vectors R^8``, or each factor's, joined by ``×``."""
    parts = []
    for shape in space.shapes:
        kind = data_kind(shape)
        parts.append(f"{kind} {'×'.join(map(str, shape))}" if kind != "vectors"
                     else f"vectors R^{shape[0]}")
    return " × ".join(parts)


class PathNetwork(nn.Module):
    """The composite network of a path: ``forward(*factors)`` applies each arrow's network
    in turn, a product point passed to a network as one argument per factor (as
    :class:`compiler.Para` does). An identity path returns its input."""

    def __init__(self, functor: Functor, path: Path, text: str | None = None):
        super().__init__()
        self.path = path
        self.name = text or str(path)
        self.dom, self.cod = functor.spaces[path.dom], functor.spaces[path.cod]
        self.steps = nn.ModuleList(functor.modules[a] for a in path.arrows)
        self.spread = [functor.spaces[a.dom].is_product for a in path.arrows]

    def forward(self, *factors):
        point = tuple(factors) if self.dom.is_product else factors[0]
        for module, spread in zip(self.steps, self.spread, strict=True):
            point = module(*point) if spread else module(point)
        return point

    def __str__(self) -> str:
        return (f"{self.name}: {self.path.dom} -> {self.path.cod} "
                f"({self.dom} -> {self.cod})")


def path_network(functor: Functor, text: str) -> PathNetwork:
    """The network of the path ``text`` of ``functor``'s schema; an :class:`ApplyError`
    naming the path where it does not parse or compose."""
    try:
        path = functor.schema.path(text)
    except SchemaError as e:
        raise ApplyError(f"path {text!r}: {e}") from None
    return PathNetwork(functor, path, text.replace(" ", ""))
