"""``compile_functor``: a functor and its critics become a compiled training program.

``compile_functor`` is five stages, each a function here:

1. **options** — :class:`~compiler.options.CompileOptions` checks every keyword option;
2. **setup** — :func:`resolve` checks them against the functor (symbols bound, data
   objects, critics, priors, equation weights): a :class:`Setup`;
3. **plan** — :func:`plan_of` runs one pipeline of passes over the loss IR: the plan's
   own (``plan.PASSES``), :func:`check_pass` (every problem found so far and the plan's
   — a missing critic, nothing to train — raised in one :class:`FunctorError`), then
   fusion (``fusion.banks_pass``, ``fusion.fusion_pass``);
4. **lowering** — the generator and critic graphs (``lowering.py``);
5. **program** — :class:`~compiler.program.Program` compiles and runs them.

>>> from torch import nn
>>> from category import Schema
>>> from compiler import Euclid, Functor
>>> S = Schema.parse(open("examples/cyclegan.schema").read())
>>> F = Functor(S, ob={"Horse": Euclid(2), "Zebra": Euclid(2)},
...             ar={"f": nn.Linear(2, 2), "g": nn.Linear(2, 2)})
>>> compile_functor(F, critics={"Horse": nn.Linear(2, 1)}, adversarial="wgan",
...                 backend="eager")
Traceback (most recent call last):
...
compiler.errors.FunctorError: 2 problems with compile_functor:
  - unknown adversarial loss 'wgan' (did you mean 'wgan-gp'?); choose one of lsgan, ...
  - no critic for Zebra: arrows land on it (critics={Zebra: module})
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import torch
from torch import nn

from category import Equation, Ob

from .batches import BatchReader, Prior, prior
from .errors import FunctorError
from .functor import Functor, _first_line, lookup, meta_run
from .fusion import Pass, banks_pass, fusion_pass, modules_by_use
from .lowering import Lowered, in_region, lower_critic, lower_generator
from .options import CompileOptions, mapping_problems, weight_problems
from .plan import PASSES, Plan
from .pool import FakePool
from .program import Program


def compile_functor(F: Functor, critics: Mapping[object, nn.Module], *,
                    adversarial: str = "lsgan", distance: str = "l1",
                    equation_weight: float | Mapping[object, float | Sequence[float]] = 10.0,
                    backend: str | Callable = "inductor",
                    data_objects: Iterable[object] | None = None,
                    unobserved: Iterable[object] | None = None,
                    bind: Mapping[object, int] | None = None,
                    priors: Mapping[object, str | Prior] | None = None,
                    fuse: bool | None = None, regional: bool = False,
                    gp_weight: float = 10.0,
                    r1_gamma: float = 10.0,
                    lr: float = 2e-4, betas: tuple[float, float] = (0.5, 0.999),
                    optimizer: Callable[[list[torch.Tensor]], torch.optim.Optimizer] | None = None,
                    critic_optimizer: Callable | None = None,
                    compile_options: Mapping[str, object] | None = None,
                    check_finite: bool = True, fake_pool: int = 0) -> Program:
    """Compile ``F`` and one critic per plain object into a :class:`Program`.

    The options (each in full: :class:`~compiler.options.CompileOptions`):

    - ``adversarial``: ``"lsgan"``, ``"nsgan"``, ``"hinge"``, ``"wgan-gp"`` (adds
      ``gp:X``, the gradient penalty on interpolates, weighing ``gp_weight``) or
      ``"nsgan-r1"`` (StyleGAN2's: adds ``r1:X = E[‖∇D(x_real)‖²]``, R1, the zero-centred
      gradient penalty on X's real samples, weighing ``r1_gamma / 2``); ``distance``:
      ``"l1"`` or ``"l2"``; ``equation_weight``: a number, or {equation or its text:
      weight, or a tuple of one weight per factor of a product};
    - ``backend``: ``"inductor"``, ``"eager"`` (the same plan, not compiled), another
      ``torch.compile`` backend or callable; ``compile_options``: more ``torch.compile``
      keywords; ``fuse``: horizontal fusion (``None``: networks with a stacked lowering);
      ``regional``: each network architecture compiled once, called wherever the plan
      applies it (default off: see ``CompileOptions``);
    - ``data_objects`` (default all), ``unobserved`` (objects without any samples: no
      critic, no adversarial loss into them; the equations alone constrain them),
      ``priors`` ({object: "normal" or a sampler}), ``bind`` ({symbol: int});
    - ``optimizer`` (default fused Adam with ``lr``, ``betas``; one optimizer, arrows
      then critics as two parameter groups), ``critic_optimizer``;
    - ``check_finite``: refuse non-finite losses (:class:`NonFiniteLossError`);
      ``fake_pool``: CycleGAN's pool of the last ``N`` fakes per critic input.

    Several programs may be compiled over the same modules (one per backend to compare
    them, or again after changing an option), each with its own optimizers: each one
    trains the modules as they are when it is used, whichever program trained them
    last. Programs that stack the same modules alike train one stack (no copies); a
    program that stacks them otherwise copies the current weights into its stack when
    it is used (see ``fusion.Bank.adopt``).

    Every problem found (missing or unknown critic, a network or critic that fails on
    its space or returns the wrong shape, an unbound symbol, an unknown loss name or
    backend, a negative or non-finite weight or learning rate) is reported in one
    :class:`FunctorError`.
    """
    if not isinstance(F, Functor):
        raise FunctorError([f"compile_functor's first argument is a Functor, got "
                            f"{type(F).__name__}"], "compile_functor")
    options, problems = CompileOptions.lenient(
        adversarial=adversarial, distance=distance, equation_weight=equation_weight,
        backend=backend, data_objects=data_objects, unobserved=unobserved, bind=bind,
        priors=priors, fuse=fuse, regional=regional,
        gp_weight=gp_weight, r1_gamma=r1_gamma, lr=lr, betas=betas, optimizer=optimizer,
        critic_optimizer=critic_optimizer, compile_options=compile_options,
        check_finite=check_finite, fake_pool=fake_pool)
    setup = resolve(F, critics, options, problems)
    return assemble(setup, plan_of(setup))


# ---------------------------------------------------------------------- setup
@dataclass(frozen=True)
class Setup:
    """The options resolved against the functor, and every problem found so far."""

    functor: Functor  # with ``bind`` applied
    options: CompileOptions
    data: tuple[Ob, ...]
    unobserved: frozenset[Ob]
    critics: dict[Ob, nn.Module]
    priors: dict[Ob, Prior]
    weights: Callable[[Equation], float | tuple[float, ...]]
    problems: tuple[str, ...]


def resolve(F: Functor, critics: object, options: CompileOptions,
            problems: Sequence[str] = ()) -> Setup:
    """The :class:`Setup` of ``F``, ``critics`` and ``options``: its problems are
    ``problems`` (those of the options) and those found here, kept rather than raised
    (:func:`check_pass` raises them with the plan's)."""
    S, found = F.schema, list(problems)
    found += mapping_problems(critics, "critics", "{object or its name: critic module}")
    if options.bind:
        try:
            F = F.bind(options.bind)
        except FunctorError as e:
            found += e.problems
    found += F.problems()
    unobserved = frozenset(_objects(S, options.unobserved or (), "unobserved", found))
    data = tuple(_data_objects(S, options.data_objects, unobserved, found))
    crit = _critics(F, critics if isinstance(critics, Mapping) else {}, found)
    pri = _priors(F, options.priors or {}, found)
    found += [f"unobserved: {o} has a prior, so it has samples: drop it from unobserved"
              for o in unobserved if o in pri]
    weights = _weights(S, options.equation_weight, found)
    return Setup(F, options, data, unobserved, crit, pri, weights, tuple(found))


def _data_objects(S, keys: Iterable[object] | None, unobserved: frozenset[Ob],
                  problems: list[str]) -> list[Ob]:
    """The objects with data: ``keys``, or by default every object that is not unobserved
    (nor a product with an unobserved factor); an object both given and unobserved is a
    problem."""
    def hidden(o: Ob) -> bool:
        return o in unobserved or any(x in unobserved for x in o.factors)

    if keys is None:
        return [o for o in S.objects() if not hidden(o)]
    data = _objects(S, keys, "data_objects", problems)
    problems += [f"data_objects: {o} is unobserved (or has an unobserved factor): an object "
                 f"has data or none" for o in data if hidden(o)]
    return [o for o in data if not hidden(o)]


def _objects(S, keys: Iterable[object], what: str, problems: list[str]) -> list[Ob]:
    """The objects ``keys`` name (``S.ob``), each bad key a problem ``what: …``."""
    return [o for k in keys if (o := lookup(S.ob, k, what, problems)) is not None]


def _critics(F: Functor, critics: Mapping, problems: list[str]) -> dict[Ob, nn.Module]:
    out: dict[Ob, nn.Module] = {}
    for k, m in critics.items():
        o = lookup(F.schema.ob, k, "critics", problems)
        if o is None:
            continue
        if o.is_product:
            problems.append(f"critic for product object {o}: give one critic per factor "
                            f"({', '.join(map(str, o.factors))}) instead")
        elif not isinstance(m, nn.Module):
            problems.append(f"critic for {o} must be a torch.nn.Module, "
                            f"got {type(m).__name__}")
        else:
            out[o] = m
    return out


def _priors(F: Functor, priors: Mapping, problems: list[str]) -> dict[Ob, Prior]:
    out: dict[Ob, Prior] = {}
    for k, p in priors.items():
        o = lookup(F.schema.ob, k, "priors", problems)
        if o is None:
            continue
        if o.is_product:
            problems.append(f"prior for product object {o}: give one per factor")
        elif isinstance(p, str):
            try:
                out[o] = prior(p, F.spaces[o])
            except ValueError as e:
                problems.append(f"prior for {o}: {e}")
        elif callable(p):
            out[o] = p
        else:
            problems.append(f"prior for {o} must be 'normal' or a callable, got {p!r}")
    return out


def _weights(S, w, problems: list[str]) -> Callable[[Equation], float | tuple[float, ...]]:
    if not isinstance(w, Mapping):  # a number, checked with the options
        value = float(w)
        return lambda eq: value
    equations = {str(e): e for e in S.equations}
    table: dict[str, float | tuple[float, ...]] = {}
    for k, v in w.items():
        key = str(k)
        if key not in equations:
            problems.append(f"equation_weight: {key!r} is not an equation of schema {S.name} "
                            f"({'; '.join(equations)})")
        elif isinstance(v, Sequence) and not isinstance(v, str):
            table[key] = _factor_weights(equations[key], v, problems)
        else:
            table[key] = _weight(f"equation_weight[{key!r}]", v, problems)
    return lambda eq: table.get(str(eq), 1.0)


def _factor_weights(eq: Equation, v: Sequence, problems: list[str]) -> tuple[float, ...]:
    """Per-factor weights of an equation on a product: its distance is one term per
    factor, and a one-number code factor should not weigh as much as a whole image."""
    factors = eq.cod.factors if eq.cod.is_product else (eq.cod,)
    if len(v) != len(factors) or not eq.cod.is_product:
        what = (f"its codomain {eq.cod} has {len(factors)} factors "
                f"({' × '.join(map(str, factors))})" if eq.cod.is_product
                else f"its codomain {eq.cod} is not a product: give one number")
        problems.append(f"equation_weight[{str(eq)!r}]: one weight per factor, got "
                        f"{len(v)} ({tuple(v)!r}); {what}")
        return (1.0,) * len(factors)
    return tuple(_weight(f"equation_weight[{str(eq)!r}] for factor {f}", x, problems)
                 for f, x in zip(factors, v, strict=True))


def _weight(what: str, v: object, problems: list[str]) -> float:
    """``v`` as a float, or 1 and the problem noted."""
    found = weight_problems(what, v)
    problems += found
    return 1.0 if found else float(v)  # type: ignore[arg-type]


# ---------------------------------------------------------------------- plan
def plan_of(setup: Setup) -> Plan:
    """The plan of ``setup``: one pipeline of passes, checked, then fused."""
    F, options = setup.functor, setup.options
    passes = (*PASSES, check_pass(setup),
              banks_pass(F.modules, setup.critics, options.fuse_predicate),
              fusion_pass(F.modules, F.spaces))
    return Plan.build(F.schema, setup.data, weights=setup.weights,
                      unobserved=setup.unobserved,
                      regulariser=options.regulariser, passes=passes)


def check_pass(setup: Setup) -> Pass:
    """The pass raising every problem of ``setup`` and of the plan against it in one
    :class:`FunctorError` (the plan is then unchanged)."""

    def check(plan: Plan) -> Plan:
        problems = [*setup.problems, *plan_problems(plan, setup)]
        if problems:
            raise FunctorError(problems, "compile_functor")
        return plan

    return check


def plan_problems(plan: Plan, setup: Setup) -> list[str]:
    """What the plan needs that ``setup`` lacks: something to train, a critic (that
    works on its space, is not also a network, and has real samples) per object
    receiving fakes."""
    F, crit, data = setup.functor, setup.critics, setup.data
    problems = []
    if not plan.losses:
        problems.append(f"nothing to train: no generator loss, since no arrow leaves an object "
                        f"with data (data_objects: {', '.join(map(str, data)) or 'none'})")
    for c in plan.critics:
        if c.ob not in crit:
            problems.append(f"no critic for {c.ob}: arrows land on it "
                            f"(critics={{{c.ob}: module}})")
        elif not F.spaces[c.ob].free_symbols:
            problems += _critic_problems(c.ob, crit[c.ob], F.spaces[c.ob])
        if c.ob not in data and c.ob not in setup.priors and not _in_product(c.ob, data):
            problems.append(f"critic for {c.ob} has no real samples: add {c.ob} to "
                            f"data_objects, give priors={{{c.ob}: 'normal'}}, or declare it "
                            f"unobserved=[{c.ob}] (no critic: the equations constrain it)")
    used_critics = {c.ob: crit[c.ob] for c in sorted(plan.critics, key=lambda c: -len(c.fakes))
                    if c.ob in crit}
    critic_ids = {id(m) for m in used_critics.values()}
    for a, m in modules_by_use(plan, F.modules).items():
        if id(m) in critic_ids:
            obs = ", ".join(str(o) for o, c in used_critics.items() if c is m)
            problems.append(f"one module is both the network of arrow {a} and the critic for "
                            f"{obs}: give the critic its own module (a critic is trained "
                            f"against the arrow)")
    return problems


def _in_product(ob: Ob, data: tuple[Ob, ...]) -> bool:
    return any(d.is_product and ob in d.factors for d in data)


def _critic_problems(ob: Ob, m: nn.Module, space) -> list[str]:
    try:
        out = meta_run(m, space, space.meta(2))
    except Exception as e:  # noqa: BLE001 - every failure is reported
        return [f"critic for {ob}: expected input {space}, but it fails on it: {_first_line(e)}"]
    if not isinstance(out, torch.Tensor) or out.dim() == 0 or out.shape[0] != 2:
        return [f"critic for {ob}: must return one score (or score map) per sample, "
                f"got {getattr(out, 'shape', type(out).__name__)} for a batch of 2"]
    return []


# ---------------------------------------------------------------------- lowering, program
def assemble(setup: Setup, plan: Plan) -> Program:
    """The fused plan lowered to its two graphs, and the :class:`Program` running them."""
    F, options = setup.functor, setup.options
    # the networks' dtype and device: the graphs' constants follow them, batches must match
    modules = [*modules_by_use(plan, F.modules).values(), *plan.critic_modules.values()]
    first = next((p for m in modules for p in m.parameters() if p.is_floating_point()), None)
    device = torch.device("cpu") if first is None else first.device
    dtype = torch.get_default_dtype() if first is None else first.dtype

    def lowered(regions: frozenset[int]) -> tuple[Lowered, Lowered]:
        return (lower_generator(plan, F.spaces, options.distance_fn, options.loss, device,
                                dtype, regions),
                lower_critic(plan, F.spaces, options.loss, options.regulariser_weight, device,
                             dtype, regions))

    regional = region_modules(setup, plan)
    gen, cri = lowered(regional)
    reader = BatchReader(F, _needed_objects(plan), setup.priors,
                         dtype=None if first is None else dtype,
                         device=None if first is None else device)
    pool = None
    if options.fake_pool and plan.fakes:
        pool = FakePool(options.fake_pool, _fake_names(plan),
                        [F.spaces[plan.nodes[n].path.cod].shapes[k] for n, k in plan.fakes],
                        device, dtype)
    inline = (lambda: lowered(frozenset())) if regional else None  # fallback.py
    return Program(F, plan, gen, cri, reader, options, pool, inline)


def region_modules(setup: Setup, plan: Plan) -> frozenset[int]:
    """The ids of the networks the graphs call as compile regions (``regional``): every
    one that may be (``lowering.in_region``); none when ``regional`` is off or the
    backend is cdl's eager (where a region would only swap parameters in)."""
    options, F = setup.options, setup.functor
    if not options.regional or options.backend == "eager":
        return frozenset()
    on = [(m, F.spaces[a.dom]) for a, m in F.modules.items()]
    on += [(m, F.spaces[ob]) for ob, m in plan.critic_modules.items()]
    return frozenset(id(m) for m, space in on if in_region(m, space))


def _needed_objects(plan: Plan) -> list[Ob]:
    """The objects whose data a program reads: the plan's sources, then the critics'."""
    needed = list(plan.roots)
    needed += [c.ob for c in plan.critics if c.ob not in needed]
    return needed


def _fake_names(plan: Plan) -> list[str]:
    """A name per fake input of the critics: its path, and factor for a product."""
    out = []
    for n, k in plan.fakes:
        path = plan.nodes[n].path
        out.append(f"{path}[{k}]" if path.cod.is_product else str(path))
    return out
