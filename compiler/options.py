"""The options of ``compile_functor``, checked in one place: :class:`CompileOptions`.

A :class:`CompileOptions` holds every keyword option of ``compile_functor`` and is
checked on construction: every bad value is listed in one :class:`FunctorError`, each
problem saying what was expected. What needs the functor (objects, equations, symbols,
spaces) is checked against it by ``compile_functor`` (``assembly.py``).

>>> CompileOptions(adversarial="nsgan-r1", r1_gamma=1.0).regulariser_weight
0.5
>>> CompileOptions(adversarial="lsgn", distance="l1", fake_pool=-1)
Traceback (most recent call last):
...
compiler.errors.FunctorError: 2 problems with compile_functor:
  - unknown adversarial loss 'lsgn' (did you mean 'lsgan'?); choose one of lsgan, nsgan, hinge, ...
  - fake_pool must be an integer ≥ 0 (the number of fakes kept per critic input; 0: no pool), got -1
"""

from __future__ import annotations

import difflib
import math
import numbers
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, fields

import torch
from torch import nn

from .errors import FunctorError
from .losses import ADVERSARIAL, DISTANCES, Adversarial, Regulariser
from .stacked import stackable


def default_optimizer(lr: float = 2e-4, betas: tuple[float, float] = (0.5, 0.999)):
    """Adam over the given tensors, fused where the device supports it."""

    def make(params: list) -> torch.optim.Optimizer:
        try:
            return torch.optim.Adam(params, lr=lr, betas=betas, fused=True)
        except (RuntimeError, ValueError):
            return torch.optim.Adam(params, lr=lr, betas=betas, foreach=True)

    return make


@dataclass(frozen=True)
class CompileOptions:
    """Every keyword option of ``compile_functor``, checked on construction.

    ``adversarial``: a row of ``losses.ADVERSARIAL`` — ``"lsgan"``, ``"nsgan"``,
    ``"hinge"``, ``"wgan-gp"`` (with the gradient penalty ``gp:X`` on interpolates of
    reals and fakes, weighing ``gp_weight``) or ``"nsgan-r1"`` (StyleGAN2's: the
    non-saturating loss with R1, the zero-centred gradient penalty on reals
    ``r1:X = E[‖∇D(x)‖²]``, weighing ``r1_gamma / 2``). ``distance``: ``"l1"`` or ``"l2"``.

    ``equation_weight``: the weight of every equation's distance in the total, or a
    mapping {equation or its text: weight} (unlisted equations weigh 1). An equation on
    a product object is one distance per factor, each weighing the same; a tuple of one
    weight per factor weighs them apart, e.g. ``{"g.f = id(BxC)": (3.0, 0.3)}`` so that
    a one-number code C does not count as much as the whole image B.

    ``backend``: ``"inductor"`` (default), ``"eager"`` (the same graphs, not compiled),
    another ``torch.compile`` backend or a backend callable; ``compile_options``: more
    keyword arguments of ``torch.compile``.

    ``unobserved``: objects that have a space but no samples at all (no data, no prior):
    they get no critic, an arrow into one gets no adversarial loss (into a product, only
    its observed factors are scored), and no path starts from one — the equations alone
    constrain what the arrows put there (an autoencoder's code, for instance). Without
    it, an arrow landing on an object without samples is refused.

    ``data_objects``: the objects with data (default: all, less the unobserved ones and
    the products with an unobserved factor); ``priors``: {object: "normal"
    or a callable batch size → tensor} for objects sampled rather than read; ``bind``:
    {symbol or its name: int} for symbolic dimensions.

    ``regional``: compile each architecture of a lone network once and call it wherever
    the plan applies it (``torch.compiler.nested_compile_region``; see
    ``lowering.network_region``), where inlining builds it once per call. A trade,
    measured on the default experiment (``benchmarks/bench_compile.py``): the cold first
    step 16% shorter, every warm one (a cache hit: a resume, a worker, a second run)
    half as long again, since Dynamo still traces each call; step time +1 to +4%. So it
    is off by default, cdl keeping what it compiles (``cache.py``); it pays where many
    calls share few architectures (a grid of conv arrows). It needs a backend that runs
    AOTAutograd (inductor, ``aot_eager``); cdl's ``"eager"`` ignores it. Networks with
    buffers (``BatchNorm``), on products, or returning views are always inlined
    (``lowering.in_region``); if torch fails to compile the regions, the program falls
    back to inlining, once (``fallback.py``).

    ``fuse``: stack networks of identical architecture into one call per plan depth
    (horizontal fusion). ``True`` fuses every eligible network (``vmap`` over
    ``functional_call`` where no direct stacked lowering exists); ``None`` (default)
    fuses the networks with a direct stacked lowering (``Linear``, activations,
    ``Sequential`` of them: one batched matmul per layer); a predicate module → bool
    chooses. Measured on CPU, ``vmap`` over convolutions (grouped convolutions) is slower
    than separate calls, compiled or not.

    The program's optimizer is ``optimizer`` (a factory: parameters or parameter groups →
    ``torch.optim.Optimizer``; default fused Adam with ``lr``, ``betas``) over two
    parameter groups, arrows then critics, so one fused update runs per step; with
    ``critic_optimizer`` the critics get their own.

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
    """

    adversarial: str = "lsgan"
    distance: str = "l1"
    equation_weight: float | Mapping[object, float | Sequence[float]] = 10.0
    backend: str | Callable = "inductor"
    data_objects: Iterable[object] | None = None
    unobserved: Iterable[object] | None = None
    bind: Mapping[object, int] | None = None
    priors: Mapping[object, object] | None = None
    fuse: bool | Callable[[nn.Module], bool] | None = None
    regional: bool = False
    gp_weight: float = 10.0
    r1_gamma: float = 10.0
    lr: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)
    optimizer: Callable[[list], torch.optim.Optimizer] | None = None
    critic_optimizer: Callable[[list], torch.optim.Optimizer] | None = None
    compile_options: Mapping[str, object] | None = None
    check_finite: bool = True
    fake_pool: int = 0

    def __post_init__(self):
        found = option_problems(self.given())
        if found:
            raise FunctorError([p for ps in found.values() for p in ps], "compile_functor")
        for name in ("data_objects", "unobserved"):  # an iterator is read once, here
            if getattr(self, name) is not None:
                object.__setattr__(self, name, tuple(getattr(self, name)))
        object.__setattr__(self, "fake_pool", int(self.fake_pool))
        for name in ("gp_weight", "r1_gamma", "lr"):
            value = getattr(self, name)
            if isinstance(value, numbers.Real) and not isinstance(value, bool):
                object.__setattr__(self, name, float(value))

    @classmethod
    def lenient(cls, **given: object) -> tuple[CompileOptions, list[str]]:
        """The options ``given``, each bad one replaced by its default, and the problems
        found with them: checking the functor goes on with the rest, so that
        ``compile_functor`` reports every problem in one error."""
        found = option_problems({**cls().given(), **given})
        kept = {k: v for k, v in given.items() if k not in found}
        return cls(**kept), [p for ps in found.values() for p in ps]

    def given(self) -> dict[str, object]:
        """The options as given, by name (not copied)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    # ------------------------------------------------------------------ resolved
    @property
    def loss(self) -> Adversarial:
        """The row of ``losses.ADVERSARIAL`` that ``adversarial`` names."""
        return ADVERSARIAL[self.adversarial]

    @property
    def regulariser(self) -> Regulariser | None:
        """The adversarial loss's regulariser, if it has one."""
        return self.loss.regulariser

    @property
    def regulariser_weight(self) -> float:
        """The regulariser's weight in the critics' total (0 without one)."""
        reg = self.regulariser
        return 0.0 if reg is None else reg.scale * float(getattr(self, reg.weight))

    @property
    def distance_fn(self) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
        return DISTANCES[self.distance]

    @property
    def fuse_predicate(self) -> bool | Callable[[nn.Module], bool]:
        """``fuse``, or by default: the networks with a direct stacked lowering."""
        return _stackable if self.fuse is None else self.fuse

    @property
    def make_optimizer(self) -> Callable[[list], torch.optim.Optimizer]:
        return self.optimizer or default_optimizer(self.lr, self.betas)


def option_problems(v: Mapping[str, object]) -> dict[str, list[str]]:
    """Every problem with the option values ``v`` (all of them, by name), by option."""
    found = {
        "adversarial": _choice(ADVERSARIAL, v["adversarial"], "adversarial loss"),
        "distance": _choice(DISTANCES, v["distance"], "distance"),
        "backend": _backend_problems(v["backend"]),
        "fake_pool": _count_problems("fake_pool", v["fake_pool"]),
        "gp_weight": weight_problems("gp_weight", v["gp_weight"]),
        "r1_gamma": weight_problems("r1_gamma", v["r1_gamma"]),
        "equation_weight": [] if isinstance(v["equation_weight"], Mapping)
        else weight_problems("equation_weight", v["equation_weight"]),
        "data_objects": _objects_problems(v["data_objects"]),
        "unobserved": _objects_problems(v["unobserved"], "unobserved"),
        "bind": mapping_problems(v["bind"], "bind", "{symbol or its name: int}"),
        "priors": mapping_problems(v["priors"], "priors", "{object or its name: 'normal'}"),
        "compile_options": mapping_problems(v["compile_options"], "compile_options",
                                            "{torch.compile keyword: value}"),
        "fuse": _fuse_problems(v["fuse"]),
        "regional": [] if isinstance(v["regional"], bool) else
        [f"regional must be True (each network architecture compiled once) or False "
         f"(every call inlined), got {v['regional']!r}"],
        "optimizer": _factory_problems("optimizer", v["optimizer"]),
        "critic_optimizer": _factory_problems("critic_optimizer", v["critic_optimizer"]),
    }
    if v["optimizer"] is None and not isinstance(v["lr"], torch.Tensor):
        found["lr"] = weight_problems("lr", v["lr"], positive=True)
    return {k: ps for k, ps in found.items() if ps}


def weight_problems(what: str, v: object, positive: bool = False) -> list[str]:
    """[] if ``v`` is a finite number ≥ 0 (> 0 with ``positive``), else the problem."""
    ok = isinstance(v, numbers.Real) and not isinstance(v, bool) and math.isfinite(v)
    if ok and (v > 0 if positive else v >= 0):
        return []
    return [f"{what} must be a finite number {'> 0' if positive else '≥ 0'}, got {v!r}"]


def mapping_problems(value: object, what: str, example: str) -> list[str]:
    """[] if ``value`` is None or a mapping, else the problem (saying how to fix it)."""
    if value is None or isinstance(value, Mapping):
        return []
    hint = ": pair each value with its key in a dict" if isinstance(value, (list, tuple)) else ""
    return [f"{what} must be a mapping {example}, got {type(value).__name__}{hint}"]


def _choice(table: Mapping[str, object], name: object, what: str) -> list[str]:
    if isinstance(name, str) and name in table:
        return []
    close = difflib.get_close_matches(name, list(table), n=1) if isinstance(name, str) else []
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return [f"unknown {what} {name!r}{hint}; choose one of {', '.join(table)}"]


def _backend_problems(backend: object) -> list[str]:
    if callable(backend):
        return []
    if isinstance(backend, str) and backend in ["eager", *torch.compiler.list_backends(())]:
        return []
    listed = ", ".join(torch.compiler.list_backends())
    return [f"unknown backend {backend!r}; use 'inductor' (compiled), 'eager' (no "
            f"compilation), another torch.compile backend (torch.compiler.list_backends(): "
            f"{listed}) or a backend callable"]


def _count_problems(what: str, v: object) -> list[str]:
    if isinstance(v, numbers.Integral) and not isinstance(v, bool) and v >= 0:
        return []
    return [f"{what} must be an integer ≥ 0 (the number of fakes kept per critic input; "
            f"0: no pool), got {v!r}"]


def _objects_problems(v: object, what: str = "data_objects") -> list[str]:
    if v is None or (isinstance(v, Iterable) and not isinstance(v, (str, Mapping))):
        return []
    hint = f": write [{v!r}]" if isinstance(v, str) else ""
    default = "every object" if what == "data_objects" else "none"
    return [f"{what} must be a list of objects or their names (or None: {default}), "
            f"got {type(v).__name__}{hint}"]


def _fuse_problems(v: object) -> list[str]:
    if v is None or isinstance(v, bool) or callable(v):
        return []
    return [f"fuse must be True, False, None (the networks with a stacked lowering) or a "
            f"predicate module → bool, got {v!r}"]


def _factory_problems(what: str, v: object) -> list[str]:
    if v is None or callable(v):
        return []
    return [f"{what} must be a factory parameters → torch.optim.Optimizer (e.g. "
            f"lambda ps: torch.optim.Adam(ps, lr=1e-4)) or None, got {type(v).__name__}"]


def _stackable(m: nn.Module) -> bool:
    return stackable(m) is not None
