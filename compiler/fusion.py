"""Horizontal fusion: networks of identical architecture share one stacked call.

Networks are sorted into *banks* (the plan pass :func:`banks_pass`). A bank of two or
more modules of identical architecture keeps its parameters stacked (one tensor of shape
``[members, …]`` per parameter name) and is evaluated with ``vmap`` over
``functional_call``; a bank of one is called directly. The fusion pass
(:func:`fusion_pass`) then turns the trie into *calls*: all nodes of one depth whose
networks are in the same bank (and whose inputs have the same shapes) are evaluated by
one call.

>>> from torch import nn
>>> a, b, c = nn.Linear(2, 2), nn.Linear(2, 2), nn.Linear(2, 3)
>>> arch_key(a) == arch_key(b), arch_key(a) == arch_key(c)
(True, False)
>>> banks = make_banks([("f", a), ("g", b), ("h", c)], role="arrow")
>>> [str(bk) for bk in banks.banks]
['A0: Linear ×2 (f, g)', 'h: Linear']
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

import torch
from torch import nn

from .plan import Plan
from .stacked import stackable

_PLAIN = (int, float, str, bool, type(None))


def _plain(v: object) -> bool:
    if isinstance(v, _PLAIN):
        return True
    if isinstance(v, (tuple, list)):
        return all(_plain(x) for x in v)
    return False


def arch_key(m: nn.Module) -> tuple:
    """A hashable description of a module's architecture: equal keys compute the same
    function of (parameters, input). Attributes that are not plain values are keyed by
    identity, so modules that differ in anything but their parameters never share a key."""
    attrs = []
    for k, v in sorted(vars(m).items()):
        if k in ("_parameters", "_buffers", "_modules") or k.startswith("_"):
            continue
        attrs.append((k, v if _plain(v) else ("id", id(v))))
    params = tuple((n, tuple(p.shape), p.dtype, p.device.type)
                   for n, p in m.named_parameters(recurse=False))
    children = tuple((n, arch_key(c)) for n, c in m.named_children())
    return (type(m), tuple(attrs), params, children)


def _has_hooks(m: nn.Module) -> bool:
    return any(getattr(sub, h, None) for sub in m.modules()
               for h in ("_forward_hooks", "_forward_pre_hooks", "_backward_hooks",
                         "_backward_pre_hooks", "_state_dict_hooks"))


def fusable(m: nn.Module, shared: set[int]) -> bool:
    """Whether ``m`` can live in a stacked bank: plain trainable parameters only."""
    params = list(m.parameters())
    return (bool(params)
            and not list(m.buffers())
            and all(p.requires_grad and p.is_floating_point() for p in params)
            and not any(id(p) in shared for p in params)
            and not _has_hooks(m))


@dataclass(repr=False)
class Bank:
    """Modules evaluated together. ``stacked``: parameters live in ``stacks``."""

    name: str
    role: str  # "arrow" or "critic"
    modules: list[nn.Module]
    labels: list[list[str]]  # what each member serves (arrow names or critic objects)
    names: tuple[str, ...] = ()
    stacks: list[torch.Tensor] = field(default_factory=list)

    @property
    def stacked(self) -> bool:
        return len(self.modules) > 1

    @property
    def size(self) -> int:
        return len(self.modules)

    def index(self, m: nn.Module) -> int:
        return next(i for i, x in enumerate(self.modules) if x is m)

    def adopt(self) -> None:
        """Make the stacked tensors the storage of the members' parameters.

        Each member's parameter keeps its identity (``module.parameters()`` and any
        optimizer built on them stay valid) but its data becomes a view into the
        stack, so an update of one is an update of the other.

        Parameters that are already the rows of one stack in this bank's order (another
        program compiled these modules and grouped them alike, e.g. the same functor
        with another backend) keep that storage: this bank's stack is a tensor over it,
        so both programs train the modules' weights and neither moves them from the
        other. A different grouping gets a stack of its own; each program then moves
        the rows back into its stack, with their current values, when it is used
        (``views.ModuleViews.check``).
        """
        if not self.stacked or self.stacks:
            return
        per = [dict(m.named_parameters()) for m in self.modules]
        with torch.no_grad():
            for n in self.names:
                rows = [p[n] for p in per]
                stack = _stack_of(rows)
                if stack is None:
                    stack = torch.stack([r.detach() for r in rows])
                    for i, r in enumerate(rows):
                        r.data = stack.data[i]
                self.stacks.append(stack.requires_grad_(True))

    def from_modules(self) -> list[torch.Tensor]:
        """The stacked parameters, built from the members' own parameters (autograd
        reaches each module's parameters)."""
        per = [dict(m.named_parameters()) for m in self.modules]
        return [torch.stack([p[n] for p in per]) for n in self.names]

    def __repr__(self) -> str:
        return f"Bank({self})"

    def __str__(self) -> str:
        kind = type(self.modules[0]).__name__
        who = ", ".join("/".join(x) for x in self.labels)
        if not self.stacked:
            return f"{self.name}: {kind}"
        return f"{self.name}: {kind} ×{self.size} ({who})"


def _stack_of(rows: list[torch.Tensor]) -> torch.Tensor | None:
    """A tensor over the storage that ``rows`` fill exactly as one stack, row ``i`` at
    offset ``i`` (what :meth:`Bank.adopt` leaves), or None if they are not such rows."""
    first = rows[0]
    n, storage = first.numel(), first.untyped_storage()
    if n == 0 or storage.nbytes() != len(rows) * n * first.element_size():
        return None
    for i, r in enumerate(rows):
        if (r.untyped_storage().data_ptr() != storage.data_ptr()
                or r.storage_offset() != i * n or not r.is_contiguous()):
            return None
    stack = torch.empty(0, dtype=first.dtype, device=first.device)
    return stack.set_(storage, 0, (len(rows), *first.shape))


@dataclass
class Banks:
    banks: list[Bank]
    of: dict[int, tuple[Bank, int]]  # id(module) -> (bank, member index)

    def __getitem__(self, m: nn.Module) -> tuple[Bank, int]:
        return self.of[id(m)]


def make_banks(labelled: Iterable[tuple[str, nn.Module]], role: str,
               fuse: bool | Callable[[nn.Module], bool] = True,
               shared: set[int] | None = None) -> Banks:
    """Sort modules into banks by architecture (one bank each when ``fuse`` is false;
    ``fuse`` may also be a predicate choosing the modules that may be stacked)."""
    members: dict[int, tuple[nn.Module, list[str]]] = {}
    for label, m in labelled:
        members.setdefault(id(m), (m, []))[1].append(label)
    groups: dict[object, list[int]] = {}
    for key, (m, _) in members.items():
        wanted = fuse(m) if callable(fuse) else fuse
        k = (arch_key(m), "fused") if wanted and fusable(m, shared or set()) else ("alone", key)
        groups.setdefault(k, []).append(key)
    banks: list[Bank] = []
    of: dict[int, tuple[Bank, int]] = {}
    prefix = "A" if role == "arrow" else "C"
    for ids in groups.values():
        mods = [members[i][0] for i in ids]
        labels = [members[i][1] for i in ids]
        name = f"{prefix}{sum(b.stacked for b in banks)}" if len(ids) > 1 else labels[0][0]
        bank = Bank(name, role, mods, labels, tuple(n for n, _ in mods[0].named_parameters()))
        banks.append(bank)
        for i, key in enumerate(ids):
            of[key] = (bank, i)
    return Banks(banks, of)


def shared_parameters(modules: Iterable[nn.Module]) -> set[int]:
    """ids of parameters reachable from more than one distinct module."""
    seen: dict[int, int] = {}
    out: set[int] = set()
    for m in {id(m): m for m in modules}.values():
        for p in m.parameters():
            if id(p) in seen and seen[id(p)] != id(m):
                out.add(id(p))
            seen[id(p)] = id(m)
    return out


@dataclass
class Call:
    """One evaluation of a bank: ``nodes[i]`` is computed by member ``members[i]``."""

    id: int
    depth: int
    bank: Bank
    members: list[int]
    nodes: list[int]
    arrows: list[str]

    @property
    def fused(self) -> bool:
        return self.bank.stacked and len(self.nodes) > 1

    @property
    def how(self) -> str:
        """``stacked`` (layer by layer, batched matmuls), ``vmap`` or ``call``."""
        if not self.fused:
            return "call"
        return "stacked" if stackable(self.bank.modules[0]) is not None else "vmap"

    def __str__(self) -> str:
        items = ", ".join(f"{a}→[{n}]" for a, n in zip(self.arrows, self.nodes, strict=False))
        how = f"{self.how} ×{len(self.nodes)} over bank {self.bank.name}" if self.fused else "call"
        return f"depth {self.depth}: {how}: {items}"


Pass = Callable[[Plan], Plan]


def modules_by_use(plan: Plan, modules: Mapping) -> dict:
    """The networks (arrow → module) that the plan applies, used most first."""
    uses = Counter(n.arrow for n in plan.applications)
    return {a: modules[a] for a in sorted(uses, key=lambda a: -uses[a])}


def banks_pass(modules: Mapping, critics: Mapping,
               fuse: bool | Callable[[nn.Module], bool]) -> Pass:
    """The banks pass for a functor: the networks the plan applies (``modules`` arrow →
    module) and the critics it scores with (``critics`` object → module) sorted into
    banks (:func:`make_banks`; ``fuse`` as there), set as ``plan.arrow_banks``,
    ``plan.critic_banks`` and ``plan.critic_modules``."""

    def banks(plan: Plan) -> Plan:
        # networks used most come first in their bank, so that the calls of the deeper
        # plan levels take a leading slice of the stacked parameters rather than a gather
        arrow_modules = modules_by_use(plan, modules)
        critic_modules = {c.ob: critics[c.ob]
                          for c in sorted(plan.critics, key=lambda c: -len(c.fakes))}
        shared = shared_parameters([*arrow_modules.values(), *critic_modules.values()])
        plan.arrow_banks = make_banks(((a.name, m) for a, m in arrow_modules.items()),
                                      "arrow", fuse, shared)
        plan.critic_banks = make_banks(((str(o), m) for o, m in critic_modules.items()),
                                       "critic", fuse, shared)
        plan.critic_modules = critic_modules
        return plan

    return banks


def fusion_pass(modules: Mapping, spaces: Mapping) -> Pass:
    """The fusion pass for a functor: ``modules`` arrow → module, ``spaces`` object →
    space (inputs of different shapes never share a call); after :func:`banks_pass`."""

    def fuse(plan: Plan) -> Plan:
        banks = plan.arrow_banks
        shapes = {o: s.shapes for o, s in spaces.items()}
        groups: dict[tuple, Call] = {}
        for n in sorted(plan.applications, key=lambda n: n.depth):
            a = n.arrow
            bank, member = banks[modules[a]]
            key = (n.depth, bank.name, shapes[a.dom]) if bank.stacked else (n.depth, n.id)
            call = groups.get(key)
            if call is None:
                call = groups[key] = Call(len(groups), n.depth, bank, [], [], [])
            call.members.append(member)
            call.nodes.append(n.id)
            call.arrows.append(a.name)
            n.call = call.id
        for call in groups.values():  # members in bank order: the stack itself, or a slice
            order = sorted(range(len(call.nodes)), key=lambda i: call.members[i])
            call.members = [call.members[i] for i in order]
            call.nodes = [call.nodes[i] for i in order]
            call.arrows = [call.arrows[i] for i in order]
        plan.calls = list(groups.values())
        return plan

    return fuse
