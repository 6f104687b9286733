"""Building ``torch.fx`` graphs: placeholders, attributes, calls, and stacked values.

The builder remembers which values were taken out of one stacked tensor, so stacking
them again (for the next fused call or a batched loss) reuses the stacked tensor.
"""

from __future__ import annotations

import operator
import re
from dataclasses import dataclass, field

import torch
import torch.fx as fx
from torch import nn


def _ident(text: str) -> str:
    return re.sub(r"\W", "_", text)


@dataclass
class Builder:
    """An fx graph under construction and the module holding what it references."""

    root: nn.Module = field(default_factory=nn.Module)
    graph: fx.Graph = field(default_factory=fx.Graph)
    inputs: list[tuple] = field(default_factory=list)
    origin: dict = field(default_factory=dict)  # fx node -> (stacked node, index)
    stack_len: dict = field(default_factory=dict)
    # the ids of the lone networks called as compile regions (lowering.network_region)
    regional: frozenset = frozenset()
    _attrs: dict = field(default_factory=dict)

    def placeholder(self, name: str, what: tuple) -> fx.Node:
        self.inputs.append(what)
        return self.graph.placeholder(_ident(name) + f"_{len(self.inputs)}")

    def attr(self, name: str, value: nn.Module | torch.Tensor) -> fx.Node:
        key = id(value)
        if key not in self._attrs:
            target = _ident(name)
            if isinstance(value, nn.Module):
                self.root.add_module(target, value)
            else:
                self.root.register_buffer(target, value)
            self._attrs[key] = (target, value)
        return self.graph.get_attr(self._attrs[key][0])

    def constant(self, name: str, t: torch.Tensor) -> fx.Node:
        """A constant tensor held by the graph module (a buffer)."""
        target = f"{name}_{len(self._attrs)}"
        self._attrs[id(t)] = (target, t)
        self.root.register_buffer(target, t)
        return self.graph.get_attr(target)

    def module_target(self, name: str, m: nn.Module) -> str:
        self.attr(name, m)
        return self._attrs[id(m)][0]

    def call(self, fn, *args) -> fx.Node:
        return self.graph.call_function(fn, tuple(args))

    def stack(self, values: list[fx.Node], device: torch.device) -> fx.Node:
        """``torch.stack(values)``, reusing a stacked tensor they were taken from."""
        origins = [self.origin.get(v) for v in values]
        if all(o is not None for o in origins) and len({o[0] for o in origins}) == 1:
            src = origins[0][0]
            ids = [o[1] for o in origins]
            if ids == list(range(self.stack_len[src])):
                return src
            step = ids[1] - ids[0] if len(ids) > 1 else 1
            if step > 0 and ids == list(range(ids[0], ids[-1] + 1, step)):  # a view
                return self.call(operator.getitem, src, slice(ids[0], ids[-1] + 1, step))
            return self.call(torch.index_select, src, 0, self.index(ids, device))
        return self.call(torch.stack, values)

    def unstack(self, stacked: fx.Node, n: int) -> list[fx.Node]:
        self.stack_len[stacked] = n
        out = []
        for i in range(n):
            v = self.call(operator.getitem, stacked, i)
            self.origin[v] = (stacked, i)
            out.append(v)
        return out

    def index(self, ids: list[int], device: torch.device) -> fx.Node:
        t = torch.tensor(ids, dtype=torch.long, device=device)
        name = "idx_" + "_".join(map(str, ids))
        for target, _value in self._attrs.values():
            if target == name:
                return self.graph.get_attr(name)
        self._attrs[id(t)] = (name, t)
        self.root.register_buffer(name, t)
        return self.graph.get_attr(name)

    def finish(self, outputs: list[fx.Node], name: str) -> fx.GraphModule:
        self.graph.output(tuple(outputs))
        self.graph.lint()
        gm = fx.GraphModule(self.root, self.graph, class_name=name)
        return gm
