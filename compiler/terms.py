"""Loss terms, computed in groups and summed into named losses by one constant matrix.

A plan has many small loss terms (one adversarial term per fake and critic, one
distance per equation side and factor, one critic term per real and fake). Emitted one
by one they become dozens of tiny kernels; here the terms of one kind whose inputs have
the same shape are stacked (reusing the stacked output of a fused call) and reduced by
one ``vmap``-ed call, the term vectors are concatenated, and every named loss is a row
of a constant matrix applied to that vector: ``losses = A @ terms``, ``total = w · losses``.
"""

from __future__ import annotations

import functools
import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch
import torch.fx as fx
from torch.func import vmap

from .builder import Builder


@functools.cache
def each(fn: Callable) -> Callable:
    """``fn`` applied to every slice along the leading dimension: a vector."""

    def apply(*stacked: torch.Tensor) -> torch.Tensor:
        return vmap(fn)(*stacked)

    apply.__name__ = apply.__qualname__ = f"each_{fn.__name__}"
    return apply


@functools.cache
def one(fn: Callable) -> Callable:
    """``fn`` of one term, as a vector of length one."""

    def apply(*args: torch.Tensor) -> torch.Tensor:
        return fn(*args).reshape(1)

    apply.__name__ = apply.__qualname__ = f"one_{fn.__name__}"
    return apply


@dataclass
class Terms:
    """Loss terms to emit: ``add`` records one, ``losses`` emits them all and the sums."""

    items: list[tuple[Callable, object, tuple[fx.Node, ...]]] = field(default_factory=list)

    def add(self, fn: Callable, key: object, *args: fx.Node) -> int:
        """A term ``fn(*args)``; terms with the same ``fn`` and ``key`` (the shape of their
        arguments) are computed together. Returns the term's index."""
        self.items.append((fn, key, args))
        return len(self.items) - 1

    def emit(self, b: Builder, device: torch.device) -> tuple[fx.Node, list[int]]:
        """The vector of all terms and the position of each term in it."""
        groups: dict[tuple, list[int]] = {}
        for i, (fn, key, _) in enumerate(self.items):
            groups.setdefault((fn, key), []).append(i)
        parts, order = [], []
        for (fn, _), ids in groups.items():
            if len(ids) == 1:
                parts.append(b.call(one(fn), *self.items[ids[0]][2]))
            else:
                n_args = len(self.items[ids[0]][2])
                args = [b.stack([self.items[i][2][k] for i in ids], device) for k in range(n_args)]
                parts.append(b.call(each(fn), *args))
            order += ids
        vector = parts[0] if len(parts) == 1 else b.call(torch.cat, parts)
        position = [0] * len(order)
        for pos, i in enumerate(order):
            position[i] = pos
        return vector, position

    def losses(self, b: Builder, rows: list[list[tuple[int, float]]],
               weights: Sequence[float | Sequence[float]], device: torch.device,
               dtype: torch.dtype = torch.float32) -> tuple[fx.Node, fx.Node]:
        """The vector of named losses (a row each: (term, coefficient) pairs) and the
        weighted total, with constants in the networks' ``dtype``.

        A row's weight is a number, or one number per term of the row: the per-factor
        weights of an equation on a product, which weigh its terms in the total while the
        row's own value stays the plain distance. No terms at all (a program without
        critics has no critic losses) is an empty vector and a zero total."""
        if not self.items:
            return (b.constant("no_losses", torch.zeros(len(rows), device=device, dtype=dtype)),
                    b.constant("zero_total", torch.zeros((), device=device, dtype=dtype)))
        vector, position = self.emit(b, device)
        A = torch.zeros(len(rows), len(self.items), device=device, dtype=dtype)
        t = torch.zeros(len(self.items), device=device, dtype=dtype)
        for r, (row, w) in enumerate(zip(rows, weights, strict=True)):
            scales = [w] * len(row) if isinstance(w, numbers.Real) else list(w)
            for (term, coefficient), scale in zip(row, scales, strict=True):
                A[r, position[term]] += coefficient
                t[position[term]] += coefficient * scale
        values = b.call(torch.mv, b.constant("sum_matrix", A), vector)
        total = b.call(torch.dot, b.constant("total_weights", t), vector)
        return values, total
