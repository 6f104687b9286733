"""Argument checks for the source constructors, one small function per kind of argument.

Each source checks its arguments where they enter, with these, so that a mistake such
as ``ImageFolder(size=32.0)`` is a :class:`SourceError` at the call that names the
constructor, the argument, what it takes and what came, rather than a bare
``TypeError`` from inside Pillow or torch later on:

>>> whole("ImageFolder", "channels", 3.0, low=1)
Traceback (most recent call last):
...
runtime.errors.SourceError: ImageFolder: channels must be a positive whole number, got 3.0 (float)

``bool`` is refused wherever a number is expected: Python counts it as an int, but
``size=True`` is a mistake, not a 1.
"""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Iterable
from pathlib import Path
from typing import NoReturn

from PIL import ImageColor

from ..errors import SourceError


def got(value: object) -> str:
    """``value`` as an error message shows it: its repr (shortened) and its type."""
    r = repr(value)
    if len(r) > 60:
        r = r[:57] + "..."
    return f"{r} ({type(value).__name__})"


def refuse(owner: str, name: str, expected: str, value: object) -> NoReturn:
    """Raise the :class:`SourceError` of an argument that is not what ``owner`` takes."""
    raise SourceError(f"{owner}: {name} must be {expected}, got {got(value)}")


def is_whole(value: object) -> bool:
    """Whether ``value`` is an integer (numpy's included), and not a bool."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def is_real(value: object) -> bool:
    """Whether ``value`` is a finite real number (ints included), and not a bool."""
    return (isinstance(value, numbers.Real) and not isinstance(value, bool)
            and math.isfinite(value))


def _bounds(kind: str, low: float | None, high: float | None,
            open_low: bool = False, open_high: bool = False) -> str:
    """What a bounded number is called: ``a positive whole number``, ``a number in [0, 1)``."""
    if low is not None and high is not None:
        return f"{kind} in {'(' if open_low else '['}{low}, {high}{')' if open_high else ']'}"
    if low is not None:
        if (low == 1 and kind == "a whole number") or (low == 0 and open_low):
            return kind.replace("a ", "a positive ", 1)
        return f"{kind} {'>' if open_low else '>='} {low}"
    if high is not None:
        return f"{kind} {'<' if open_high else '<='} {high}"
    return kind


def whole(owner: str, name: str, value: object, low: int | None = None,
          high: int | None = None, expected: str | None = None) -> int:
    """``value`` as an int, if it is a whole number in ``[low, high]``.

    >>> whole("circles", "n", 4, low=1)
    4
    """
    if (not is_whole(value) or (low is not None and value < low)
            or (high is not None and value > high)):
        refuse(owner, name, expected or _bounds("a whole number", low, high), value)
    return int(value)


def real(owner: str, name: str, value: object, low: float | None = None,
         high: float | None = None, open_low: bool = False, open_high: bool = False,
         expected: str | None = None) -> float:
    """``value`` as a float, if it is a finite number within the bounds (open or closed).

    >>> real("glyphs", "holdout", 1, low=0, high=1, open_low=True, open_high=True)
    Traceback (most recent call last):
    ...
    runtime.errors.SourceError: glyphs: holdout must be a number in (0, 1), got 1 (int)
    """
    ok = is_real(value)
    if ok and low is not None:
        ok = value > low if open_low else value >= low
    if ok and high is not None:
        ok = value < high if open_high else value <= high
    if not ok:
        refuse(owner, name,
               expected or _bounds("a number", low, high, open_low, open_high), value)
    return float(value)


def flag(owner: str, name: str, value: object) -> bool:
    """``value`` if it is a bool (a truthy string such as ``"no"`` is a mistake)."""
    if not isinstance(value, bool):
        refuse(owner, name, "True or False", value)
    return value


def text(owner: str, name: str, value: object) -> str:
    """``value`` if it is a non-empty string."""
    if not isinstance(value, str) or not value:
        refuse(owner, name, "a non-empty string", value)
    return value


def _same(a: object, b: object) -> bool:
    """``a == b``, except that a whole-number option takes only whole numbers and a bool
    only itself (``3.0 == 3`` and ``True == 1`` in Python)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if is_whole(b):
        return is_whole(a) and a == b
    try:
        return bool(a == b)
    except Exception:  # an array compares elementwise: not an option
        return False


def alternatives(options: Iterable[object]) -> str:
    """``'a', 'b' or None``: options as a message lists them."""
    shown = [repr(o) for o in options]
    return shown[0] if len(shown) == 1 else f"{', '.join(shown[:-1])} or {shown[-1]}"


def choice(owner: str, name: str, value: object, options: Iterable[object],
           expected: str | None = None) -> object:
    """The option that ``value`` is (so a numpy int comes back as the int option).

    >>> choice("glyphs", "split", "val", ("train", "test", None))
    Traceback (most recent call last):
    ...
    runtime.errors.SourceError: glyphs: split must be 'train', 'test' or None, got 'val' (str)
    """
    options = tuple(options)
    for o in options:
        if _same(value, o):
            return o
    refuse(owner, name, expected or alternatives(options), value)


def is_dataset(value: object) -> bool:
    """Whether ``value`` is dataset-like: it has ``len()`` and ``[i]``.

    A tuple, list, dict or string has both but is not: its items are not samples (a
    tuple of sources is a product's, and samples belong in one tensor).
    """
    return (not isinstance(value, (str, bytes, dict, list, tuple))
            and hasattr(value, "__len__") and hasattr(value, "__getitem__"))


def dataset(owner: str, name: str, value: object) -> object:
    """``value`` if it is dataset-like (:func:`is_dataset`)."""
    if not is_dataset(value):
        refuse(owner, name, "a dataset (an object with len() and [i], e.g. a "
               "torch.utils.data.Dataset or a TensorSource of a tensor of samples)", value)
    return value


def path(owner: str, name: str, value: object) -> Path:
    """``value`` as a :class:`~pathlib.Path`, if it is a string or path-like."""
    if not isinstance(value, (str, os.PathLike)) or value == "":
        refuse(owner, name, "a non-empty str or os.PathLike (e.g. a pathlib.Path)", value)
    return Path(value)


def colour(owner: str, name: str, value: object) -> tuple[int, int, int]:
    """``value`` as an RGB triple of 0..255: a colour name (``"white"``), ``"#rrggbb"``
    (or ``"#rgb"``), or a triple of whole numbers.

    >>> colour("ImageFolder", "background", "white"), colour("x", "c", "#ff8000")
    ((255, 255, 255), (255, 128, 0))
    >>> colour("ImageFolder", "background", "whit")
    Traceback (most recent call last):
    ...
    runtime.errors.SourceError: ImageFolder: background must be a colour name (white, \
black, …), #rrggbb or an (r, g, b) triple of 0..255, got 'whit' (str)
    """
    expected = "a colour name (white, black, …), #rrggbb or an (r, g, b) triple of 0..255"
    if isinstance(value, str):
        try:
            rgb = ImageColor.getrgb(value)
        except ValueError:
            refuse(owner, name, expected, value)
        return tuple(rgb[:3])  # type: ignore[return-value]
    if (isinstance(value, (tuple, list)) and len(value) == 3
            and all(is_whole(v) and 0 <= v <= 255 for v in value)):
        return tuple(int(v) for v in value)  # type: ignore[return-value]
    refuse(owner, name, expected, value)


def image_size(owner: str, value: object) -> tuple[int, int] | None:
    """``value`` as ``(height, width)``: a whole number is a square; None stays None.

    >>> image_size("ImageFolder", 32), image_size("ImageFolder", (24, 32))
    ((32, 32), (24, 32))
    """
    if value is None:
        return None
    expected = "a positive whole number (or a (height, width) pair of them)"
    if is_whole(value):
        hw = (value, value)
    elif isinstance(value, (tuple, list)) and len(value) == 2:
        hw = tuple(value)
    else:
        refuse(owner, "size", expected, value)
    if not all(is_whole(d) and d > 0 for d in hw):
        refuse(owner, "size", expected, value)
    return int(hw[0]), int(hw[1])


def shape(owner: str, value: object) -> tuple[int, ...]:
    """``value`` as a shape: a positive whole number, or a tuple (or list) of them.

    >>> shape("GaussianPrior", 8), shape("GaussianPrior", (3, 4))
    ((8,), (3, 4))
    """
    expected = "a positive whole number or a tuple of them (the sample shape)"
    dims = (value,) if is_whole(value) else value
    if not isinstance(dims, (tuple, list)) or not all(is_whole(d) and d > 0 for d in dims):
        refuse(owner, "shape", expected, value)
    return tuple(int(d) for d in dims)
