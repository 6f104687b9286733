"""Data along a schema map ``G: D -> C``: Δ takes ``C``'s data to ``D``, Σ takes ``D``'s to ``C``.

- :func:`pullback_data` (Δ_G): each object ``d`` of ``D`` gets the data of ``G(d)`` — the
  same source, not a copy — so an experiment on ``D`` reuses another's sources on ``C``
  along a map (the data of :meth:`Functor.pullback <compiler.Functor.pullback>`).
- :func:`pushforward_data` (Σ_G, on objects): each object ``c`` of ``C`` gets the union of
  its preimages' data, one :class:`Concat` when a map merges several objects into one
  (three fonts onto two: Bold's data is Bold's glyphs and Bold Oblique's); the samples
  merged must fit ``c``'s space (checked against ``spaces`` when given, else against
  each other).

>>> import torch
>>> from category import SchemaMap
>>> G = SchemaMap.read("examples/triangle_fonts.map")
>>> data = {"Sans": torch.zeros(5, 2), "Bold": torch.ones(3, 2), "BoldOblique": torch.ones(4, 2)}
>>> merged = pushforward_data(G, data)
>>> {name: len(source) for name, source in merged.items()}
{'Sans': 5, 'Bold': 7}
>>> {name: len(source) for name, source in pullback_data(G, merged).items()}
{'Sans': 5, 'Bold': 7, 'BoldOblique': 7}
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch.utils.data import Dataset

from category import Ob, SchemaError, SchemaMap

from ..errors import SourceError
from .check import as_source, check_source
from .product import Product, is_unbounded

__all__ = ["Concat", "pullback_data", "pushforward_data"]


class Concat(Dataset):
    """The samples of several finite sources one after the other (sample ``i`` of the
    second source is sample ``len(first) + i``); ``gather`` takes each part's fast path.

    >>> from .tensor import TensorSource
    >>> c = Concat(TensorSource(torch.zeros(2, 3)), TensorSource(torch.ones(1, 3)))
    >>> len(c), c[2].tolist(), c.gather(torch.tensor([2, 0])).sum().item()
    (3, [1.0, 1.0, 1.0], 3.0)
    """

    def __init__(self, *sources: Dataset):
        if not sources:
            raise SourceError("Concat needs at least one source")
        for k, s in enumerate(sources):
            if is_unbounded(s):
                raise SourceError(f"Concat: part {k} ({s!r}) draws fresh samples (a prior): "
                                  "it has no finite set of samples to put beside others")
        self.sources = tuple(sources)
        self.offsets = [0]
        for s in sources:
            self.offsets.append(self.offsets[-1] + len(s))

    def __len__(self) -> int:
        return self.offsets[-1]

    def _part(self, i: int) -> tuple[int, int]:
        if not 0 <= i < len(self):
            raise IndexError(f"Concat index {i} out of range (length {len(self)})")
        k = next(k for k in range(len(self.sources)) if i < self.offsets[k + 1])
        return k, i - self.offsets[k]

    def __getitem__(self, i: int):
        k, j = self._part(int(i))
        return self.sources[k][j]

    def gather(self, indices: torch.Tensor) -> torch.Tensor:
        """The samples at ``indices`` as one batch, each part read with its own ``gather``
        when it has one."""
        bounds = torch.tensor(self.offsets[1:-1], dtype=indices.dtype)
        part = torch.bucketize(indices, bounds, right=True)
        out: torch.Tensor | None = None
        for k, s in enumerate(self.sources):
            where = (part == k).nonzero().flatten()
            if not len(where):
                continue
            local = indices[where] - self.offsets[k]
            fast = getattr(s, "gather", None)
            got = fast(local) if callable(fast) else torch.stack([s[j] for j in local.tolist()])
            if out is None:
                out = got.new_empty((len(indices), *got.shape[1:]))
            out[where] = got
        assert out is not None  # indices is not empty: some part holds the first
        return out

    def __repr__(self) -> str:
        return f"Concat({', '.join(map(repr, self.sources))})"


def _keyed(schema, data: Mapping, which: str) -> dict[Ob, object]:
    if not isinstance(data, Mapping):
        raise SourceError(f"data must be a dict object (or its name) -> dataset, "
                          f"got {type(data).__name__}")
    out = {}
    for key, src in data.items():
        try:
            out[schema.ob(key)] = src
        except SchemaError as e:
            raise SourceError(f"data: {key!r} is not an object of the map's {which} "
                              f"{schema.name}: {e}") from None
    return out


def _check_objects(G: SchemaMap) -> None:
    missing = [o.name for o in G.source.objects() if o not in G.ob]
    if missing:
        raise SourceError(f"{G!r} gives no image to object(s) {', '.join(missing)}: data "
                          f"moves along a map of every object")


def pullback_data(G: SchemaMap, data: Mapping[object, object]) -> dict[str, object]:
    """Δ_G on data: ``{d: data[G(d)]}`` for each object ``d`` of ``G.source`` whose image
    has data (``data``: object of ``G.target`` or its name → source), by ``d``'s name.
    The sources are the same objects, not copies."""
    _check_objects(G)
    given = _keyed(G.target, data, "target")
    return {d.name: given[G.ob[d]] for d in G.source.objects() if G.ob[d] in given}


def pushforward_data(G: SchemaMap, data: Mapping[object, object],
                     spaces: Mapping[object, object] | None = None) -> dict[str, object]:
    """Σ_G on the data of objects: for each object ``c`` of ``G.target`` with a preimage
    that has data (``data``: object of ``G.source`` or its name → source), the union of
    those preimages' data, by ``c``'s name — the source itself for one preimage, a
    :class:`Concat` for several (a :class:`Product` of factor-wise concatenations for
    a product object).

    ``spaces`` (object of ``G.target`` or its name → space, e.g. a functor's
    ``F.spaces``): every preimage's source is checked against ``c``'s space. Without
    it, the first samples of the merged sources must agree in shape and dtype.
    """
    _check_objects(G)
    given = _keyed(G.source, data, "source")
    out: dict[str, object] = {}
    for c in G.target.objects():
        parts = [(d, as_source(given[d], d.name)) for d in G.source.objects()
                 if G.ob[d] == c and d in given]
        if not parts:
            continue
        space = _space(spaces, c) if spaces is not None else None
        for d, src in parts:
            if space is not None:
                check_source(f"{c} (the data of {d} of {G.source.name})", space, src)
        if len(parts) == 1:
            out[c.name] = parts[0][1]
            continue
        if space is None:
            _same_samples(c, parts)
        for d, src in parts:
            if is_unbounded(src):
                raise SourceError(f"object {c} of {G.target.name} merges {_names(parts)}, but "
                                  f"{d}'s source draws fresh samples (a prior): give it a "
                                  "finite source, or keep it apart")
        sources = [src for _, src in parts]
        if all(isinstance(s, Product) for s in sources):
            factors = zip(*(s.sources for s in sources), strict=True)
            out[c.name] = Product(*(Concat(*f) for f in factors))
        else:
            out[c.name] = Concat(*sources)
    return out


def _space(spaces: Mapping, c: Ob):
    for key in (c, c.name):
        try:
            return spaces[key]
        except KeyError:
            continue
    raise SourceError(f"spaces has no space for object {c} (give one for every object "
                      "that receives data, e.g. the functor's F.spaces)")


def _names(parts) -> str:
    return ", ".join(str(d) for d, _ in parts)


def _describe(x) -> str:
    if isinstance(x, torch.Tensor):
        return f"{tuple(x.shape)} {x.dtype}"
    if isinstance(x, (tuple, list)):
        return "(" + ", ".join(_describe(t) for t in x) + ")"
    return type(x).__name__


def _same_samples(c: Ob, parts) -> None:
    """The merged sources' first samples agree in shape and dtype."""
    seen = [(d, _describe(src[0])) for d, src in parts]
    if len({s for _, s in seen}) > 1:
        shown = "; ".join(f"{d}: {s}" for d, s in seen)
        raise SourceError(f"object {c} merges the data of {_names(parts)}, whose samples "
                          f"differ ({shown}): one object's samples must share one space")
