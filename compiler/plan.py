"""The loss plan: one IR for everything a training step evaluates, and its passes.

The plan is built by a short pipeline of named passes over one :class:`Plan`:

1. :func:`collect` — the needed evaluations: each needed generator whose domain has
   data (its adversarial loss) and both sides of each equation from its domain's data;
2. :func:`build_trie` — one prefix trie per source object, so that each distinct path
   prefix is one node, evaluated exactly once;
3. :func:`attach_critics` — one critic loss per plain object that receives fakes (a
   product codomain gives one critic per factor), with the adversarial loss's
   regulariser (``losses.Regulariser``) if it has one.

``compile_functor`` runs these, then its own passes over the same plan (``assembly.py``):
a check of the plan against the functor and critics, then fusion (``fusion.py``): the
networks sorted into banks (``banks``) and the nodes of one depth whose networks share a
bank grouped into calls (``fuse``). Lowering (``lowering.py``) then emits one
``torch.fx`` graph for the generator losses and one for the critic losses.

>>> from category import Schema
>>> S = Schema.parse(open("examples/cyclegan.schema").read())
>>> plan = Plan.build(S, data=S.objects())
>>> print(plan.trie())
Horse
  [0] id(Horse)  ← eq:f.g = id(Horse)
  [1] f          ← adv:f
  [2] f.g        ← eq:f.g = id(Horse)
Zebra
  [3] id(Zebra)  ← eq:g.f = id(Zebra)
  [4] g          ← adv:g
  [5] g.f        ← eq:g.f = id(Zebra)
>>> [c.name for c in plan.critics], len(plan.applications)   # 4 network calls, naive: 6
(['critic:Zebra', 'critic:Horse'], 4)
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from category import Arrow, Equation, Ob, Path, Schema

if TYPE_CHECKING:
    from .fusion import Banks
    from .losses import Regulariser


@dataclass
class Node:
    """One distinct path prefix from a source object: the value ``path(data[source])``."""

    id: int
    source: Ob
    path: Path
    parent: int | None  # None for the root: the source's data itself
    consumers: list[str] = field(default_factory=list)
    call: int | None = None  # the fused call evaluating it (set by the fusion pass)

    @property
    def depth(self) -> int:
        return len(self.path)

    @property
    def arrow(self) -> Arrow | None:
        return self.path.arrows[-1] if self.path.arrows else None


@dataclass
class Evaluation:
    """A path evaluated on a source object's data, for a named loss."""

    source: Ob
    path: Path
    consumer: str


@dataclass
class GeneratorLoss:
    """``adv:f`` (scores of critics on a fake) or ``eq:…`` (distance of two nodes)."""

    name: str
    kind: str  # "adv" or "eq"
    paths: tuple[Path, ...]
    source: Ob
    weight: float = 1.0
    factor_weights: tuple[float, ...] = ()  # eq on a product: one weight per factor
    nodes: tuple[int, ...] = ()
    critics: tuple[tuple[Ob, int], ...] = ()  # adv: (critic object, factor of the fake)
    equation: Equation | None = None
    arrow: Arrow | None = None

    @property
    def weights(self) -> float | tuple[float, ...]:
        """The loss's weight in the total: one number, or one per factor."""
        return self.factor_weights or self.weight

    def describe_weight(self) -> str:
        if self.factor_weights:
            return "weights per factor " + ", ".join(f"{w:g}" for w in self.factor_weights)
        return f"weight {self.weight:g}"


@dataclass
class CriticLoss:
    """``critic:X``: the critic of plain object X on its reals and on every fake landing on X,
    and its regulariser (``<regulariser>:X``, e.g. ``gp:X``), if any."""

    name: str
    ob: Ob
    fakes: tuple[tuple[int, int], ...]  # (node, factor)
    regulariser: Regulariser | None = None


@dataclass
class Plan:
    """The loss IR: trie nodes, the losses consuming them, the critics, the calls."""

    schema: Schema
    data: tuple[Ob, ...]
    needed: tuple[Arrow, ...]
    weights: Callable[[Equation], float | tuple[float, ...]] = lambda eq: 1.0
    regulariser: Regulariser | None = None
    unobserved: frozenset[Ob] = frozenset()  # objects without samples: no critic
    evaluations: list[Evaluation] = field(default_factory=list)
    losses: list[GeneratorLoss] = field(default_factory=list)
    nodes: list[Node] = field(default_factory=list)
    roots: dict[Ob, int] = field(default_factory=dict)
    critics: list[CriticLoss] = field(default_factory=list)
    calls: list = field(default_factory=list)  # fusion.Call, set by the fusion pass
    # set by the banks pass (fusion.py): the networks' and the critics' banks, and the
    # critic module of each object
    arrow_banks: Banks | None = None
    critic_banks: Banks | None = None
    critic_modules: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    # ------------------------------------------------------------------ building
    @classmethod
    def build(cls, S: Schema, data: Iterable[Ob], needed: Iterable[Arrow] | None = None,
              weights: Callable[[Equation], float | tuple[float, ...]] = lambda eq: 1.0,
              regulariser: Regulariser | None = None, passes: tuple | None = None,
              unobserved: Iterable[Ob] = ()) -> Plan:
        """Run the pipeline of passes (default :data:`PASSES`) on a fresh plan."""
        plan = cls(S, tuple(data), tuple(needed_generators(S) if needed is None else needed),
                   weights, regulariser, frozenset(unobserved))
        for p in PASSES if passes is None else passes:
            plan = p(plan)
        return plan

    # ------------------------------------------------------------------ reading
    @property
    def applications(self) -> list[Node]:
        """The nodes that apply a network (every node but the roots)."""
        return [n for n in self.nodes if n.parent is not None]

    @property
    def critic_objects(self) -> tuple[Ob, ...]:
        return tuple(c.ob for c in self.critics)

    @property
    def critic_groups(self) -> list:
        """The critics' stacked banks (``fusion.Bank``; none before the banks pass)."""
        return [] if self.critic_banks is None else [
            b for b in self.critic_banks.banks if b.stacked]

    @property
    def interpolated(self) -> list[tuple[Ob, tuple[int, int]]]:
        """(critic object, fake) for each interpolate a regulariser takes gradients at, in
        the order of their random weights (one per sample each)."""
        return [(c.ob, f) for c in self.critics
                if c.regulariser is not None and c.regulariser.interpolates for f in c.fakes]

    @property
    def fakes(self) -> list[tuple[int, int]]:
        """Every (node, factor) that some critic scores, in plan order."""
        out: list[tuple[int, int]] = []
        for c in self.critics:
            out += [f for f in c.fakes if f not in out]
        return out

    def trie(self) -> str:
        width = max((len(str(n.path)) for n in self.nodes), default=0)
        lines: list[str] = []
        for n in self.nodes:
            if n.parent is None:
                lines.append(str(n.source))
            who = ", ".join(n.consumers)
            lines.append(f"  [{n.id}] {str(n.path):<{width}}  ← {who}".rstrip(" ←"))
        return "\n".join(lines)

    def __str__(self) -> str:
        out = [f"plan {self.schema.name}: data {', '.join(map(str, self.data))}",
               self.trie()]
        if self.calls:
            out.append("calls (network evaluations; one line is one batched call)")
            out += [f"  {c}" for c in self.calls]
        if self.critic_groups:
            out.append("critics")
            out += [f"  {b}" for b in self.critic_groups]
        out.append("losses")
        for loss in self.losses:
            if loss.kind == "adv":
                by = ", ".join(f"critic {o}" for o, _ in loss.critics)
                out.append(f"  {loss.name}: {by} on [{loss.nodes[0]}]")
            else:
                out.append(f"  {loss.name}: [{loss.nodes[0]}] vs [{loss.nodes[1]}], "
                           f"{loss.describe_weight()}")
        for c in self.critics:
            fakes = ", ".join(f"[{n}]" + (f".{k}" if self._factor_shown(n) else "")
                              for n, k in c.fakes)
            out.append(f"  {c.name}: reals of {c.ob} vs fakes {fakes}")
            if c.regulariser is not None:
                out.append(f"  {c.regulariser.name}:{c.ob}: {c.regulariser.describe}")
        out += [f"note: {n}" for n in self.notes]
        return "\n".join(out)

    def _factor_shown(self, node: int) -> bool:
        return self.nodes[node].path.cod.is_product

    def __repr__(self) -> str:
        return (f"Plan({self.schema.name}: {len(self.nodes)} nodes, {len(self.losses)} "
                f"generator losses, {len(self.critics)} critics)")


def needed_generators(S: Schema) -> tuple[Arrow, ...]:
    """The generators that need an adversarial loss: those not made redundant by equations."""
    return S.transitive_reduction().arrows


# ---------------------------------------------------------------------- passes
def collect(plan: Plan) -> Plan:
    """Pass 1: the evaluations and generator losses the schema asks for."""
    data = set(plan.data)
    for a in plan.needed:
        if a.dom in data and not scored(plan, a.cod):
            plan.notes.append(f"no adversarial loss for {a.name}: {a.cod} is unobserved (no "
                              f"samples to compare with); the equations constrain it")
        elif a.dom in data:
            name = f"adv:{a.name}"
            plan.losses.append(GeneratorLoss(name, "adv", (a.path,), a.dom, arrow=a))
            plan.evaluations.append(Evaluation(a.dom, a.path, name))
        else:
            plan.notes.append(f"no adversarial loss for {a.name}: no data for {a.dom}")
    for eq in plan.schema.equations:
        if eq.dom not in data:
            plan.notes.append(f"equation {eq} skipped: no data for {eq.dom}")
            continue
        name, w = f"eq:{eq}", plan.weights(eq)
        weight, factors = (w, ()) if isinstance(w, numbers.Real) else (1.0, tuple(w))
        plan.losses.append(GeneratorLoss(name, "eq", (eq.lhs, eq.rhs), eq.dom, weight=weight,
                                         factor_weights=factors, equation=eq))
        plan.evaluations += [Evaluation(eq.dom, eq.lhs, name), Evaluation(eq.dom, eq.rhs, name)]
    return plan


def scored(plan: Plan, ob: Ob) -> list[Ob]:
    """The plain objects a fake landing on ``ob`` is scored on: ``ob`` (its factors, for
    a product) less the unobserved ones."""
    return [t for t in (ob.factors if ob.is_product else (ob,)) if t not in plan.unobserved]


def build_trie(plan: Plan) -> Plan:
    """Pass 2: one node per distinct (source, path prefix); losses point at nodes."""
    index: dict[tuple[Ob, tuple[Arrow, ...]], int] = {}

    def node(source: Ob, arrows: tuple[Arrow, ...]) -> int:
        key = (source, arrows)
        if key not in index:
            parent = node(source, arrows[:-1]) if arrows else None
            path = Path(source, arrows[-1].cod if arrows else source, arrows)
            index[key] = len(plan.nodes)
            plan.nodes.append(Node(len(plan.nodes), source, path, parent))
            if not arrows:
                plan.roots[source] = index[key]
        return index[key]

    for source in dict.fromkeys(e.source for e in plan.evaluations):
        node(source, ())
        for e in plan.evaluations:
            if e.source == source:
                n = plan.nodes[node(source, e.path.arrows)]
                if e.consumer not in n.consumers:
                    n.consumers.append(e.consumer)
    for loss in plan.losses:
        loss.nodes = tuple(index[(loss.source, p.arrows)] for p in loss.paths)
    return plan


def attach_critics(plan: Plan) -> Plan:
    """Pass 3: the critic of each plain object a fake lands on (factors of products)."""
    fakes: dict[Ob, list[tuple[int, int]]] = {}
    for loss in plan.losses:
        if loss.kind != "adv":
            continue
        cod = loss.arrow.cod  # type: ignore[union-attr]
        targets = cod.factors if cod.is_product else (cod,)
        loss.critics = tuple((t, k) for k, t in enumerate(targets)
                             if t not in plan.unobserved)
        for t, k in loss.critics:
            fakes.setdefault(t, []).append((loss.nodes[0], k))
    plan.critics = [CriticLoss(f"critic:{o}", o, tuple(fs), plan.regulariser)
                    for o, fs in fakes.items()]
    return plan


PASSES: tuple[Callable[[Plan], Plan], ...] = (collect, build_trie, attach_critics)
