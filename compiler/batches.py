"""Reading batches: ``{object or its name: tensor}`` (a tuple for a product object).

Every object the program needs is found — given directly, as a factor of a given
product, or drawn from its prior — and checked against its space; all problems of a
batch are reported in one :class:`BatchError`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping

import torch

from category import Ob

from .errors import BatchError
from .functor import Functor

Batch = Mapping[object, object]
Prior = Callable[[int], torch.Tensor]


def prior(kind: str, space) -> Prior:
    """A sampler for a named prior on a plain space (``"normal"``: standard normal)."""
    if kind != "normal":
        raise ValueError(f"unknown prior {kind!r}; use 'normal' or a callable batch -> tensor")
    (shape,) = space.shapes

    def sample(n: int, device=None) -> torch.Tensor:
        return torch.randn(n, *shape, device=device)

    return sample


class BatchReader:
    """Resolves batches for the objects ``needed`` by a program."""

    def __init__(self, functor: Functor, needed: list[Ob], priors: dict[Ob, Prior]):
        self.functor, self._needed, self.priors = functor, needed, priors
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
        S = self.functor.schema
        given: dict[Ob, tuple[object, object]] = {}
        for k, v in batch.items():
            name = k.name if isinstance(k, Ob) else k
            if not isinstance(name, str) or name not in S or not isinstance(S[name], Ob):
                raise BatchError(f"batch key {k!r} is not an object of schema {S.name}")
            given[S[name]] = (k, v)
        problems: list[str] = []
        size: list[tuple[Ob, int]] = []
        out: dict[Ob, tuple[torch.Tensor, ...]] = {}
        recipe: list | None = []

        def plain(ob: Ob, n: int | None):
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
                prior = self.priors[ob]
                return (prior(n or 1, device) if _takes_device(prior) else prior(n or 1)), None
            return None, None

        def first_size() -> int | None:
            for _, v in given.values():
                t = v if isinstance(v, torch.Tensor) else (v[0] if v else None)
                if isinstance(t, torch.Tensor) and t.dim() > 0:
                    return t.shape[0]
            return None

        n0 = first_size()
        for ob in self._needed:
            space = self.functor.spaces[ob]
            if ob.is_product and ob in given:
                k, v = given[ob]
                if not isinstance(v, (tuple, list)) or len(v) != len(ob.factors):
                    problems.append(f"{ob}: expected a tuple of {len(ob.factors)} tensors "
                                    f"({space}), got {type(v).__name__}")
                    continue
                found = [(x, (k, i)) for i, x in enumerate(v)]
            elif ob.is_product:
                found = [plain(x, n0) for x in ob.factors]
            else:
                found = [plain(ob, n0)]
            parts = tuple(x for x, _ in found)
            if any(p is None for p in parts):
                problems.append(f"{ob}: missing from the batch (expected a batch of {space})")
                continue
            if recipe is not None and all(w is not None for _, w in found):
                recipe.append((ob, [w for _, w in found]))
            else:
                recipe = None
            for x, shape, fac in zip(parts, space.shapes, space.factors, strict=True):
                if not isinstance(x, torch.Tensor):
                    problems.append(f"{ob}: expected a tensor batch of {fac}, "
                                    f"got {type(x).__name__}")
                elif tuple(x.shape[1:]) != shape or x.dim() != len(shape) + 1:
                    problems.append(f"{ob}: expected shape (batch, {', '.join(map(str, shape))})"
                                    f" for {fac}, got {tuple(x.shape)}")
                else:
                    size.append((ob, x.shape[0]))
            out[ob] = parts  # type: ignore[assignment]
        if len({n for _, n in size}) > 1:
            sizes = ", ".join(f"{o}: {n}" for o, n in size)
            problems.append(f"every object needs the same batch size, got {sizes}")
        if problems:
            raise BatchError("bad batch:\n" + "\n".join(f"  - {p}" for p in problems))
        return out, recipe


def _layout(v: object) -> object:
    if isinstance(v, torch.Tensor):
        return (v.shape, v.dtype, v.device)
    if isinstance(v, (tuple, list)):
        return tuple(_layout(x) for x in v)
    return type(v)


def _takes_device(fn) -> bool:
    try:
        return len(inspect.signature(fn).parameters) >= 2
    except (TypeError, ValueError):
        return False
