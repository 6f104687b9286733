"""Stacked evaluation: G copies of one architecture applied at once, one kernel per layer.

A network is *stackable* when ``torch.fx`` traces it (user-defined classes included)
into a chain of layers this module knows — ``Linear`` (a batched matmul), parameter-free
elementwise modules, and elementwise functions and methods — on a single input. Its
stacked evaluation is then emitted layer by layer into the program's graph (:func:`emit`)
and is also available as a function (:func:`stacked_forward`). Other networks are fused
with ``vmap(functional_call)``.

>>> import torch
>>> from torch import nn
>>> net = nn.Sequential(nn.Linear(3, 4), nn.SiLU(), nn.Linear(4, 2))
>>> stackable(net) is not None, stackable(nn.Sequential(nn.Conv2d(1, 1, 3))) is None
(True, True)
>>> P = {n: torch.stack([p, p]) for n, p in net.named_parameters()}
>>> x = torch.randn(2, 5, 3)
>>> torch.allclose(stacked_forward(net, P, x)[1], net(x[1]), atol=1e-6)
True
"""

from __future__ import annotations

import operator
import weakref
from collections.abc import Callable

import torch
import torch.fx as fx
import torch.nn.functional as nnf
from torch import nn

ELEMENTWISE_MODULES: tuple[type, ...] = (
    nn.ReLU, nn.SiLU, nn.LeakyReLU, nn.Tanh, nn.Sigmoid, nn.GELU, nn.ELU, nn.Softplus,
    nn.Identity, nn.Mish, nn.Hardtanh, nn.Dropout)
ELEMENTWISE_FUNCTIONS: frozenset = frozenset({
    operator.add, operator.sub, operator.mul, operator.truediv, operator.neg,
    torch.add, torch.sub, torch.mul, torch.relu, torch.tanh, torch.sigmoid, torch.exp,
    torch.sin, torch.cos, nnf.relu, nnf.silu, nnf.gelu, nnf.leaky_relu, nnf.elu,
    nnf.softplus, nnf.mish, nnf.tanh, nnf.sigmoid})
ELEMENTWISE_METHODS: frozenset = frozenset({
    "relu", "tanh", "sigmoid", "exp", "add", "sub", "mul", "neg", "__add__", "__mul__"})


def stacked_linear(weight: torch.Tensor, bias: torch.Tensor | None,
                   x: torch.Tensor) -> torch.Tensor:
    """``x[i] @ weight[i].T + bias[i]`` for every member i, as one batched matmul."""
    g, shape = x.shape[0], x.shape[1:-1]
    flat = x.reshape(g, -1, x.shape[-1])
    y = torch.bmm(flat, weight.transpose(1, 2))  # baddbmm's backward is slow on CPU here
    if bias is not None:
        y = y + bias.unsqueeze(1)
    return y.reshape(g, *shape, y.shape[-1])


_TRACED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def stackable(m: nn.Module) -> fx.GraphModule | None:
    """The traced network if every step of it has a stacked lowering, else None."""
    if m in _TRACED:
        return _TRACED[m]
    try:
        gm = fx.symbolic_trace(m)
    except Exception:  # noqa: BLE001 - untraceable: not stackable
        gm = None
    if gm is not None and not _all_known(gm, m):
        gm = None
    _TRACED[m] = gm
    return gm


def _all_known(gm: fx.GraphModule, m: nn.Module) -> bool:
    inputs = 0
    for node in gm.graph.nodes:
        if node.op == "placeholder":
            inputs += 1
        elif node.op == "call_module":
            sub = m.get_submodule(node.target)
            if type(sub) is nn.Linear:
                continue
            if not isinstance(sub, ELEMENTWISE_MODULES) or list(sub.parameters()):
                return False
            if isinstance(sub, nn.Dropout) and sub.p > 0:
                return False
        elif node.op == "call_function":
            if node.target not in ELEMENTWISE_FUNCTIONS:
                return False
        elif node.op == "call_method":
            if node.target not in ELEMENTWISE_METHODS:
                return False
        elif node.op != "output":
            return False  # get_attr: a parameter used directly
    return inputs == 1


def _params_of(prefix: str, p: dict) -> dict:
    prefix += "."
    return {k[len(prefix):]: v for k, v in p.items() if k.startswith(prefix)}


def _run(gm: fx.GraphModule, m: nn.Module, p: dict, x, on_linear: Callable,
         on_module: Callable, on_call: Callable):
    env: dict = {}

    def load(a):
        return fx.node.map_arg(a, lambda n: env[n])

    for node in gm.graph.nodes:
        if node.op == "placeholder":
            env[node] = x
        elif node.op == "call_module":
            sub = m.get_submodule(node.target)
            (arg,) = load(node.args)
            if type(sub) is nn.Linear:
                sp = _params_of(node.target, p)
                env[node] = on_linear(sp["weight"], sp.get("bias"), arg)
            else:
                env[node] = on_module(node.target, sub, arg)
        elif node.op in ("call_function", "call_method"):
            env[node] = on_call(node, load(node.args), load(node.kwargs))
        elif node.op == "output":
            return load(node.args[0])
    raise AssertionError("graph without output")


def _call(node: fx.Node, args, kwargs):
    if node.op == "call_method":
        return getattr(args[0], node.target)(*args[1:], **kwargs)
    return node.target(*args, **kwargs)


def stacked_forward(m: nn.Module, p: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """``m`` applied G times: member i with parameters ``p[·][i]`` on ``x[i]``."""
    gm = stackable(m)
    assert gm is not None, f"{type(m).__name__} has no stacked lowering"
    return _run(gm, m, p, x, stacked_linear, lambda _, sub, a: sub(a), _call)


def emit(b, gm: fx.GraphModule, m: nn.Module, prefix: str, p: dict[str, fx.Node],
         x: fx.Node) -> fx.Node:
    """Emit ``m``'s stacked evaluation into the graph being built by ``b`` (a
    ``builder.Builder``): one node per layer, the parameters ``p`` by name."""

    def on_module(target, sub, a):
        return b.graph.call_module(b.module_target(f"{prefix}_{target}", sub), (a,))

    def on_call(node, args, kwargs):
        if node.op == "call_method":
            return b.graph.call_method(node.target, tuple(args), dict(kwargs))
        return b.graph.call_function(node.target, tuple(args), dict(kwargs))

    return _run(gm, m, p, x, lambda w, bias, a: b.call(stacked_linear, w, bias, a),
                on_module, on_call)
