"""Which network an arrow gets, and which critic an object gets: chosen from the spaces.

A space is of one *kind* — ``image`` (``[C, H, W]``, sides of at least 4 px),
``vector`` (any other shape, flattened) or ``product`` — and the choice is a table from
(domain kind, codomain kind, whether the two spaces are equal) to a builder:

=================  ==================  =====  =============================================
domain             codomain            equal  network
=================  ==================  =====  =============================================
image              image               yes    residual generator, identity start (built-ins')
image              image               no     resampling encoder–decoder
vector             image               no     upsampling generator
image              vector              no     convolutional encoder
vector             vector              yes    residual MLP, identity start
vector             vector              no     residual MLP
product or into a product                     heads per factor on a shared trunk
=================  ==================  =====  =============================================

A critic per observed object: a PatchGAN for images, an MLP for vectors (the compiler
scores a product's fakes factor by factor, with the factors' critics). ``width`` scales
every network (the base number of channels; 32 by default).

>>> from compiler import Euclid
>>> choose(Euclid(3, 32, 32), Euclid(3, 32, 32)).name
'residual generator (identity start)'
>>> choose(Euclid(8), Euclid(1, 16, 16)).name
'upsampling generator'
>>> choose(Euclid(3, 8, 8) * Euclid(2), Euclid(3, 8, 8)).name
'per-factor heads on a shared trunk'
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from torch import nn

from compiler import Space

from . import space_nets as sn


@dataclass(frozen=True)
class Builder:
    """A network's name (shown in the networks table) and how to make it from the domain
    and codomain shapes (a tuple of factor shapes for a product) and the width."""

    name: str
    make: Callable[[object, object, int], nn.Module]


def _same_image(dom, cod, width):
    return sn.AnySizeIdentityStart(dom[0], width=width // 2)


PRODUCT = Builder("per-factor heads on a shared trunk",
                  lambda dom, cod, width: sn.ProductNet(_factors(dom), _factors(cod), width))

ARROWS: dict[tuple[str, str, bool], Builder] = {
    ("image", "image", True): Builder("residual generator (identity start)", _same_image),
    ("image", "image", False): Builder("resampling encoder-decoder", sn.Resampler),
    ("vector", "image", False): Builder("upsampling generator", sn.Upsampler),
    ("image", "vector", False): Builder("convolutional encoder", sn.ConvEncoder),
    ("vector", "vector", True): Builder("residual MLP (identity start)", sn.ResidualMLP),
    ("vector", "vector", False): Builder("residual MLP", sn.ResidualMLP),
    **{(d, c, same): PRODUCT for d in ("image", "vector", "product")
       for c in ("image", "vector", "product") for same in (True, False)
       if "product" in (d, c)},
}

CRITICS: dict[str, Builder] = {
    "image": Builder("PatchGAN critic", lambda shape, _, width: sn.image_critic(shape, width)),
    "vector": Builder("MLP critic", lambda shape, _, width: sn.VectorCritic(shape, width)),
}


def kind(space: Space) -> str:
    """``image``, ``vector`` or ``product``."""
    if space.is_product:
        return "product"
    return "image" if sn.is_image(space.shapes[0]) else "vector"


def _shape(space: Space):
    return space.shapes if space.is_product else space.shapes[0]


def _factors(shape) -> tuple:
    """A shape, or a product's tuple of shapes, as a tuple of factor shapes."""
    return shape if shape and isinstance(shape[0], tuple) else (shape,)


def choose(dom: Space, cod: Space) -> Builder:
    """The builder of an arrow ``dom -> cod`` (the table above)."""
    return ARROWS[kind(dom), kind(cod), dom == cod]


def arrow_network(dom: Space, cod: Space, width: int = 32) -> tuple[nn.Module, str]:
    """A network for an arrow ``dom -> cod`` and its name."""
    b = choose(dom, cod)
    return b.make(_shape(dom), _shape(cod), width), b.name


def critic_network(space: Space, width: int = 32) -> tuple[nn.Module, str]:
    """A critic for a plain object of ``space`` and its name."""
    b = CRITICS[kind(space)]
    return b.make(space.shapes[0], None, width), b.name
