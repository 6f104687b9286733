"""``compile_functor``: a functor and its critics become a compiled training program.

A :class:`Program` runs the plan's two graphs (``lowering.py``) through
``torch.compile(fullgraph=True)``: :meth:`Program.generator_losses` and
:meth:`Program.critic_losses` for a loop with the user's own optimizers;
:meth:`Program.step` (generator and critic updates from one evaluation and one backward)
and :meth:`Program.critic_step` (a critic-only update, for ``n_critic > 1``), each one
compiled graph, with the program's :attr:`Program.optimizers`, an optional per-player
gradient clipping (``max_grad_norm``) and a refusal of non-finite updates
(``check_finite``). With ``fake_pool=N`` the critics see CycleGAN's image pool of past
fakes, updated inside those graphs (``pool.py``). :meth:`Program.state_dict` holds what
a checkpoint needs besides the modules' weights and the optimizers' state (the pool).

>>> import torch
>>> from torch import nn
>>> from category import Schema
>>> from compiler import Euclid, Functor
>>> S = Schema.parse(open("examples/cyclegan.schema").read())
>>> H, Z = S["Horse"], S["Zebra"]
>>> F = Functor(S, ob={H: Euclid(2), Z: Euclid(2)}, ar={"f": nn.Linear(2, 2), "g": nn.Linear(2, 2)})
>>> prog = compile_functor(F, critics={H: nn.Linear(2, 1), Z: nn.Linear(2, 1)}, backend="eager")
>>> batch = {"Horse": torch.randn(4, 2), "Zebra": torch.randn(4, 2)}
>>> sorted(prog.generator_losses(batch))
['adv:f', 'adv:g', 'eq:f.g = id(Horse)', 'eq:g.f = id(Zebra)', 'total']
>>> sorted(prog.critic_losses(batch))
['critic:Horse', 'critic:Zebra', 'total']
>>> sorted(prog.step(batch)) == sorted([*prog.generator_losses(batch), "critic:Horse",
...                                     "critic:Zebra", "critic_total"])
True
>>> sorted(prog.critic_step(batch, max_grad_norm=1.0))
['critic:Horse', 'critic:Zebra', 'total']
>>> pooled = compile_functor(F, critics={H: nn.Linear(2, 1), Z: nn.Linear(2, 1)},
...                          backend="eager", fake_pool=8)
>>> losses = pooled.step(batch)
>>> {k: tuple(v.shape) for k, v in pooled.state_dict().items()}
{'fake_pool:count': (), 'fake_pool:f': (8, 2), 'fake_pool:g': (8, 2)}
>>> prog.state_dict()
{}
"""

from __future__ import annotations

import math
import numbers
import types
from collections.abc import Callable, Iterable, Mapping, Sequence

import torch
from torch import nn

from category import Equation, Ob

from .batches import Batch, BatchReader, Prior, prior
from .errors import CompilerError, FunctorError, NonFiniteLossError, ProgramNotPicklable
from .functor import Functor, _first_line, meta_run
from .fusion import Banks, banks_pass, fusion_pass, modules_by_use
from .losses import ADVERSARIAL, DISTANCES, lookup
from .lowering import Lowered, lower_critic, lower_generator
from .plan import PASSES, Plan
from .pool import FakePool, query_all, shard_rand
from .stacked import stackable
from .views import ModuleViews


def default_optimizer(lr: float = 2e-4, betas: tuple[float, float] = (0.5, 0.999)):
    """Adam over the given tensors, fused where the device supports it."""

    def make(params: list) -> torch.optim.Optimizer:
        try:
            return torch.optim.Adam(params, lr=lr, betas=betas, fused=True)
        except (RuntimeError, ValueError):
            return torch.optim.Adam(params, lr=lr, betas=betas, foreach=True)

    return make


def compile_functor(F: Functor, critics: Mapping[object, nn.Module], *,
                    adversarial: str = "lsgan", distance: str = "l1",
                    equation_weight: float | Mapping[object, float | Sequence[float]] = 10.0,
                    backend: str | Callable = "inductor",
                    data_objects: Iterable[object] | None = None,
                    bind: Mapping[object, int] | None = None,
                    priors: Mapping[object, str | Prior] | None = None,
                    fuse: bool | None = None, gp_weight: float = 10.0,
                    lr: float = 2e-4, betas: tuple[float, float] = (0.5, 0.999),
                    optimizer: Callable[[list[torch.Tensor]], torch.optim.Optimizer] | None = None,
                    critic_optimizer: Callable | None = None,
                    compile_options: Mapping[str, object] | None = None,
                    check_finite: bool = True, fake_pool: int = 0) -> Program:
    """Compile ``F`` and one critic per plain object into a :class:`Program`.

    ``fuse``: stack networks of identical architecture into one call per plan depth
    (horizontal fusion). ``True`` fuses every eligible network (``vmap`` over
    ``functional_call`` where no direct stacked lowering exists); ``None`` (default)
    fuses the networks with a direct stacked lowering (``Linear``, activations,
    ``Sequential`` of them: one batched matmul per layer). Measured on CPU, ``vmap`` over
    convolutions (grouped convolutions) is slower than separate calls, compiled or not.

    ``equation_weight``: the weight of every equation's distance in the total, or a
    mapping {equation or its text: weight} (unlisted equations weigh 1). An equation on
    a product object is one distance per factor, each weighing the same; a tuple of one
    weight per factor weighs them apart, e.g. ``{"g.f = id(BxC)": (3.0, 0.3)}`` so that
    a one-number code C does not count as much as the whole image B.

    The program's optimizer is ``optimizer`` (a factory: parameters or parameter groups →
    ``torch.optim.Optimizer``; default fused Adam with ``lr``, ``betas``) over two
    parameter groups, arrows then critics, so one fused update runs per step; with
    ``critic_optimizer`` the critics get their own.

    Several programs may be compiled over the same modules (one per backend to compare
    them, or again after changing an option), each with its own optimizers: each one
    trains the modules as they are when it is used, whichever program trained them
    last. Programs that stack the same modules alike train one stack (no copies); a
    program that stacks them otherwise copies the current weights into its stack when
    it is used (see ``fusion.Bank.adopt``).

    ``check_finite``: :meth:`Program.step` refuses to apply an update whose losses are
    not finite (NaN or inf), raising :class:`NonFiniteLossError` with the parameters
    and optimizer state untouched, rather than silently filling the networks with NaN;
    every entry point agrees (``critic_step`` likewise; ``generator_losses`` and
    ``critic_losses`` raise it rather than return non-finite losses). It costs one host
    synchronisation per call (nothing on CPU); turn it off where a GPU pipeline must not
    synchronise.

    ``fake_pool``: the size ``N`` of CycleGAN's image pool (0: off). The critics then
    see, per fake input (``plan.fakes``), a history of the last fakes: while fewer than
    ``N`` are stored each new fake is stored and used; after, each new fake is, with
    probability 1/2, swapped with a random stored one (the stored one is used). Only the
    critic losses read the pool; the generator losses always score the fresh fakes. The
    pool is updated inside the compiled step (one graph however full it is), with random
    numbers drawn outside the graph from torch's global generator (see ``pool.py``), and
    is part of :meth:`Program.state_dict`.

    Every problem found (missing or unknown critic, a network or critic that fails on
    its space or returns the wrong shape, an unbound symbol, an unknown loss name or
    backend, a negative or non-finite weight or learning rate) is reported in one
    :class:`FunctorError`.
    """
    if not isinstance(F, Functor):
        raise FunctorError([f"compile_functor's first argument is a Functor, got "
                            f"{type(F).__name__}"], "compile_functor")
    S = F.schema
    problems: list[str] = []
    critics = _as_mapping(critics, "critics", "{object or its name: critic module}", problems)
    priors = _as_mapping(priors, "priors", "{object or its name: 'normal'}", problems)
    bind = _as_mapping(bind, "bind", "{symbol or its name: int}", problems)
    adv = _choice(ADVERSARIAL, adversarial, "adversarial loss", problems)
    dist = _choice(DISTANCES, distance, "distance", problems)
    problems += _backend_problems(backend)
    if not isinstance(fake_pool, numbers.Integral) or isinstance(fake_pool, bool) \
            or fake_pool < 0:
        problems.append(f"fake_pool must be an integer ≥ 0 (the number of fakes kept per "
                        f"critic input; 0: no pool), got {fake_pool!r}")
        fake_pool = 0
    gp_weight = _weight("gp_weight", gp_weight, problems)
    if optimizer is None and not isinstance(lr, torch.Tensor):
        lr = _weight("lr", lr, problems, positive=True)
    if bind:
        try:
            F = F.bind(bind)
        except FunctorError as e:
            problems += e.problems
    problems += F.problems()
    data = tuple(_objects(S, S.objects() if data_objects is None else data_objects,
                          "data_objects", problems))
    crit: dict[Ob, nn.Module] = {}
    for k, m in critics.items():
        (o,) = _objects(S, [k], "critics", problems) or (None,)
        if o is None:
            continue
        if o.is_product:
            problems.append(f"critic for product object {o}: give one critic per factor "
                            f"({', '.join(map(str, o.factors))}) instead")
        elif not isinstance(m, nn.Module):
            problems.append(f"critic for {o} must be a torch.nn.Module, "
                            f"got {type(m).__name__}")
        else:
            crit[o] = m
    pri: dict[Ob, Prior] = {}
    for k, p in (priors or {}).items():
        (o,) = _objects(S, [k], "priors", problems) or (None,)
        if o is None:
            continue
        if o.is_product:
            problems.append(f"prior for product object {o}: give one per factor")
        elif isinstance(p, str):
            try:
                pri[o] = prior(p, F.spaces[o])
            except ValueError as e:
                problems.append(f"prior for {o}: {e}")
        elif callable(p):
            pri[o] = p
        else:
            problems.append(f"prior for {o} must be 'normal' or a callable, got {p!r}")
    weights = _weights(S, equation_weight, problems)
    regulariser = None if adv is None else adv.regulariser
    plan = Plan.build(S, data, weights=weights, regulariser=regulariser, passes=PASSES)
    if not plan.losses:
        problems.append(f"nothing to train: no generator loss, since no arrow leaves an object "
                        f"with data (data_objects: {', '.join(map(str, data)) or 'none'})")
    for c in plan.critics:
        if c.ob not in crit:
            problems.append(f"no critic for {c.ob}: arrows land on it "
                            f"(critics={{{c.ob}: module}})")
        elif not F.spaces[c.ob].free_symbols:
            problems += _critic_problems(c.ob, crit[c.ob], F.spaces[c.ob])
        if c.ob not in data and c.ob not in pri and not _in_product(c.ob, data):
            problems.append(f"critic for {c.ob} has no real samples: add {c.ob} to "
                            f"data_objects or give priors={{{c.ob}: 'normal'}}")
    arrow_modules = modules_by_use(plan, F.modules)
    used_critics = {c.ob: crit[c.ob] for c in sorted(plan.critics, key=lambda c: -len(c.fakes))
                    if c.ob in crit}
    both = {id(m) for m in arrow_modules.values()} & {id(m) for m in used_critics.values()}
    for a, m in arrow_modules.items():
        if id(m) in both:
            obs = ", ".join(str(o) for o, c in used_critics.items() if c is m)
            problems.append(f"one module is both the network of arrow {a} and the critic for "
                            f"{obs}: give the critic its own module (a critic is trained "
                            f"against the arrow)")
    if problems:
        raise FunctorError(problems, "compile_functor")
    if fuse is None:
        fuse = _stackable
    for fusion in (banks_pass(F.modules, crit, fuse), fusion_pass(F.modules, F.spaces)):
        plan = fusion(plan)
    arrows, critic_banks = plan.arrow_banks, plan.critic_banks
    modules = list(arrow_modules.values()) + list(used_critics.values())
    # the networks' dtype and device: the graphs' constants follow them, batches must match
    first = next((p for m in modules for p in m.parameters() if p.is_floating_point()), None)
    device = torch.device("cpu") if first is None else first.device
    dtype = torch.get_default_dtype() if first is None else first.dtype
    gen = lower_generator(plan, F.spaces, dist, adv, device, dtype)
    # the regulariser's weight: the option its row names, times its scale
    weight = 0.0 if regulariser is None else (
        regulariser.scale * {"gp_weight": gp_weight}[regulariser.weight])
    cri = lower_critic(plan, F.spaces, adv, weight, device, dtype)
    make_opt = optimizer or default_optimizer(lr, betas)
    reader = BatchReader(F, _needed_objects(plan), pri,
                         dtype=None if first is None else dtype,
                         device=None if first is None else device)
    pool = None
    if fake_pool:
        pool = FakePool(int(fake_pool), _fake_names(plan),
                        [F.spaces[plan.nodes[n].path.cod].shapes[k] for n, k in plan.fakes],
                        device, dtype)
    return Program(F, plan, arrows, critic_banks, gen, cri, reader, backend, make_opt,
                   critic_optimizer, dict(compile_options or {}), check_finite, pool)


def _as_mapping(value: object, what: str, example: str, problems: list[str]) -> Mapping:
    if value is None or isinstance(value, Mapping):
        return value  # type: ignore[return-value]
    hint = ": pair each value with its key in a dict" if isinstance(value, (list, tuple)) else ""
    problems.append(f"{what} must be a mapping {example}, got {type(value).__name__}{hint}")
    return {}


def _fake_names(plan: Plan) -> list[str]:
    """A name per fake input of the critics: its path, and factor for a product."""
    out = []
    for n, k in plan.fakes:
        path = plan.nodes[n].path
        out.append(f"{path}[{k}]" if path.cod.is_product else str(path))
    return out


def _choice(table: dict, name: str, what: str, problems: list[str]):
    try:
        return lookup(table, name, what)
    except ValueError as e:
        problems.append(str(e))
        return None


def _objects(S, keys: Iterable[object], what: str, problems: list[str]) -> list[Ob]:
    out = []
    for k in keys:
        name = k.name if isinstance(k, Ob) else k
        if not isinstance(name, str) or name not in S or not isinstance(S[name], Ob):
            problems.append(f"{what}: {k!r} is not an object of schema {S.name}")
            continue
        out.append(S[name])
    return out


def _in_product(ob: Ob, data: tuple[Ob, ...]) -> bool:
    return any(d.is_product and ob in d.factors for d in data)


def _weight(what: str, v: object, problems: list[str], positive: bool = False) -> float:
    """``v`` as a finite float ≥ 0 (> 0 with ``positive``), or a problem noted."""
    ok = isinstance(v, numbers.Real) and not isinstance(v, bool) and math.isfinite(v)
    if ok and (v > 0 if positive else v >= 0):
        return float(v)
    problems.append(f"{what} must be a finite number {'> 0' if positive else '≥ 0'}, got {v!r}")
    return 1.0


def _weights(S, w, problems: list[str]) -> Callable[[Equation], float | tuple[float, ...]]:
    if not isinstance(w, Mapping):
        value = _weight("equation_weight", w, problems)
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


def _backend_problems(backend: object) -> list[str]:
    if callable(backend):
        return []
    if isinstance(backend, str) and backend in ["eager", *torch.compiler.list_backends(())]:
        return []
    listed = ", ".join(torch.compiler.list_backends())
    return [f"unknown backend {backend!r}; use 'inductor' (compiled), 'eager' (no "
            f"compilation), another torch.compile backend (torch.compiler.list_backends(): "
            f"{listed}) or a backend callable"]


def _needed_objects(plan: Plan) -> list[Ob]:
    """The objects whose data a program reads: the plan's sources, then the critics'."""
    needed = list(plan.roots)
    needed += [c.ob for c in plan.critics if c.ob not in needed]
    return needed


def _critic_problems(ob: Ob, m: nn.Module, space) -> list[str]:
    try:
        out = meta_run(m, space, space.meta(2))
    except Exception as e:  # noqa: BLE001 - every failure is reported
        return [f"critic for {ob}: expected input {space}, but it fails on it: {_first_line(e)}"]
    if not isinstance(out, torch.Tensor) or out.dim() == 0 or out.shape[0] != 2:
        return [f"critic for {ob}: must return one score (or score map) per sample, "
                f"got {getattr(out, 'shape', type(out).__name__)} for a batch of 2"]
    return []


class Program:
    """A compiled functor: the plan, its two graphs, and the training steps.

    Entry points: :meth:`generator_losses` and :meth:`critic_losses` (losses with
    gradients to the user's modules, for a loop with the user's own optimizers);
    :meth:`step` (one generator and critic update) and :meth:`critic_step` (a critic
    update only, for ``n_critic > 1``) with the program's :attr:`optimizers`;
    :meth:`state_dict` / :meth:`load_state_dict` for what the program holds besides
    weights and optimizers (the fake pool).
    """

    def __init__(self, F: Functor, plan: Plan, arrows: Banks, critics: Banks, gen: Lowered,
                 cri: Lowered, reader: BatchReader, backend, make_opt, make_critic_opt,
                 compile_options: dict, check_finite: bool = True,
                 pool: FakePool | None = None):
        self.functor, self.plan = F, plan
        self.arrow_banks, self.critic_banks = arrows, critics
        self.generator_graph, self.critic_graph = gen.module, cri.module
        self._gen, self._cri = gen, cri
        self._reader, self.priors = reader, reader.priors
        self.backend = backend
        self._compile_options = compile_options
        self._pool = pool
        for bank in [*arrows.banks, *critics.banks]:
            bank.adopt()
        self._stacks = {b.name: b for b in [*arrows.banks, *critics.banks]}
        # the program's view of every module, checked at every entry point (views.py)
        self._views = ModuleViews([
            (_label(b, i), m, (dict(zip(b.names, b.stacks, strict=True)), i)
             if b.stacked else None)
            for b in self._stacks.values() for i, m in enumerate(b.modules)])
        self._gen_fn = self._compile(self.generator_graph)
        self._cri_fn = self._compile(self.critic_graph if pool is None else self._critic_part)
        self._step_fn = self._compile(self._forward_all)
        self._critic_step_fn = self._compile(self._critic_forward)
        self._fakes: tuple[tuple, list[torch.Tensor]] | None = None
        gen_params, critic_params = self._trainable(arrows), self._trainable(critics)
        if make_critic_opt is None:  # one optimizer, two parameter groups: one fused step
            self.optimizers = [make_opt([{"params": gen_params}, {"params": critic_params}])]
        else:
            self.optimizers = [make_opt(gen_params), make_critic_opt(critic_params)]
        self.check_finite = check_finite
        # called as grad_hook(parameters, total) between the backward pass and the update,
        # returning the total to check for finiteness (data-parallel averaging: see
        # runtime/distributed.py); None: no hook
        self.grad_hook: Callable[[list[torch.Tensor], torch.Tensor], torch.Tensor] | None = None
        # (rank, world) of a data-parallel run: the per-sample random numbers (wgan-gp's
        # interpolation weights, the fake pool's coins) are drawn for the global batch
        # and this rank takes its slice, so the ranks draw what one process would
        self.draw_shard: tuple[int, int] = (0, 1)

    # ------------------------------------------------------------------ public API
    @property
    def fake_pool(self) -> int:
        """The size of the fake pool per critic input (0: no pool)."""
        return 0 if self._pool is None else self._pool.size

    @property
    def critics(self) -> dict[str, nn.Module]:
        """The critic modules by the name of the object they judge (``"Horse"``)."""
        return dict(self._critics())

    @property
    def device(self) -> torch.device:
        """Where the networks live: batches must be on this device."""
        return self._reader.device or torch.device("cpu")

    def generator_losses(self, batch: Batch) -> dict[str, torch.Tensor]:
        """Every generator loss (``adv:…``, ``eq:…``) and their weighted ``total``.

        Gradients reach the arrows' modules only (critics are held fixed); the fakes
        are kept, detached, for a following :meth:`critic_losses` on the same batch.
        The generator losses score the fresh fakes, never the fake pool.
        """
        self._check_views()
        data = self.resolve(batch)
        out = self._guarded(data, self._gen_fn, *self._gen_inputs(data, from_modules=True))
        if self.check_finite and not torch.isfinite(out[1]).item():
            raise NonFiniteLossError(self._non_finite(data, out[0], None, returned=True))
        self._fakes = (self._batch_key(batch), [f.detach() for f in out[2:]])
        return self._named(self._gen, out[0], out[1])

    def critic_losses(self, batch: Batch) -> dict[str, torch.Tensor]:
        """Every critic loss (``critic:X``, ``gp:X`` for wgan-gp) and their ``total``.

        Reuses the fakes of the preceding :meth:`generator_losses` on the same batch;
        otherwise computes them without gradients. With a fake pool the fakes go
        through it, as in :meth:`step`, and the pool is updated: each call is one query
        (two calls on the same batch store its fakes twice), so that a loop of
        ``generator_losses`` then ``critic_losses`` trains like :meth:`step`.
        """
        self._check_views()
        data = self.resolve(batch)
        key = self._batch_key(batch)
        if self._fakes is not None and self._same_batch(self._fakes[0], key):
            fakes = self._fakes[1]
        else:
            with torch.no_grad():
                out = self._guarded(data, self.generator_graph,
                                    *self._gen_inputs(data, from_modules=True))
            fakes = list(out[2:])
        stacks = self._stack_list(self.critic_banks, True)
        reals, alphas = self._reals(data), self._alphas(data)
        if self._pool is None:
            out = self._guarded(data, self._cri_fn, *stacks, *reals, *fakes, *alphas)
        else:
            out = self._guarded(data, self._cri_fn, stacks, reals, fakes, alphas,
                                self._pool_inputs(data))
        if self.check_finite and not torch.isfinite(out[1]).item():
            raise NonFiniteLossError(self._non_finite(data, None, out[0], returned=True))
        if self._pool is not None:
            self._pool.commit(out[2])
        return self._named(self._cri, out[0], out[1])

    def step(self, batch: Batch, max_grad_norm: float | None = None) -> dict[str, torch.Tensor]:
        """One training step: generator and critic updates from one evaluation.

        The fakes are computed once: the generator losses use the critics as they are
        (no gradient reaches them) and the critic losses use the detached fakes (through
        the fake pool, if any, which the step updates), so one backward pass gives both
        updates, as in the usual alternating step (generators first, then critics on the
        same fakes). Returns the losses, with the critics' total as ``critic_total``.

        ``max_grad_norm``: clip the arrows' gradients and, separately, the critics'
        gradients to this total norm (``torch.nn.utils.clip_grad_norm_``) before the
        update, so that neither player's gradient scale caps the other's.

        :attr:`grad_hook` (default ``None``), when set, is called as
        ``grad_hook(self.parameters(), total)`` after the backward pass and before
        clipping and the update (also by :meth:`critic_step`), and returns the total whose
        finiteness is checked — data-parallel training averages the gradients there.
        :attr:`draw_shard` (default ``(0, 1)``), set to ``(rank, world)`` by data-parallel
        training, makes the per-sample random numbers (wgan-gp's interpolation weights,
        the fake pool's coins) this rank's slice of those of the global batch.

        Compiled programs are specialised to the batch size: a new size compiles the
        step once more (cached afterwards), so keep it fixed (``drop_last=True``).
        Raises :class:`NonFiniteLossError` instead of applying a NaN or inf update
        (see ``check_finite``); the fake pool is then not updated either.
        """
        clip = self._max_norm(max_grad_norm)
        data, inputs = self._update_inputs(batch)
        gen, gen_total, cri, cri_total, new_pool = self._guarded(data, self._step_fn, *inputs)
        both = self._backward(gen_total + cri_total)
        if self.check_finite and not torch.isfinite(both).item():
            raise NonFiniteLossError(self._non_finite(data, gen, cri))
        hold = self._views.hold_frozen()
        hold.zero_grads()
        if clip is not None:
            torch.nn.utils.clip_grad_norm_(self._trainable(self.arrow_banks), clip)
            torch.nn.utils.clip_grad_norm_(self._trainable(self.critic_banks), clip)
        self._apply(hold, new_pool)
        out = self._named(self._gen, gen.detach(), gen_total.detach())
        out.update(self._named(self._cri, cri.detach(), cri_total.detach(), "critic_total"))
        return out

    def critic_step(self, batch: Batch,
                    max_grad_norm: float | None = None) -> dict[str, torch.Tensor]:
        """A critic-only update (``n_critic > 1``, as wgan-gp trains): the fakes are
        computed without gradients (through the fake pool, if any, which is updated),
        then the critic losses, their backward and an update of the critics alone.

        The arrows' parameters and optimizer state are untouched: their gradients are
        ``None`` (cleared, and none computed), and torch's optimizers skip a parameter
        whose gradient is ``None`` — Adam's ``step`` counters of the arrows do not
        advance, also when one optimizer holds both parameter groups. Returns the
        losses of :meth:`critic_losses` (``critic:X``, ``gp:X``, ``total``), detached.
        One graph when compiled; ``max_grad_norm`` clips the critics' gradients and
        non-finite losses are refused as in :meth:`step`.
        """
        clip = self._max_norm(max_grad_norm)
        data, inputs = self._update_inputs(batch)
        cri, cri_total, new_pool = self._guarded(data, self._critic_step_fn, *inputs)
        checked = self._backward(cri_total)
        if self.check_finite and not torch.isfinite(checked).item():
            raise NonFiniteLossError(self._non_finite(data, None, cri))
        hold = self._views.hold_frozen()
        hold.zero_grads()
        critic_params = self._trainable(self.critic_banks)
        if clip is not None:
            torch.nn.utils.clip_grad_norm_(critic_params, clip)
        for p in self._trainable(self.arrow_banks):  # none computed; made sure of
            p.grad = None
        self._apply(hold, new_pool)
        return self._named(self._cri, cri.detach(), cri_total.detach())

    def _backward(self, total: torch.Tensor) -> torch.Tensor:
        """The backward pass of an update's total (none when every parameter it reaches is
        frozen), then :attr:`grad_hook` (data-parallel averaging); returns the total that
        the finite check reads (averaged across ranks by the hook)."""
        if total.requires_grad:
            total.backward()
        if self.grad_hook is not None:
            return self.grad_hook(self.parameters(), total.detach())
        return total

    def _apply(self, hold, new_pool) -> None:
        """The optimizers' step (frozen stacked rows held in place), then the fake pool."""
        with hold:
            for opt in self.optimizers:
                opt.step()
        if self._pool is not None:
            self._pool.commit(new_pool)

    def _update_inputs(self, batch: Batch) -> tuple[dict, tuple]:
        """The checked batch and the inputs of an update's graph (``step``,
        ``critic_step``), with the gradients cleared."""
        self._check_views()
        data = self.resolve(batch)
        alphas = self._alphas(data)  # drawn before the pool's coins: the RNG order is fixed
        pool = self._pool_inputs(data)
        for opt in self.optimizers:
            opt.zero_grad(set_to_none=True)
        return data, (self._gen_inputs(data, from_modules=False),
                      self._stack_list(self.critic_banks, False), self._reals(data), alphas,
                      pool)

    def state_dict(self) -> dict[str, torch.Tensor]:
        """What the program holds besides the modules' weights and the optimizers'
        state, for a checkpoint: the fake pool's buffers (``fake_pool:<path>``, one per
        critic input) and fill count (``fake_pool:count``); empty without a pool. The
        tensors are the program's own (never modified in place: a step replaces them)."""
        return {} if self._pool is None else self._pool.state_dict()

    def load_state_dict(self, state: Mapping[str, object]) -> None:
        """Restore what :meth:`state_dict` gave (copied onto the program's device and
        dtype). Raises :class:`CompilerError` naming every missing, unexpected or
        misshapen entry (for instance a checkpoint of another ``fake_pool`` size)."""
        if self._pool is None:
            if state:
                raise CompilerError(f"program state does not match this program (no "
                                    f"fake_pool): unexpected {', '.join(map(str, state))}")
            return
        self._pool.load_state_dict(dict(state))

    def _non_finite(self, data: dict, gen: torch.Tensor | None, cri: torch.Tensor | None,
                    returned: bool = False) -> str:
        names = [*(self._gen.names if gen is not None else []),
                 *(self._cri.names if cri is not None else [])]
        values = [*(gen.detach().unbind(0) if gen is not None else []),
                  *(cri.detach().unbind(0) if cri is not None else [])]
        losses = [n for n, v in zip(names, values, strict=True) if not torch.isfinite(v)]
        inputs = [str(ob) for ob, parts in data.items()
                  if any(not torch.isfinite(x).all() for x in parts)]
        params = [what for what, m in [*((str(a), m) for a, m in self.functor.modules.items()),
                                       *((f"critic {ob}", m) for ob, m in self._critics())]
                  if any(not torch.isfinite(p).all() for p in m.parameters())]
        done = ("they were not returned (check_finite=False returns them)" if returned else
                "the step was not applied (parameters and optimizer state are unchanged)")
        lines = [f"non-finite losses (NaN or inf): {', '.join(losses) or 'the total'}; {done}"]
        if inputs:
            lines.append(f"the batch holds NaN or inf values for: {', '.join(inputs)}")
        if params:
            lines.append(f"non-finite parameters already in: {', '.join(params)}")
        if not inputs and not params:
            lines.append("the data and parameters are finite: the losses overflowed — try "
                         "a lower learning rate, smaller loss weights, or a bounded critic")
        return "\n".join(lines)

    def _guarded(self, data: dict, fn, *args):
        """``fn(*args)``; a network failing inside it is named (each one is run again
        on meta tensors of the batch's size to find which), the error kept as cause."""
        try:
            return fn(*args)
        except CompilerError:
            raise
        except Exception as e:
            found = self._failing_networks(self._batch_size(data))
            if not found:
                raise
            raise CompilerError("\n".join(found)) from e

    def _failing_networks(self, n: int) -> list[str]:
        spaces = self.functor.spaces
        found = []
        who = [(f"arrow {a} : {a.dom} -> {a.cod}", m, spaces[a.dom])
               for a, m in self.functor.modules.items()
               if any(m is x for b in self.arrow_banks.banks for x in b.modules)]
        who += [(f"critic for {ob}", m, spaces[self.functor.schema[ob]])
                for ob, m in self._critics()]
        for what, m, space in who:
            try:
                meta_run(m, space, space.meta(n))
            except Exception as e:  # noqa: BLE001 - every failure is reported
                hint = ""
                if "more than 1 value per channel" in str(e):
                    hint = (" (batch normalisation needs more than one sample per batch in "
                            "training mode: use a batch size > 1 or drop_last=True)")
                found.append(f"{what} fails on a batch of size {n}: {_first_line(e)}{hint}")
        return found

    def __reduce_ex__(self, protocol):
        raise ProgramNotPicklable(
            "a compiled Program cannot be pickled, copied or torch.save'd (it holds "
            "compiled graphs and the program's own closures): save what it trains instead "
            "— each module's state_dict() (prog.functor.modules, prog.critics), "
            "opt.state_dict() for opt in prog.optimizers, and prog.state_dict() (the fake "
            "pool) — as runtime.checkpoint does, and call compile_functor again to load")

    def _critics(self) -> list[tuple[str, nn.Module]]:
        return [("/".join(label), m) for b in self.critic_banks.banks
                for label, m in zip(b.labels, b.modules, strict=True)]

    def _check_views(self) -> None:
        """The modules must still be as the program sees them (``views.py``): a changed
        module tree, a replaced, re-typed or moved parameter is a :class:`CompilerError`
        naming the module; a change of ``requires_grad`` is honoured by the steps."""
        self._views.check()

    def parameters(self) -> list[torch.Tensor]:
        """The tensors the program's optimizers update (stacked banks and lone modules)."""
        return self._trainable(self.arrow_banks) + self._trainable(self.critic_banks)

    def __repr__(self) -> str:
        return f"Program({self.plan!r}, backend={self.backend!r})"

    # ------------------------------------------------------------------ internals
    def _compile(self, fn):
        if self.backend == "eager":
            return fn
        return torch.compile(_own_code(fn), backend=self.backend, fullgraph=True,
                             dynamic=False, **self._compile_options)

    def _forward_all(self, gen_inputs, critic_stacks, reals, alphas, pool):
        """The step's graph: generator losses, then critic losses on the detached fakes."""
        out = self.generator_graph(*gen_inputs)
        fakes = [f.detach() for f in out[2:]]
        cri, cri_total, new_pool = self._critic_part(critic_stacks, reals, fakes, alphas, pool)
        return out[0], out[1], cri, cri_total, new_pool

    def _critic_forward(self, gen_inputs, critic_stacks, reals, alphas, pool):
        """The critic step's graph: the fakes without gradients, then the critic losses
        (the generator losses computed alongside are dead code to the compiler)."""
        with torch.no_grad():
            out = self.generator_graph(*gen_inputs)
        return self._critic_part(critic_stacks, reals, list(out[2:]), alphas, pool)

    def _critic_part(self, critic_stacks, reals, fakes, alphas, pool):
        """Critic losses, the fakes first through the pool (``pool``: the inputs of
        ``pool.query_all``, or None); returns (losses, total, new pool or None)."""
        new_pool = None
        if pool is not None:
            fakes, new_pool = query_all(list(fakes), pool)
        cri = self.critic_graph(*critic_stacks, *reals, *fakes, *alphas)
        return cri[0], cri[1], new_pool

    def _pool_inputs(self, data: dict) -> tuple | None:
        """The pool's state and fresh random draws for one query (None: no pool)."""
        if self._pool is None:
            return None
        return self._pool.inputs(self._batch_size(data), self.draw_shard)

    def _batch_size(self, data: dict) -> int:
        return data[self.plan.critics[0].ob][0].shape[0]

    @staticmethod
    def _max_norm(v: object) -> float | None:
        if v is None:
            return None
        if isinstance(v, numbers.Real) and not isinstance(v, bool) and math.isfinite(v) and v > 0:
            return float(v)
        raise CompilerError(f"max_grad_norm must be a finite number > 0 or None, got {v!r}")

    @staticmethod
    def _named(lowered: Lowered, vector: torch.Tensor, total: torch.Tensor,
               total_name: str = "total") -> dict[str, torch.Tensor]:
        out = dict(zip(lowered.names, vector.unbind(0), strict=True))
        out[total_name] = total
        return out

    @staticmethod
    def _trainable(banks: Banks) -> list[torch.Tensor]:
        out: list[torch.Tensor] = []
        for b in banks.banks:
            out += b.stacks if b.stacked else list(b.modules[0].parameters())
        return out

    def _stack_list(self, banks: Banks, from_modules: bool) -> list[torch.Tensor]:
        out: list[torch.Tensor] = []
        for b in banks.banks:
            if b.stacked:
                out += b.from_modules() if from_modules else b.stacks
        return out

    def _gen_inputs(self, data: dict, from_modules: bool) -> list[torch.Tensor]:
        values: list[torch.Tensor] = []
        stacks: dict[str, list[torch.Tensor]] = {}
        for what in self._gen.inputs:
            if what[0] == "stack":
                bank = self._stacks[what[1]]
                if bank.name not in stacks:
                    with torch.no_grad() if bank.role == "critic" else _nullctx():
                        stacks[bank.name] = bank.from_modules() if from_modules else bank.stacks
                values.append(stacks[bank.name][what[2]])
            else:
                values.append(data[what[1]][what[2]])
        return values

    def _critic_inputs(self, data: dict, fakes: list, from_modules: bool) -> list[torch.Tensor]:
        stacks = self._stack_list(self.critic_banks, from_modules)
        return [*stacks, *self._reals(data), *fakes, *self._alphas(data)]

    def _reals(self, data: dict) -> list[torch.Tensor]:
        return [data[c.ob][0] for c in self.plan.critics]

    def _alphas(self, data: dict) -> list[torch.Tensor]:
        """The interpolation weights of the regularisers' interpolates
        (``plan.interpolated``), one per sample each: this rank's slice of the global
        batch's (:attr:`draw_shard`)."""
        rank, world = self.draw_shard
        out = []
        for ob, _ in self.plan.interpolated:
            x = data[ob][0]
            out.append(shard_rand(x.shape[0], rank, world, device=x.device, dtype=x.dtype))
        return out

    def resolve(self, batch: Batch) -> dict[Ob, tuple[torch.Tensor, ...]]:
        """The data of every object the program needs, checked (see ``BatchReader``)."""
        return self._reader.read(batch)

    @staticmethod
    def _batch_key(batch: Batch) -> tuple:
        return tuple((v, getattr(v, "_version", 0)) for v in batch.values())

    @staticmethod
    def _same_batch(a: tuple, b: tuple) -> bool:
        if len(a) != len(b):
            return False
        return all(x is y and u == v for (x, u), (y, v) in zip(a, b, strict=True))

def _label(bank, i: int) -> str:
    """How errors name member ``i`` of a bank: ``arrow f`` or ``critic for Horse``."""
    who = "/".join(bank.labels[i])
    return f"arrow {who}" if bank.role == "arrow" else f"critic for {who}"


def _own_code(fn):
    """``fn`` with a code object of its own.

    Dynamo caches compiled graphs per code object, with at most ``recompile_limit`` (8)
    entries: every program compiling the same method (``Program._forward_all``) would
    share one cache, and the ninth program in a process (a sweep, a test suite, a
    notebook) would fail with ``fullgraph=True``. A copy of the code per program gives
    each program its own cache entry.
    """
    if isinstance(fn, types.MethodType):
        return types.MethodType(_own_code(fn.__func__), fn.__self__)
    if not isinstance(fn, types.FunctionType):  # a module: called through its own function
        module = fn

        def call(*args):
            return module(*args)

        fn = call
    copy = types.FunctionType(fn.__code__.replace(), fn.__globals__, fn.__name__,
                              fn.__defaults__, fn.__closure__)
    copy.__kwdefaults__, copy.__qualname__ = fn.__kwdefaults__, fn.__qualname__
    return copy


def _stackable(m: nn.Module) -> bool:
    return stackable(m) is not None


class _nullctx:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False
