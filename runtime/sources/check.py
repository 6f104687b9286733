"""``check_source``: a source against its object's space, before training starts."""

from __future__ import annotations

from collections.abc import Mapping

import torch

from category import SchemaError
from compiler import BatchError

from ..errors import RunError, SourceError
from . import args
from .product import Product
from .stacking import first_samples, to_device
from .tensor import TensorSource

DATASET = ("a dataset (an object with len() and [i], such as a torch.utils.data.Dataset), "
           "or a tensor of samples along dim 0")


def as_source(source: object, name: object = None) -> object:
    """``source`` as a dataset: a tensor becomes a :class:`TensorSource` (its samples along
    dim 0), a plain tuple of sources (one per factor) a :class:`Product` of them.

    Anything else must already be dataset-like (``len()`` and ``[i]``): a list of
    numbers, a dict or a generator is refused here, rather than failing later inside the
    loader. ``name``, the object (or its name) the source feeds, starts the message.

    >>> as_source(torch.zeros(10, 3, 4, 4))[0].shape
    torch.Size([3, 4, 4])
    >>> as_source({"a": 1}, "Horse")
    Traceback (most recent call last):
    ...
    runtime.errors.SourceError: source for object Horse: expected a dataset (an object with \
len() and [i], such as a torch.utils.data.Dataset), or a tensor of samples along dim 0; \
got {'a': 1} (dict)
    """
    try:
        if isinstance(source, (tuple, list)):
            return Product(*(_one(s, f"factor {k}")
                             for k, s in enumerate(source)))
        return _one(source)
    except SourceError as e:
        if name is None:
            raise
        raise SourceError(f"source for object {getattr(name, 'name', name)}: {e}") from None


def _one(source: object, where: str = "") -> object:
    """One source: a tensor (or numpy array, refused with its fix) wrapped, a dataset kept."""
    if isinstance(source, torch.Tensor) or type(source).__module__ == "numpy":
        return TensorSource(source)
    if not args.is_dataset(source):
        hint = (" (a tuple or list stands for one source per factor of a product object; "
                "stack samples into one tensor instead)" if where else "")
        where = f"{where}: " if where else ""
        raise SourceError(f"{where}expected {DATASET}; got {args.got(source)}{hint}")
    return source


def _describe(x: object) -> str:
    if isinstance(x, torch.Tensor):
        return f"shape {tuple(x.shape)}, dtype {x.dtype}"
    if isinstance(x, (tuple, list)):
        return f"a {type(x).__name__} of {len(x)}"
    return type(x).__name__


def _sample_problems(x: object, space, dtype: torch.dtype) -> list[str]:
    shapes = space.shapes
    if space.is_product:
        if not isinstance(x, (tuple, list)) or len(x) != len(shapes):
            return [f"expected a tuple of {len(shapes)} tensors (one per factor of {space}), "
                    f"got {_describe(x)}"]
        parts = list(x)
    else:
        parts = [x]
    problems = []
    for k, (t, shape) in enumerate(zip(parts, shapes)):
        where = f"factor {k}: " if space.is_product else ""
        if not isinstance(t, torch.Tensor):
            problems.append(f"{where}expected a tensor of shape {shape}, got {_describe(t)}")
            continue
        if tuple(t.shape) != tuple(shape):
            hint = ""
            if len(shape) == 3 and t.dim() == 3 and t.shape[1:] == shape[1:]:
                hint = f" (channels: expected {shape[0]}, found {t.shape[0]})"
            elif len(shape) == 3 and t.dim() == 3 and t.shape[0] == shape[0]:
                hint = f" (resize it, e.g. ImageFolder(..., size={tuple(shape[1:])}))"
            problems.append(f"{where}expected shape {shape}, found {tuple(t.shape)}{hint}")
        if t.dtype != dtype:
            problems.append(f"{where}expected dtype {dtype}, found {t.dtype}")
        elif not bool(torch.isfinite(t).all()):
            n = int((~torch.isfinite(t)).sum())
            problems.append(f"{where}found {n} non-finite value(s) (NaN or inf)")
    return problems


def check_source(ob_name: str, space, source: object,
                 dtype: torch.dtype = torch.float32) -> None:
    """Raise :class:`SourceError` unless ``source`` fits ``space`` (checks samples first and last).

    >>> from compiler import Euclid
    >>> from runtime.sources import TensorSource
    >>> check_source("Horse", Euclid(3, 8, 8), TensorSource(torch.zeros(2, 1, 8, 8)))
    Traceback (most recent call last):
    ...
    runtime.errors.SourceError: source for object Horse (R^(3×8×8)): expected shape (3, 8, 8), \
found (1, 8, 8) (channels: expected 3, found 1) (samples 0, 1)
    """
    name = getattr(ob_name, "name", ob_name)
    head = f"source for object {name} ({space})"
    if isinstance(source, (tuple, list)):
        k = len(space.factors)
        if not space.is_product:
            raise SourceError(f"{head}: expected one source, got a {type(source).__name__} of "
                              f"{len(source)} (a tuple of sources feeds a product object)")
        if len(source) != k:
            raise SourceError(f"{head}: expected a tuple of {k} sources (one per factor), "
                              f"got {len(source)}")
    try:
        source = as_source(source)
    except SourceError as e:
        raise SourceError(f"{head}: {e}") from None
    try:
        n = len(source)
    except TypeError:
        raise SourceError(f"{head}: expected a dataset (with len() and [i]), "
                          f"got {type(source).__name__}") from None
    if n == 0:
        raise SourceError(f"{head}: the source is empty (len 0)")
    problems: dict[str, list[int]] = {}
    for i in dict.fromkeys((0, n - 1)):
        try:
            x = source[i]
        except Exception as e:
            raise SourceError(f"{head}: reading sample {i} failed: {e}") from e
        for p in _sample_problems(x, space, dtype):
            problems.setdefault(p, []).append(i)
    if problems:
        lines = [f"{p} (sample{'s' if len(ix) > 1 else ''} {', '.join(map(str, ix))})"
                 for p, ix in problems.items()]
        if len(lines) == 1:
            raise SourceError(f"{head}: {lines[0]}")
        raise SourceError(f"{head}:\n" + "\n".join(f"  - {line}" for line in lines))


def check_data(program, data: Mapping[object, object]) -> dict[str, object]:
    """``data`` (object or its name → source) checked against ``program``: every key an
    object of its schema, every source fitting its object's space (:func:`check_source`),
    and every object the program reads fed — probed with two samples of each, before any
    training starts. Returns the sources by object name."""
    if not isinstance(data, Mapping):
        raise RunError(f"data must be a dict object (or its name) -> dataset, "
                       f"got {type(data).__name__}")
    F = program.functor
    S = F.schema
    out: dict[str, object] = {}
    for key, src in data.items():
        try:
            name = S.ob(key).name
        except SchemaError as e:
            raise RunError(f"data: {key!r} is not an object of schema {S.name}: {e}") from None
        src = as_source(src, name)  # a tensor becomes a TensorSource
        check_source(name, F.spaces[S[name]], src)
        out[name] = src
    if not out:
        raise RunError("data is empty: give a dataset for each object with data")
    probe = {k: to_device(first_samples(v, 2), program.device) for k, v in out.items()}
    try:
        program.resolve(probe)
    except BatchError as e:
        raise RunError(f"the data does not feed the program: {e}\n(give "
                       f"Trainer(data={{object: dataset}}) for every object listed)") from None
    return out
