"""Reading batches: ``{object or its name: tensor}`` (a tuple for a product object).

Every object the program needs is found — given directly, as a factor of a given
product, or drawn from its prior — and checked against its space; all problems of a
batch are reported in one :class:`BatchError`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

import torch

from category import Ob, SchemaError

from .errors import BatchError

if TYPE_CHECKING:  # functor.py checks its own batches with tensor_problem below
    from .functor import Functor

Batch = Mapping[object, object]
Prior = Callable[[int], torch.Tensor]


def prior(kind: str, space) -> Prior:
    """A sampler for a named prior on a plain space (``"normal"``: standard normal)."""
    if kind != "normal":
        raise ValueError(f"unknown prior {kind!r}; use 'normal' or a callable batch -> tensor")
    (shape,) = space.shapes

    def sample(n: int, device=None, dtype=None) -> torch.Tensor:
        return torch.randn(n, *shape, device=device, dtype=dtype)

    return sample


class BatchReader:
    """Resolves batches for the objects ``needed`` by a program.

    ``dtype`` and ``device``, where given, are those of the networks' parameters: a
    batch in another dtype or on another device is refused with the conversion to make
    (cdl never converts data silently).
    """

    def __init__(self, functor: Functor, needed: list[Ob], priors: dict[Ob, Prior],
                 dtype: torch.dtype | None = None, device: torch.device | None = None):
        self.functor, self._needed, self.priors = functor, needed, priors
        self.dtype, self.device = dtype, device
        self._recipe: tuple | None = None

    def read(self, batch: Batch) -> dict[Ob, tuple[torch.Tensor, ...]]:
        """The data of every object the program needs, checked against its space.

        A batch laid out like the previous valid one (same keys, shapes, dtypes,
        devices, no prior sampled) is read with the recipe found for that one.
        """
        if not isinstance(batch, Mapping):
            raise BatchError(f"a batch is a dict object (or its name) -> tensor, "
                             f"got {type(batch).__name__}")
        signature = tuple((k, _layout(v)) for k, v in batch.items())
        if self._recipe is not None and signature == self._recipe[0]:
            return {ob: tuple(batch[k] if i is None else batch[k][i] for k, i in how)
                    for ob, how in self._recipe[1]}
        out, recipe = self._resolve(batch)
        self._recipe = (signature, recipe) if recipe is not None else None
        return out

    def _resolve(self, batch: Batch) -> tuple[dict, list | None]:
        """The data of every needed object and the recipe that found it (None if a
        prior was sampled); every problem of the batch in one :class:`BatchError`."""
        given = _given(self.functor.schema, batch)
        problems: list[str] = []
        size: list[tuple[Ob, int]] = []
        out: dict[Ob, tuple[torch.Tensor, ...]] = {}
        recipe: list | None = []
        n0 = _first_size(given)
        for ob in self._needed:
            space = self.functor.spaces[ob]
            found = self._find(given, ob, n0, problems)
            if found is None:
                continue
            parts = tuple(x for x, _ in found)
            if recipe is not None and all(w is not None for _, w in found):
                recipe.append((ob, [w for _, w in found]))
            else:
                recipe = None
            for x, shape, fac in zip(parts, space.shapes, space.factors, strict=True):
                problem = tensor_problem(x, shape, fac, self.dtype, self.device)
                if problem:
                    problems.append(f"{ob}: {problem}")
                else:
                    size.append((ob, x.shape[0]))
            out[ob] = parts  # type: ignore[assignment]
        problems += _size_problems(size)
        if problems:
            raise BatchError("bad batch:\n" + "\n".join(f"  - {p}" for p in problems))
        return out, recipe

    def _find(self, given: dict, ob: Ob, n: int | None,
              problems: list[str]) -> list[tuple] | None:
        """The data of ``ob``, one (tensor, where it was found) per factor; None and a
        problem noted if it is missing or a given product is not a tuple."""
        space = self.functor.spaces[ob]
        if ob.is_product and ob in given:
            k, v = given[ob]
            bad = tuple_problem(space, v)
            if bad:
                problems.append(f"{ob}: {bad}")
                return None
            found = [(x, (k, i)) for i, x in enumerate(v)]
        elif ob.is_product:
            found = [self._plain(given, x, n) for x in ob.factors]
        else:
            found = [self._plain(given, ob, n)]
        if any(x is None for x, _ in found):
            problems.append(f"{ob}: missing from the batch (expected a batch of {space})")
            return None
        return found

    def _plain(self, given: dict, ob: Ob, n: int | None) -> tuple:
        """The data of a plain object and where it was found (None: sampled)."""
        if ob in given:
            return given[ob][1], (given[ob][0], None)
        for p, (k, v) in given.items():
            if p.is_product and ob in p.factors and isinstance(v, (tuple, list)):
                i = p.factors.index(ob)
                return v[i], (k, i)
        if ob in self.priors:
            device = next(iter(t for _, t in given.values() if isinstance(t, torch.Tensor)),
                          torch.empty(0)).device
            return _sample(self.priors[ob], n or 1, device, self.dtype), None
        return None, None


def _given(S, batch: Batch) -> dict[Ob, tuple[object, object]]:
    """The batch by object (``S.ob``): object → (the key as given, the value)."""
    given: dict[Ob, tuple[object, object]] = {}
    for k, v in batch.items():
        try:
            given[S.ob(k)] = (k, v)
        except SchemaError as e:
            raise BatchError(f"batch key {k!r}: {e}") from None
    return given


def _first_size(given: dict) -> int | None:
    """The batch size of the first tensor given (of a product's first factor)."""
    for _, v in given.values():
        t = v[0] if isinstance(v, (tuple, list)) and v else v
        if isinstance(t, torch.Tensor) and t.dim() > 0:
            return t.shape[0]
    return None


def _size_problems(size: list[tuple[Ob, int]]) -> list[str]:
    if len({n for _, n in size}) > 1:
        sizes = ", ".join(f"{o}: {n}" for o, n in size)
        return [f"every object needs the same batch size, got {sizes}"]
    if size and size[0][1] == 0:
        return ["the batch is empty (batch size 0): every loss would be the mean "
                "of nothing (NaN); give at least one sample per object"]
    return []


def tuple_problem(space, value: object) -> str | None:
    """What is wrong with ``value`` as the tuple of factors of a product ``space``."""
    if isinstance(value, (tuple, list)) and len(value) == len(space.shapes):
        return None
    return f"expected a tuple of {len(space.shapes)} tensors ({space}), got {type(value).__name__}"


def point_problems(space, value: object, dtype: torch.dtype | None = None,
                   device: torch.device | None = None) -> list[str]:
    """Everything wrong with ``value`` as a batch of points of ``space``."""
    if space.is_product:
        bad = tuple_problem(space, value)
        if bad:
            return [bad]
    parts = value if space.is_product else (value,)
    return [p for x, shape, fac in zip(parts, space.shapes, space.factors, strict=True)
            if (p := tensor_problem(x, shape, fac, dtype, device))]


def tensor_problem(x: object, shape: tuple, fac, dtype: torch.dtype | None = None,
                   device: torch.device | None = None) -> str | None:
    """What is wrong with ``x`` as a batch of the space ``fac`` (of sample ``shape``)."""
    if not isinstance(x, torch.Tensor):
        hint = ": convert it with torch.from_numpy(x)" if type(x).__module__ == "numpy" else ""
        return f"expected a tensor batch of {fac}, got {type(x).__name__}{hint}"
    if tuple(x.shape[1:]) != shape or x.dim() != len(shape) + 1:
        return (f"expected shape (batch, {', '.join(map(str, shape))}) for {fac}, "
                f"got {tuple(x.shape)}")
    if dtype is not None and x.dtype != dtype:
        return (f"expected dtype {dtype} (that of the networks' parameters), got "
                f"{x.dtype}: convert it with x.to({dtype})")
    if device is not None and x.device != device:
        return (f"expected a tensor on {device} (where the networks' parameters "
                f"are), got one on {x.device}: move it with x.to('{device}')")
    return None


def _layout(v: object) -> object:
    if isinstance(v, torch.Tensor):
        return (v.shape, v.dtype, v.device)
    if isinstance(v, (tuple, list)):
        return tuple(_layout(x) for x in v)
    return type(v)


def _sample(prior: Prior, n: int, device: torch.device, dtype: torch.dtype | None):
    """``prior(n)``, with the device (and dtype) where its signature takes them."""
    try:
        params = inspect.signature(prior).parameters
    except (TypeError, ValueError):
        return prior(n)
    if "dtype" in params:
        return prior(n, device, dtype=dtype)
    return prior(n, device) if len(params) >= 2 else prior(n)
