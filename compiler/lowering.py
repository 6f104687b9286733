"""Lowering: a fused plan becomes two ``torch.fx`` graphs.

The generator graph maps (stacked parameters, data) to the generator losses and the
fakes; the critic graph maps (stacked critic parameters, reals, detached fakes,
interpolation weights) to the critic losses. User modules appear in the graphs as
submodules (called directly when alone in their bank, through ``functional_call`` with
stacked parameters under ``vmap`` when fused), so ``torch.compile`` sees everything.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass

import torch
import torch.fx as fx
from torch import nn
from torch.func import functional_call, grad, vmap

from .builder import Builder
from .functor import meta_run
from .fusion import Bank, Banks
from .losses import Adversarial, interpolate
from .plan import Plan
from .stacked import emit, stackable
from .terms import Terms


# ---------------------------------------------------------------------- graph helpers
def fused_apply(module: nn.Module, names: tuple[str, ...], params: tuple, inputs: tuple):
    """``module`` applied G times at once: member i uses ``params[k][i]`` on ``inputs[·][i]``."""
    def one(p, *xs):
        return functional_call(module, dict(zip(names, p, strict=False)), xs)

    return vmap(one)(tuple(params), *inputs)


def single_apply(module: nn.Module, names: tuple[str, ...], params: tuple, inputs: tuple):
    """``module`` applied once with the given parameters."""
    return functional_call(module, dict(zip(names, params, strict=False)), tuple(inputs))


def detached_apply(module: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """``module(x)`` with no gradient reaching the module's parameters."""
    params = {n: p.detach() for n, p in module.named_parameters()}
    return functional_call(module, params, (x,))


@torch.compiler.nested_compile_region
def network_region(module: nn.Module, params: dict, *xs: torch.Tensor):
    """``module`` on ``xs`` with ``params``, as one nested compile region.

    Every call of a network in a graph is otherwise traced, lowered and built again:
    CycleGAN's step applies each generator twice (``f``, then ``g.f``) and each critic
    on reals, fakes and, detached, in the generator losses, so the step's graph holds
    four copies of one generator architecture, each built as its own C++ kernels. As a
    region with the parameters as inputs, Inductor builds one architecture once and
    calls it wherever the plan applies it, also across the networks that share it.
    Outside ``torch.compile`` it is a plain call.
    """
    return functional_call(module, params, xs)


def regional_apply(module: nn.Module, *xs: torch.Tensor):
    """``module(*xs)`` as a compile region (:func:`network_region`)."""
    return network_region(module, dict(module.named_parameters()), *xs)


def regional_detached_apply(module: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """:func:`detached_apply` as a compile region (:func:`network_region`)."""
    return network_region(module, {n: p.detach() for n, p in module.named_parameters()}, x)


def in_region(module: nn.Module, space) -> bool:
    """Whether ``module`` (on points of ``space``) may run as a compile region: not one
    with buffers (``BatchNorm``'s running statistics, updated in place by a training
    forward), nor one returning a view or its input (a split of one tensor into a
    product's factors; an identity), nor one on a product (its factors may be views of
    one tensor), since a region may neither mutate what it is given nor take or return
    aliases. Those are called inline. Decided by a run on meta tensors."""
    if space.is_product or next(module.buffers(), None) is not None:
        return False
    point = space.meta(2)
    try:
        out = meta_run(module, space, point)
    except Exception:  # noqa: BLE001 - the functor's checks report failing networks
        return False
    outs = out if isinstance(out, (tuple, list)) else (out,)
    return all(isinstance(o, torch.Tensor) and o._base is None and o is not point
               for o in outs)


def fused_input_grad(module: nn.Module, names: tuple[str, ...], params: tuple,
                     x: torch.Tensor) -> torch.Tensor:
    """Per member, the gradient of ``sum(module(x))`` with respect to ``x``."""

    def score(p, xx):
        return functional_call(module, dict(zip(names, p, strict=False)), (xx,)).sum()

    return vmap(grad(score, argnums=1))(tuple(params), x)


def input_grad(module: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The gradient of ``sum(module(x))`` with respect to ``x`` (differentiable)."""
    params = dict(module.named_parameters())

    def score(p, xx):
        return functional_call(module, p, (xx,)).sum()

    return grad(score, argnums=1)(params, x)


def mean_of(*xs: torch.Tensor) -> torch.Tensor:
    return torch.stack(xs).mean() if len(xs) > 1 else xs[0]


def total(*terms: torch.Tensor) -> torch.Tensor:
    return torch.stack(terms).sum() if terms else torch.zeros(())


def weighted(x: torch.Tensor, w: float) -> torch.Tensor:
    return x * w


def _device(bank: Bank) -> torch.device:
    return next(bank.modules[0].parameters()).device


def _bank_params(b: Builder, bank: Bank, stacks: dict, detach: bool) -> list[fx.Node]:
    """The placeholders of a stacked bank (created once per graph)."""
    if bank.name not in stacks:
        nodes = [b.placeholder(f"{bank.name}_{n}", ("stack", bank.name, k))
                 for k, n in enumerate(bank.names)]
        if detach:
            nodes = [b.graph.call_method("detach", (n,)) for n in nodes]
        stacks[bank.name] = nodes
    return stacks[bank.name]


def _member_params(b: Builder, bank: Bank, stacks: dict, members: list[int],
                   detach: bool) -> list[fx.Node]:
    params = _bank_params(b, bank, stacks, detach)
    if members == list(range(bank.size)):
        return params
    first = members[0]
    if members == list(range(first, first + len(members))):  # a view, not a gather
        return [b.call(operator.getitem, p, slice(first, first + len(members))) for p in params]
    idx = b.index(members, _device(bank))
    return [b.call(torch.index_select, p, 0, idx) for p in params]


def apply_bank(b: Builder, bank: Bank, stacks: dict, members: list[int],
               inputs: list[list[fx.Node]], n_out: int, detach: bool = False,
               product_in: bool = False) -> list[list[fx.Node]]:
    """Evaluate ``bank`` members on inputs (each a list of factor nodes); returns each
    output's factor nodes. ``n_out`` factors per output (1 for a plain codomain)."""
    outs: list[list[fx.Node]] = []
    if not bank.stacked:
        m = bank.modules[0]
        regional = id(m) in b.regional
        for xs in inputs:
            if regional:
                net = b.attr(f"net_{bank.name}", m)
                y = (b.call(regional_detached_apply, net, xs[0]) if detach
                     else b.call(regional_apply, net, *xs))
            elif detach:
                y = b.call(detached_apply, b.attr(f"net_{bank.name}", m), xs[0])
            else:
                y = b.graph.call_module(b.module_target(f"net_{bank.name}", m), tuple(xs))
            outs.append(_factors(b, y, n_out))
        return outs
    rep = b.attr(f"rep_{bank.name}", bank.modules[0])
    if len(members) == 1:
        params = _bank_params(b, bank, stacks, detach)
        params = [b.call(operator.getitem, p, members[0]) for p in params]
        y = b.call(single_apply, rep, bank.names, tuple(params), tuple(inputs[0]))
        return [_factors(b, y, n_out)]
    params = _member_params(b, bank, stacks, members, detach)
    device = _device(bank)
    stacked_in = tuple(b.stack([xs[j] for xs in inputs], device) for j in range(len(inputs[0])))
    traced = stackable(bank.modules[0])
    if traced is not None and len(stacked_in) == 1:  # layer by layer, in this graph
        y = emit(b, traced, bank.modules[0], f"rep_{bank.name}",
                 dict(zip(bank.names, params, strict=True)), stacked_in[0])
    else:
        y = b.call(fused_apply, rep, bank.names, tuple(params), stacked_in)
    per_factor = [b.unstack(f, len(inputs)) for f in _factors(b, y, n_out)]
    return [[pf[i] for pf in per_factor] for i in range(len(inputs))]


def _factors(b: Builder, y: fx.Node, n: int) -> list[fx.Node]:
    return [y] if n == 1 else [b.call(operator.getitem, y, j) for j in range(n)]


@dataclass
class Critics:
    """The critics as the graphs evaluate them: each object's critic module, the banks
    they live in, and the one rule grouping critic evaluations into fused calls and
    batched loss terms (:meth:`group`)."""

    modules: dict  # object -> critic module
    banks: Banks
    shapes: dict  # object -> factor shapes

    def bank(self, ob) -> tuple[Bank, int]:
        """The bank of ``ob``'s critic and the critic's member index in it."""
        return self.banks[self.modules[ob]]

    def group(self, ob, alone: object) -> object:
        """The group of an evaluation of ``ob``'s critic: the critics of one stacked bank
        on inputs of one shape are one group (one fused call, one batched loss term); a
        critic alone in its bank is in the group ``alone``."""
        bank, _ = self.bank(ob)
        return (bank.name, self.shapes[ob]) if bank.stacked else alone

    def calls(self, items: list[tuple]) -> list[list[int]]:
        """The indices of ``items`` (object, tensor) grouped into calls: by :meth:`group`,
        each item of a critic alone in its bank in a call of its own."""
        groups: dict[object, list[int]] = {}
        for i, (ob, _) in enumerate(items):
            groups.setdefault(self.group(ob, ("alone", i)), []).append(i)
        return list(groups.values())

    def term_key(self, ob) -> object:
        """The key of a loss term on the scores of ``ob``'s critic (``Terms.add``): the
        terms of one group are reduced together, those of a lone critic by object."""
        return self.group(ob, ("alone", ob))


def _stack_order(b: Builder, ids: list[int], items: list[tuple]) -> list[int]:
    """``ids`` ordered as their tensors lie in the stacked tensors they were taken from
    (so that stacking them again reuses those tensors rather than gathering)."""
    stacked = {s: k for k, s in enumerate(b.stack_len)}

    def key(i: int) -> tuple:
        o = b.origin.get(items[i][1])
        return (0, stacked[o[0]], o[1]) if o is not None else (1, i)

    return sorted(ids, key=key)


def _rounds(ids: list[int], member: dict[int, int]) -> list[list[int]]:
    """``ids`` in rounds of distinct members: round r holds the r-th item of each member
    that has more than r, in bank order (the whole stack or, banks being ordered most
    used first, a leading slice of it)."""
    per: dict[int, list[int]] = {}
    for i in ids:
        per.setdefault(member[i], []).append(i)
    rounds: list[list[int]] = []
    for r in range(max(len(v) for v in per.values())):
        rounds.append([v[r] for _, v in sorted(per.items()) if len(v) > r])
    return rounds


def critic_scores(b: Builder, critics: Critics, stacks: dict, items: list[tuple],
                  detach: bool) -> tuple[list[fx.Node], list[int]]:
    """Scores of the critic of each item's object on the item's tensor, fused by bank;
    and the order in which the scores come out of the fused calls.

    With ``detach`` (the generator graph) the tensors are taken in their stacked order
    and the detached critic parameters gathered to match (a gather with no backward).
    Otherwise (the critic graph) a critic scoring several tensors is evaluated in
    rounds of distinct critics, each round's parameters the stack or a slice of it, so
    that no parameter is gathered (whose backward would be a scatter-add)."""
    out: list[fx.Node | None] = [None] * len(items)
    order: list[int] = []
    for ids in critics.calls(items):
        bank, _ = critics.bank(items[ids[0]][0])
        member = {i: critics.bank(items[i][0])[1] for i in ids}
        if detach or not bank.stacked:
            calls = [_stack_order(b, ids, items)]
        else:
            calls = _rounds(ids, member)
        for call in calls:
            ys = apply_bank(b, bank, stacks, [member[i] for i in call],
                            [[items[i][1]] for i in call], 1, detach)
            for i, y in zip(call, ys, strict=True):
                out[i] = y[0]
            order += call
    return out, order  # type: ignore[return-value]


def critic_input_grads(b: Builder, critics: Critics, stacks: dict,
                       items: list[tuple]) -> list[fx.Node]:
    """Input gradients of each item's critic at the item's tensor (for a regulariser)."""
    out: list[fx.Node | None] = [None] * len(items)
    for ids in critics.calls(items):
        bank, _ = critics.bank(items[ids[0]][0])
        if not bank.stacked:
            for i in ids:
                m = b.attr(f"net_{bank.name}", bank.modules[0])
                out[i] = b.call(input_grad, m, items[i][1])
            continue
        members = [critics.bank(items[i][0])[1] for i in ids]
        params = _member_params(b, bank, stacks, members, False)
        x = b.call(torch.stack, [items[i][1] for i in ids])
        g = b.call(fused_input_grad, b.attr(f"rep_{bank.name}", bank.modules[0]),
                   bank.names, tuple(params), x)
        for i, gi in zip(ids, b.unstack(g, len(ids)), strict=False):
            out[i] = gi
    return out  # type: ignore[return-value]


# ---------------------------------------------------------------------- the two graphs
@dataclass
class Lowered:
    """A graph and how to feed it and read it.

    Inputs are described by ``inputs``; the outputs are the vector of the losses named
    ``names``, their weighted total, then the fakes ``fakes`` (node, factor)."""

    module: fx.GraphModule
    inputs: list[tuple]
    names: list[str]
    fakes: list[tuple[int, int]]


def critics_of(plan: Plan, spaces: dict) -> Critics:
    """The plan's critics (after the banks pass), with the shapes of ``spaces``."""
    return Critics(plan.critic_modules, plan.critic_banks,  # type: ignore[arg-type]
                   {o: s.shapes for o, s in spaces.items()})


def _stack_placeholders(b: Builder, banks: list[Bank], stacks: dict, detach: bool) -> None:
    """The placeholders of the stacked ``banks``' parameters, in this order."""
    for bank in banks:
        if bank.stacked:
            _bank_params(b, bank, stacks, detach)


def lower_generator(plan: Plan, spaces: dict, distance, adversarial: Adversarial,
                    device: torch.device, dtype: torch.dtype = torch.float32,
                    regional: frozenset[int] = frozenset()) -> Lowered:
    """The generator graph: (arrow stacks, critic stacks, data) → (losses, total, fakes…);
    ``regional``: the ids of the lone networks called as compile regions
    (:func:`network_region`)."""
    b = Builder(regional=regional)
    critics = critics_of(plan, spaces)
    stacks: dict = {}
    env: dict[int, list[fx.Node]] = {}
    # placeholders: arrow stacks first (in call order), then critic stacks, then data
    _stack_placeholders(b, [call.bank for call in plan.calls], stacks, False)
    crit_stacks: dict = {}
    _stack_placeholders(b, critics.banks.banks, crit_stacks, True)
    for ob, root in plan.roots.items():
        env[root] = [b.placeholder(f"x_{ob}_{j}", ("data", ob, j))
                     for j in range(len(spaces[ob].factors))]
    # network calls, depth by depth (a dispatch on whether the call is fused)
    for call in sorted(plan.calls, key=lambda c: c.depth):
        nodes = [plan.nodes[i] for i in call.nodes]
        n_out = len(spaces[nodes[0].path.cod].factors)
        ys = apply_bank(b, call.bank, stacks, call.members,
                        [env[n.parent] for n in nodes], n_out)  # type: ignore[index]
        for n, y in zip(nodes, ys, strict=False):
            env[n.id] = y
    # adversarial terms: every critic score on every fake, in fused calls
    items = [(ob, env[loss.nodes[0]][k]) for loss in plan.losses if loss.kind == "adv"
             for ob, k in loss.critics]
    scores, order = critic_scores(b, critics, crit_stacks, items, True)
    terms = Terms()
    # the adversarial terms in the order the scores were computed (stacking them again
    # then reuses the fused calls' outputs); the losses take them in item order
    term = {i: terms.add(adversarial.generator, critics.term_key(items[i][0]), scores[i])
            for i in order}
    ctx = _Context(terms, env, iter([term[i] for i in range(len(items))]), distance,
                   critics.shapes)
    rows = [EMIT_GENERATOR_LOSS[loss.kind](ctx, loss) for loss in plan.losses]
    values, total_ = terms.losses(b, rows, [loss.weights for loss in plan.losses], device,
                                   dtype)
    names = [loss.name for loss in plan.losses]
    outputs = [values, total_, *(env[n][k] for n, k in plan.fakes)]
    return Lowered(b.finish(outputs, "GeneratorLosses"), b.inputs, names, plan.fakes)


@dataclass
class _Context:
    terms: Terms
    env: dict
    scores: object  # the adversarial terms, in loss order
    distance: object
    shapes: dict


def _emit_adv(ctx: _Context, loss) -> list[tuple[int, float]]:
    return [(next(ctx.scores), 1.0) for _ in loss.critics]  # type: ignore[call-overload]


def _emit_eq(ctx: _Context, loss) -> list[tuple[int, float]]:
    lhs, rhs = ctx.env[loss.nodes[0]], ctx.env[loss.nodes[1]]
    cod = loss.equation.cod
    shapes = ctx.shapes[cod]
    return [(ctx.terms.add(ctx.distance, ("eq", shapes[k]), x, y), 1.0)
            for k, (x, y) in enumerate(zip(lhs, rhs, strict=True))]


EMIT_GENERATOR_LOSS = {"adv": _emit_adv, "eq": _emit_eq}


def lower_critic(plan: Plan, spaces: dict, adversarial: Adversarial,
                 regulariser_weight: float, device: torch.device,
                 dtype: torch.dtype = torch.float32,
                 regional: frozenset[int] = frozenset()) -> Lowered:
    """The critic graph: (critic stacks, reals, fakes, alphas) → (losses, total).

    The losses: ``critic:X`` per critic, then its regulariser's ``<name>:X`` (weighing
    ``regulariser_weight`` in the total), if the plan's critics have one; ``regional``:
    the ids of the lone critics called as compile regions (:func:`network_region`)."""
    b = Builder(regional=regional)
    critics = critics_of(plan, spaces)
    stacks: dict = {}
    _stack_placeholders(b, critics.banks.banks, stacks, False)
    reals = {c.ob: b.placeholder(f"real_{c.ob}", ("real", c.ob)) for c in plan.critics}
    fakes = {f: b.placeholder(f"fake_{f[0]}_{f[1]}", ("fake",) + f) for f in plan.fakes}
    alphas = {(ob, f): b.placeholder(f"alpha_{ob}", ("alpha", ob, f))
              for ob, f in plan.interpolated}
    terms = Terms()
    rows = _critic_rows(b, plan, critics, stacks, terms, adversarial, reals, fakes)
    names = [c.name for c in plan.critics]
    weights = [1.0] * len(rows)
    points = _regulariser_points(b, plan, reals, fakes, alphas)
    if points:
        grads = critic_input_grads(b, critics, stacks, [(ob, x) for ob, _, x in points])
        per_critic: dict = {}
        for (ob, reg, _), g in zip(points, grads, strict=True):
            term = terms.add(reg.penalty, (reg.name, critics.shapes[ob]), g)
            per_critic.setdefault((ob, reg.name), []).append(term)
        for (ob, name), ids in per_critic.items():
            rows.append([(i, 1.0 / len(ids)) for i in ids])
            names.append(f"{name}:{ob}")
            weights.append(regulariser_weight)
    values, total_ = terms.losses(b, rows, weights, device, dtype)
    return Lowered(b.finish([values, total_], "CriticLosses"), b.inputs, names, [])


def _critic_rows(b: Builder, plan: Plan, critics: Critics, stacks: dict, terms: Terms,
                 adversarial: Adversarial, reals: dict, fakes: dict) -> list[list]:
    """The ``critic:X`` rows: each critic's term on its reals, then the mean of its terms
    on its fakes."""
    items = [(c.ob, reals[c.ob]) for c in plan.critics]
    items += [(c.ob, fakes[f]) for c in plan.critics for f in c.fakes]
    scores, order = critic_scores(b, critics, stacks, items, False)
    n_real = len(plan.critics)
    # terms in the order the scores were computed (see lower_generator)
    term = {i: terms.add(adversarial.real if i < n_real else adversarial.fake,
                         critics.term_key(items[i][0]), scores[i]) for i in order}
    rows: list[list[tuple[int, float]]] = []
    fake_terms = iter([term[i] for i in range(n_real, len(items))])
    for r, c in enumerate(plan.critics):
        row = [(term[r], 1.0)]
        row += [(next(fake_terms), 1.0 / len(c.fakes)) for _ in c.fakes]
        rows.append(row)
    return rows


def _regulariser_points(b: Builder, plan: Plan, reals: dict, fakes: dict,
                        alphas: dict) -> list[tuple]:
    """(object, regulariser, point) for every point where a critic's regulariser takes
    its input gradients (``losses.POINTS``), critic by critic."""
    out: list[tuple] = []
    for c in plan.critics:
        reg = c.regulariser
        if reg is None:
            continue
        if reg.at == "reals":
            out.append((c.ob, reg, reals[c.ob]))
        elif reg.at == "fakes":
            out += [(c.ob, reg, fakes[f]) for f in c.fakes]
        else:  # interpolates
            out += [(c.ob, reg, b.call(interpolate, reals[c.ob], fakes[f], alphas[(c.ob, f)]))
                    for f in c.fakes]
    return out
