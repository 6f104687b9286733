"""``Batches``: an endless, seeded, exactly resumable stream of batch dicts.

Every object is sampled on its own (unpaired): each epoch is a random permutation
derived from ``(seed, object name, epoch)``, so the position in the stream is all the
state there is — ``state_dict()`` is a few integers per object.

>>> from runtime.sources import TensorSource
>>> b = Batches({"A": TensorSource(torch.arange(10.)), "B": TensorSource(torch.zeros(4, 2))}, 4)
>>> x = next(b)
>>> tuple(x["A"].shape), tuple(x["B"].shape)
((4,), (4, 2))
>>> state = b.state_dict()
>>> after = next(b)["A"]
>>> c = Batches({"A": TensorSource(torch.arange(10.)), "B": TensorSource(torch.zeros(4, 2))}, 4)
>>> c.load_state_dict(state)
>>> bool((next(c)["A"] == after).all())
True
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import torch

from category import Ob

from ..errors import RunError, SourceError
from ..sources.augment import Augment
from ..sources.check import as_source
from ..sources.prior import derive_seed
from ..sources.product import Product, is_unbounded

Batch = dict[object, torch.Tensor | tuple[torch.Tensor, ...]]


def _generator(*parts: object) -> torch.Generator:
    return torch.Generator().manual_seed(derive_seed(*parts))


def _gather(source, indices: torch.Tensor) -> torch.Tensor:
    """The samples of a finite (non-product) source at ``indices``, stacked."""
    fast = getattr(source, "gather", None)
    if callable(fast):
        return fast(indices)
    return torch.stack([source[i] for i in indices.tolist()])


class _Stream:
    """One object's position: epoch, position in that epoch's permutation, batches drawn."""

    def __init__(self, key: object, name: str, source: object):
        self.key, self.name, self.source = key, name, source
        self.factors = source.sources if isinstance(source, Product) else (source,)
        self.unbounded = [is_unbounded(s) for s in self.factors]
        self.finite = not all(self.unbounded)
        self.length = len(source)
        self.epoch = self.position = self.step = 0
        self._perm: torch.Tensor | None = None

    def permutation(self, seed: int) -> torch.Tensor:
        if self._perm is None:
            g = _generator(seed, self.name, "epoch", self.epoch)
            self._perm = torch.randperm(self.length, generator=g)
        return self._perm

    def next(self, seed: int, n: int, drop_last: bool, augment: Augment | None,
             shard: tuple[int, int] = (0, 1)):
        parts: list[torch.Tensor] = []
        rank, world = shard
        part = slice(rank * (n // world), (rank + 1) * (n // world))  # of the global batch
        if self.finite:
            end = self.position + n
            if end > self.length if drop_last else self.position >= self.length:
                self.epoch, self.position, self._perm = self.epoch + 1, 0, None
            idx = self.permutation(seed)[self.position:self.position + n]
            self.position += len(idx)
            n = len(idx)
            idx = idx[part] if world > 1 else idx
        for k, (s, unbounded) in enumerate(zip(self.factors, self.unbounded)):
            if unbounded:
                x = s.sample(n, _generator(seed, self.name, "draw", k, self.step))
                parts.append(x[part] if world > 1 else x)
            else:
                parts.append(_gather(s, idx))
        if augment is not None:
            g = _generator(seed, self.name, "augment", self.step,
                           *((rank, world) if world > 1 else ()))
            parts = [x if u else augment(x, g) for x, u in zip(parts, self.unbounded)]
        self.step += 1
        return tuple(parts) if isinstance(self.source, Product) else parts[0]

    def state(self) -> dict[str, int]:
        return {"epoch": self.epoch, "position": self.position, "step": self.step,
                "length": self.length}


class Batches(Iterator[Batch]):
    """Endless batches ``{key: tensor [B, ...]}`` (a tuple of tensors for a product).

    ``sources`` maps an object (or its name) to a dataset, or to a tuple of datasets for
    a product object (paired by index). Each object draws its own seeded permutation per
    epoch; with ``drop_last`` (the default; compiled programs are specialised to the
    batch size) every batch holds exactly ``batch_size`` samples. Priors
    (:class:`~runtime.sources.GaussianPrior`) draw each batch in one call. ``augment``
    (an :class:`~runtime.sources.Augment`, or a dict from key or name to one) is applied
    to image batches, seeded per batch. Batches are moved to ``device`` at the end.

    ``shard=(rank, world)`` (data-parallel training): ``batch_size`` is the *global*
    batch, which ``world`` must divide; this rank gets the ``rank``-th contiguous slice of
    ``batch_size // world`` samples of each global batch, reading only those. The ranks'
    slices are disjoint and together are exactly the batch one process draws, so the
    position (:meth:`state_dict`) is the same for every world size and a run resumes
    with another number of processes. Augmentation is then seeded per rank as well.
    """

    def __init__(self, sources: Mapping[object, object], batch_size: int, seed: int = 0,
                 device: torch.device | str | None = None, drop_last: bool = True,
                 augment: Augment | Mapping[object, Augment] | None = None,
                 shard: tuple[int, int] | None = None):
        if not isinstance(sources, Mapping) or not sources:
            raise RunError(f"Batches needs a non-empty dict object name -> source, "
                           f"got {sources!r}")
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise RunError(f"batch_size must be a positive int, got {batch_size!r}")
        self.batch_size, self.seed, self.drop_last = batch_size, int(seed), drop_last
        self.shard = _shard(shard, batch_size, drop_last)
        self.local_batch_size = batch_size // self.shard[1]
        self.device = None if device is None else torch.device(device)
        self._streams: list[_Stream] = []
        for key, src in sources.items():
            name = key.name if isinstance(key, Ob) else key  # no schema here to resolve in
            if not isinstance(name, str):
                raise RunError(f"a source key must be an object or its name, got {key!r}")
            try:
                src = as_source(src)
                n = len(src)
            except SourceError as e:
                raise SourceError(f"source for object {name}: {e}") from None
            except TypeError:
                raise SourceError(f"source for object {name}: expected a dataset (len() and "
                                  f"[i]), got {type(src).__name__}") from None
            if n < batch_size:
                raise SourceError(f"source for object {name} has {n} samples, fewer than the "
                                  f"batch size {batch_size}: lower batch_size or add data")
            self._streams.append(_Stream(key, name, src))
        names = [s.name for s in self._streams]
        if len(set(names)) != len(names):
            raise RunError(f"two sources for the same object name: {names}")
        if isinstance(augment, Mapping):
            augment = {k.name if isinstance(k, Ob) else k: a for k, a in augment.items()}
            unknown = set(augment) - set(names)
            if unknown:
                raise RunError(f"augment names unknown objects {sorted(unknown)}; "
                               f"the sources are {names}")
            self._augment = dict(augment)
        else:
            self._augment = {n: augment for n in names}

    def __iter__(self) -> Batches:
        return self

    def __next__(self) -> Batch:
        out: Batch = {}
        for s in self._streams:
            x = s.next(self.seed, self.batch_size, self.drop_last, self._augment.get(s.name),
                       self.shard)
            if self.device is not None:
                x = (tuple(t.to(self.device) for t in x) if isinstance(x, tuple)
                     else x.to(self.device))
            out[s.key] = x
        return out

    @property
    def epochs(self) -> dict[str, int]:
        """The current epoch of each object (they differ when sources differ in length)."""
        return {s.name: s.epoch for s in self._streams}

    def state_dict(self) -> dict:
        """Where the stream is: small, picklable; :meth:`load_state_dict` resumes exactly."""
        return {"seed": self.seed, "batch_size": self.batch_size, "drop_last": self.drop_last,
                "objects": {s.name: s.state() for s in self._streams}}

    def load_state_dict(self, state: Mapping) -> None:
        """Continue from ``state``: the next batches are those an uninterrupted run draws."""
        objects = state["objects"]
        names = {s.name for s in self._streams}
        if set(objects) != names:
            raise RunError(f"the saved data position is for objects {sorted(objects)}, "
                           f"but the sources are for {sorted(names)}")
        if state["batch_size"] != self.batch_size or state["drop_last"] != self.drop_last:
            raise RunError(f"the saved data position is for batch_size={state['batch_size']}, "
                           f"drop_last={state['drop_last']}; these batches have "
                           f"batch_size={self.batch_size}, drop_last={self.drop_last}")
        for s in self._streams:
            saved = objects[s.name]
            if saved["length"] != s.length:
                raise RunError(f"the source for object {s.name} has {s.length} samples, but "
                               f"the saved data position is for {saved['length']}: the data "
                               f"changed, so the run cannot resume exactly")
        self.seed = int(state["seed"])
        for s in self._streams:
            saved = objects[s.name]
            s.epoch, s.position, s.step = saved["epoch"], saved["position"], saved["step"]
            s._perm = None


def _shard(shard: object, batch_size: int, drop_last: bool) -> tuple[int, int]:
    """``(rank, world)`` checked: ``world`` divides the global batch, ``0 <= rank < world``."""
    if shard is None:
        return (0, 1)
    ok = (isinstance(shard, tuple) and len(shard) == 2
          and all(isinstance(v, int) and not isinstance(v, bool) for v in shard))
    if not ok or not 0 <= shard[0] < shard[1]:
        raise RunError(f"shard must be (rank, world) with 0 <= rank < world, got {shard!r}")
    rank, world = shard
    if batch_size % world:
        raise RunError(f"the global batch {batch_size} does not divide among {world} "
                       f"processes: use a batch size that is a multiple of {world} (or "
                       f"another number of processes); the per-process batch is "
                       f"global / processes")
    if world > 1 and not drop_last:
        raise RunError("shard=(rank, world) needs drop_last=True: every rank must get an "
                       "equal slice of every batch")
    return rank, world
