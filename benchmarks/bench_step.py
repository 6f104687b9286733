#!/usr/bin/env python3
"""Training-step benchmark: cdl's ``prog.step`` against hand-written PyTorch.

    python3 benchmarks/bench_step.py            # full run, writes benchmarks/README.md
    python3 benchmarks/bench_step.py --quick    # few steps, k ≤ 4, prints only (~3 min)

Two benchmarks, every variant alternating step by step in this one process; each
figure is the median over the timed steps after warm-up.

1. **Conv (CycleGAN).** One full training step (generators + critics) of the schema
   ``f: Horse -> Zebra, g: Zebra -> Horse, f.g = id, g.f = id`` with residual generators
   and PatchGAN critics (``models.py``), 32×32 RGB, batch 8, LSGAN, L1 cycle weight 10,
   Adam. Variants:

   - *hand eager*: the step as practitioners write it (fakes computed once; generator
     loss, backward, Adam step; critic loss on the detached fakes, backward, Adam step);
   - *hand compiled*: the same with ``torch.compile`` on its two loss functions;
   - *naive*: every loss evaluated on its own, recomputing shared paths;
   - *cdl eager* / *cdl compiled*: ``compile_functor(..., backend="eager"|"inductor").step``.

2. **Many small arrows.** A k×k grid of objects R^32 with arrows right and down, every
   square commuting (``r.d = d.r``), every arrow with its LSGAN loss against an MLP critic
   of its target; batch 64, Adam lr 1e-3; k = 2, 4, 8 (2, 4 with ``--quick``).

Compile times: *cold* is the extra time of the warm-up steps over the median step (plus
building the program) in this process, with a fresh, empty inductor cache; *warm* is the
same in a second process that finds the caches the cold run filled. Both exclude
torch.compile's one-time start-up in a process (paid once on a tiny function first).
"""

from __future__ import annotations

import argparse
import copy
import gc
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path

import torch
import torch.nn.functional as nnf
from torch import nn

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if str(ROOT) not in sys.path:  # run as a script: import the checkout's packages
    sys.path.insert(0, str(ROOT))

from benchmarks.models import MLP, PatchCritic, ResnetGenerator, mlp  # noqa: E402

try:  # cdl's compiler; the hand-written variants run without it
    from compiler import Euclid, Functor, compile_functor  # noqa: E402
except ImportError as exc:  # pragma: no cover - depends on the branch
    CDL_MISSING: str | None = f"compiler not importable ({exc})"
else:
    CDL_MISSING = None

from category import Schema  # noqa: E402

README_SECTION = "## Training step (bench_step.py)"
CYCLE_WEIGHT = 10.0
EQ_WEIGHT = 10.0


# --------------------------------------------------------------------------- helpers
def lsgan_gen(score: torch.Tensor) -> torch.Tensor:
    """LSGAN generator term: push critic scores of fakes to 1."""
    return nnf.mse_loss(score, torch.ones_like(score))


def lsgan_real(score: torch.Tensor) -> torch.Tensor:
    return 0.5 * nnf.mse_loss(score, torch.ones_like(score))


def lsgan_fake(score: torch.Tensor) -> torch.Tensor:
    return 0.5 * nnf.mse_loss(score, torch.zeros_like(score))


def lsgan_critic(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """LSGAN critic loss as in the reference CycleGAN code: ½(‖D(x)−1‖² + ‖D(ŷ)‖²)."""
    return lsgan_real(real) + lsgan_fake(fake)


def set_requires_grad(modules, flag: bool) -> None:
    for m in modules:
        for p in m.parameters():
            p.requires_grad_(flag)


@dataclass
class Variant:
    """One way of running the training step; ``step()`` runs one full step."""

    name: str
    step: Callable[[], object]
    compiled: bool = False
    calls: int | None = None            # generator-network evaluations per step
    setup_s: float = 0.0                # time to build it (compile_functor for cdl)
    warmup: list[float] = field(default_factory=list)
    times: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def compile_s(self) -> float:
        """Setup plus the warm-up steps' excess over the fastest step (a median can be
        inflated by a competing process; no step is faster than the steady state)."""
        best = min([*self.times, *self.warmup])
        return self.setup_s + sum(max(0.0, t - best) for t in self.warmup)


def timed(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def others_cpu() -> float:
    """CPU seconds used so far by every other process (with its reaped children).

    Summed from /proc/<pid>/stat (utime + stime + cutime + cstime): short-lived
    processes (a compiler run by someone's inductor) count once their parent reaps them."""
    me, total = os.getpid(), 0
    for d in os.scandir("/proc"):
        if not d.name.isdigit() or int(d.name) == me:
            continue
        try:
            with open(f"/proc/{d.name}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        total += sum(int(x) for x in fields[11:15])
    return total / os.sysconf("SC_CLK_TCK")


class Contention:
    """Share of the machine's cores that other processes used while steps were timed."""

    def __init__(self) -> None:
        self.others = 0.0
        self.wall = 0.0

    def __enter__(self) -> Contention:
        self._t, self._cpu = time.perf_counter(), others_cpu()
        return self

    def __exit__(self, *exc) -> None:
        self.others += max(0.0, others_cpu() - self._cpu)
        self.wall += time.perf_counter() - self._t

    @property
    def share(self) -> float:
        return self.others / (self.wall * (os.cpu_count() or 1)) if self.wall else 0.0

    def __str__(self) -> str:
        return f"{self.share:.0%}"


@dataclass
class Timing:
    """How a table's steps were timed: rounds kept, rounds discarded, contention."""

    kept: int
    discarded: int
    reps: int
    contention: Contention

    def __str__(self) -> str:
        return (f"{self.kept} rounds of {self.reps} step(s) per variant kept"
                + (f" (the least contended of {self.kept + self.discarded})"
                   if self.discarded else "")
                + f"; other processes used {self.contention} of the cores in the kept rounds")


MAX_CONTENTION = 0.15


CONTENTION = Contention()


def run_alternating(variants: list[Variant], warmup: int, steps: int,
                    budget_s: float = 60.0, round_s: float = 0.3) -> Timing:
    """Warm every variant up (compiling), then time rounds of ``reps`` steps of each
    variant, the order rotated each round, and keep ``steps`` rounds.

    The machine is shared (2 cores) and a competitor slows OpenMP kernels by 10-300×, so
    rounds run until ``steps`` of them saw other processes use at most
    ``MAX_CONTENTION`` of the cores (/proc/<pid>/stat), or ``budget_s`` has passed; then the
    least contended ``steps`` rounds are kept. ``reps`` makes a round last about
    ``round_s`` so that the 10 ms ticks of CPU accounting resolve the share."""
    for v in variants:
        v.warmup = [timed(v.step) for _ in range(warmup)]
    gc.collect()
    est = sum(min(v.warmup[1:] or v.warmup) for v in variants)
    reps = max(1, min(20, round(round_s / max(est, 1e-6))))
    n = len(variants)
    rounds: list[tuple[Contention, dict[str, list[float]]]] = []
    t0 = time.perf_counter()
    r = 0
    while (len(rounds) < steps or time.perf_counter() - t0 < budget_s) and \
            sum(c.share <= MAX_CONTENTION for c, _ in rounds) < steps:
        this, times = Contention(), {}
        with this:
            for i in range(n):
                v = variants[(i + r) % n]
                times[v.name] = [timed(v.step) for _ in range(reps)]
        rounds.append((this, times))
        r += 1
    keep = sorted(rounds, key=lambda ct: ct[0].share)[:steps]
    mine = Contention()
    for c, times in keep:
        mine.others += c.others
        mine.wall += c.wall
        for v in variants:
            v.times += times[v.name]
    CONTENTION.others += mine.others
    CONTENTION.wall += mine.wall
    return Timing(len(keep), len(rounds) - len(keep), reps, mine)


def count_calls(modules: list[nn.Module], fn: Callable[[], object]) -> int:
    """Run ``fn`` once and count forward calls of ``modules`` (eager code only)."""
    n = 0

    def hook(*_):
        nonlocal n
        n += 1

    handles = [m.register_forward_pre_hook(hook) for m in modules]
    try:
        fn()
    finally:
        for h in handles:
            h.remove()
    return n


def warm_up_compiler() -> float:
    """Pay torch.compile's one-time start-up (imports, C++ toolchain probe) once."""
    t0 = time.perf_counter()
    f = torch.compile(lambda x: (x.sin() + 1).sum())
    x = torch.randn(8, requires_grad=True)
    f(x).backward()
    return time.perf_counter() - t0


def cdl_step(prog, batch) -> Callable[[], object]:
    return lambda: prog.step(batch)


# --------------------------------------------------------------------------- conv
def conv_setup(seed: int = 0):
    torch.manual_seed(seed)
    nets = {"f": ResnetGenerator(), "g": ResnetGenerator(),
            "D_Horse": PatchCritic(), "D_Zebra": PatchCritic()}
    batch = {"Horse": torch.rand(8, 3, 32, 32) * 2 - 1,
             "Zebra": torch.rand(8, 3, 32, 32) * 2 - 1}
    return nets, batch


def adam_conv(params) -> torch.optim.Adam:
    """The reference CycleGAN optimizer settings (cdl's defaults too)."""
    return torch.optim.Adam(params, lr=2e-4, betas=(0.5, 0.999))


class HandCycleGAN:
    """The CycleGAN step as practitioners write it (reference-code structure)."""

    def __init__(self, nets, batch, compile: bool = False, naive: bool = False):
        nets = copy.deepcopy(nets)
        self.f, self.g = nets["f"], nets["g"]
        self.dH, self.dZ = nets["D_Horse"], nets["D_Zebra"]
        self.xH, self.xZ = batch["Horse"], batch["Zebra"]
        self.opt_g = adam_conv(chain(self.f.parameters(), self.g.parameters()))
        self.opt_d = adam_conv(chain(self.dH.parameters(), self.dZ.parameters()))
        gen = self.gen_loss_naive if naive else self.gen_loss
        self.naive = naive
        self._gen = torch.compile(gen) if compile else gen
        self._critic = torch.compile(self.critic_loss) if compile else self.critic_loss

    def gen_loss(self, xH, xZ):
        fake_Z, fake_H = self.f(xH), self.g(xZ)
        rec_H, rec_Z = self.g(fake_Z), self.f(fake_H)
        adv = lsgan_gen(self.dZ(fake_Z)) + lsgan_gen(self.dH(fake_H))
        cyc = nnf.l1_loss(rec_H, xH) + nnf.l1_loss(rec_Z, xZ)
        return adv + CYCLE_WEIGHT * cyc, fake_Z, fake_H

    def gen_loss_naive(self, xH, xZ):
        adv_f = lsgan_gen(self.dZ(self.f(xH)))
        adv_g = lsgan_gen(self.dH(self.g(xZ)))
        cyc_H = nnf.l1_loss(self.g(self.f(xH)), xH)
        cyc_Z = nnf.l1_loss(self.f(self.g(xZ)), xZ)
        return adv_f + adv_g + CYCLE_WEIGHT * (cyc_H + cyc_Z), None, None

    def critic_loss(self, xH, xZ, fake_Z, fake_H):
        return (lsgan_critic(self.dZ(xZ), self.dZ(fake_Z))
                + lsgan_critic(self.dH(xH), self.dH(fake_H)))

    def step(self):
        critics = (self.dH, self.dZ)
        set_requires_grad(critics, False)
        loss_g, fake_Z, fake_H = self._gen(self.xH, self.xZ)
        self.opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        self.opt_g.step()
        set_requires_grad(critics, True)
        if self.naive:  # the critic loss evaluates its own fakes again
            with torch.no_grad():
                fake_Z, fake_H = self.f(self.xH), self.g(self.xZ)
        loss_d = self._critic(self.xH, self.xZ, fake_Z.detach(), fake_H.detach())
        self.opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        self.opt_d.step()
        return loss_g, loss_d


def cdl_cyclegan(nets, batch, backend: str, **kw):
    nets = copy.deepcopy(nets)
    S = Schema.parse((HERE.parent / "examples" / "cyclegan.schema").read_text())
    H, Z = S.objects()
    f, g = S.arrows
    F = Functor(S, ob={H: Euclid(3, 32, 32), Z: Euclid(3, 32, 32)},
                ar={f: nets["f"], g: nets["g"]})
    prog = compile_functor(F, critics={H: nets["D_Horse"], Z: nets["D_Zebra"]},
                           adversarial="lsgan", distance="l1",
                           equation_weight=CYCLE_WEIGHT, backend=backend,
                           lr=2e-4, betas=(0.5, 0.999), **kw)
    return prog, {H: batch["Horse"], Z: batch["Zebra"]}, nets


def conv_variants(only_compiled: bool = False) -> list[Variant]:
    nets, batch = conv_setup()
    out: list[Variant] = []

    def add(name, make, compiled, calls=None):
        if only_compiled and not compiled:
            return
        t0 = time.perf_counter()
        step = make()
        out.append(Variant(name, step, compiled, calls, time.perf_counter() - t0))

    def hand(**kw):
        return HandCycleGAN(nets, batch, **kw).step

    gens = lambda h: [h.f, h.g]  # noqa: E731
    probe = HandCycleGAN(nets, batch)
    plan_calls = count_calls(gens(probe), probe.step)
    probe = HandCycleGAN(nets, batch, naive=True)
    naive_calls = count_calls(gens(probe), probe.step)
    del probe

    add("hand eager", lambda: hand(), False, plan_calls)
    add("hand compiled", lambda: hand(compile=True), True, plan_calls)
    add("naive eager", lambda: hand(naive=True), False, naive_calls)
    if CDL_MISSING is None:
        for backend, compiled in (("eager", False), ("inductor", True)):
            def make(backend=backend):
                prog, b, _ = cdl_cyclegan(nets, batch, backend)
                return cdl_step(prog, b)
            add(f"cdl {'compiled' if compiled else 'eager'}", make, compiled,
                plan_calls)
    return out


# --------------------------------------------------------------------------- grid
@dataclass
class Grid:
    """The k×k grid of commuting squares as plain data (names, domains, codomains)."""

    k: int

    def obj(self, i: int, j: int) -> str:
        return f"X{i}_{j}"

    @property
    def objects(self) -> list[str]:
        return [self.obj(i, j) for i in range(self.k) for j in range(self.k)]

    @property
    def arrows(self) -> dict[str, tuple[str, str]]:
        k, out = self.k, {}
        for i in range(k):
            for j in range(k):
                if j + 1 < k:
                    out[f"r{i}_{j}"] = (self.obj(i, j), self.obj(i, j + 1))
                if i + 1 < k:
                    out[f"d{i}_{j}"] = (self.obj(i, j), self.obj(i + 1, j))
        return out

    @property
    def squares(self) -> list[tuple[tuple[str, str], tuple[str, str]]]:
        """Each square's two sides ``(r, d) = (d, r)`` as pairs of arrow names."""
        k = self.k
        return [((f"r{i}_{j}", f"d{i}_{j + 1}"), (f"d{i}_{j}", f"r{i + 1}_{j}"))
                for i in range(k - 1) for j in range(k - 1)]

    @property
    def targets(self) -> list[str]:
        """Objects that are the codomain of some arrow: each gets a critic."""
        cods = {c for _, c in self.arrows.values()}
        return [o for o in self.objects if o in cods]

    def schema(self) -> Schema:
        S = Schema(f"Grid{self.k}")
        S.objects(*self.objects)
        arrows = {a: S.arrow(a, d, c) for a, (d, c) in self.arrows.items()}
        for (r, d2), (d, r2) in self.squares:
            S.equate(arrows[r] >> arrows[d2], arrows[d] >> arrows[r2])
        return S

    def calls(self, naive: bool) -> int:
        """Arrow-network evaluations per training step."""
        a, e = len(self.arrows), len(self.squares)
        # plan: every arrow once on its domain's data (adversarial loss and first step of
        # both square sides), then the second arrow of each side; the critic step reuses
        # the fakes.  naive: each loss on its own, and the critic step recomputes fakes.
        return 2 * a + 4 * e if naive else a + 2 * e


def grid_setup(k: int, seed: int = 0):
    torch.manual_seed(seed)
    grid = Grid(k)
    nets = nn.ModuleDict({a: mlp(32, 64, 32) for a in grid.arrows})
    critics = nn.ModuleDict({o: mlp(32, 64, 1) for o in grid.targets})
    batch = {o: torch.randn(64, 32) for o in grid.objects}
    return grid, nets, critics, batch


class HandGrid:
    """The grid step as practitioners write it: a dict of arrow outputs computed once,
    losses summed over arrows and squares, one Adam per player."""

    def __init__(self, grid: Grid, nets, critics, batch, compile: bool = False,
                 naive: bool = False):
        self.grid, self.naive = grid, naive
        self.nets, self.critics = copy.deepcopy(nets), copy.deepcopy(critics)
        self.xs = [batch[o] for o in grid.objects]
        self.index = {o: n for n, o in enumerate(grid.objects)}
        self.incoming: dict[str, list[int]] = {o: [] for o in grid.targets}
        for n, (_, cod) in enumerate(grid.arrows.values()):
            self.incoming[cod].append(n)
        self.opt_g = torch.optim.Adam(self.nets.parameters(), lr=1e-3)
        self.opt_d = torch.optim.Adam(self.critics.parameters(), lr=1e-3)
        gen = self.gen_loss_naive if naive else self.gen_loss
        self._gen = torch.compile(gen) if compile else gen
        self._critic = torch.compile(self.critic_loss) if compile else self.critic_loss

    def _x(self, xs, ob):
        return xs[self.index[ob]]

    def gen_loss(self, xs):
        arrows, nets = self.grid.arrows, self.nets
        ys = {a: nets[a](self._x(xs, dom)) for a, (dom, _) in arrows.items()}
        adv = sum(lsgan_gen(self.critics[cod](ys[a])) for a, (_, cod) in arrows.items())
        eq = sum(nnf.l1_loss(nets[r2](ys[r1]), nets[d2](ys[d1]))
                 for (r1, r2), (d1, d2) in self.grid.squares)
        return adv + EQ_WEIGHT * eq, list(ys.values())

    def gen_loss_naive(self, xs):
        arrows, nets = self.grid.arrows, self.nets
        adv = sum(lsgan_gen(self.critics[cod](nets[a](self._x(xs, dom))))
                  for a, (dom, cod) in arrows.items())
        eq = 0.0
        for (r1, r2), (d1, d2) in self.grid.squares:
            x = self._x(xs, arrows[r1][0])
            eq = eq + nnf.l1_loss(nets[r2](nets[r1](x)), nets[d2](nets[d1](x)))
        return adv + EQ_WEIGHT * eq, None

    def critic_loss(self, xs, fakes):
        """Per target object: the real term once, the fake terms averaged over the
        arrows landing on it (a critic's loss does not grow with its in-degree)."""
        critics, incoming = self.critics, self.incoming
        loss = 0.0
        for o in self.grid.targets:
            real = critics[o](self._x(xs, o))
            fake = sum(lsgan_fake(critics[o](fakes[i])) for i in incoming[o]) / len(incoming[o])
            loss = loss + lsgan_real(real) + fake
        return loss

    def step(self):
        set_requires_grad([self.critics], False)
        loss_g, fakes = self._gen(self.xs)
        self.opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        self.opt_g.step()
        set_requires_grad([self.critics], True)
        if self.naive:
            with torch.no_grad():
                fakes = [self.nets[a](self._x(self.xs, dom))
                         for a, (dom, _) in self.grid.arrows.items()]
        loss_d = self._critic(self.xs, [y.detach() for y in fakes])
        self.opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        self.opt_d.step()
        return loss_g, loss_d


def cdl_grid(grid: Grid, nets, critics, batch, backend: str, **kw):
    nets, critics = copy.deepcopy(nets), copy.deepcopy(critics)
    S = grid.schema()
    F = Functor(S, ob={S[o]: Euclid(32) for o in grid.objects},
                ar={S[a]: nets[a] for a in grid.arrows})
    prog = compile_functor(F, critics={S[o]: critics[o] for o in grid.targets},
                           adversarial="lsgan", distance="l1",
                           equation_weight=EQ_WEIGHT, backend=backend,
                           lr=1e-3, betas=(0.9, 0.999), **kw)
    return prog, {S[o]: x for o, x in batch.items()}, (nets, critics)


def as_module_class(modules: nn.ModuleDict) -> nn.ModuleDict:
    """The same networks (same weights) wrapped in the user-defined ``MLP`` class."""
    out = nn.ModuleDict()
    for name, seq in modules.items():
        m = MLP(1, 1, 1)
        m.net = copy.deepcopy(seq)
        out[name] = m
    return out


def grid_variants(k: int, only_compiled: bool = False, extra: bool | None = None
                  ) -> list[Variant]:
    """The grid's variants; ``extra`` (default: for k = 4) adds cdl compiled on the same
    networks written as a module class (does cdl fuse what users write?)."""
    grid, nets, critics, batch = grid_setup(k)
    out: list[Variant] = []

    def add(name, make, compiled, calls):
        if only_compiled and not compiled:
            return
        t0 = time.perf_counter()
        step = make()
        out.append(Variant(name, step, compiled, calls, time.perf_counter() - t0))

    plan, naive = grid.calls(naive=False), grid.calls(naive=True)
    probe = HandGrid(grid, nets, critics, batch)
    assert count_calls(list(probe.nets.values()), probe.step) == plan
    probe = HandGrid(grid, nets, critics, batch, naive=True)
    assert count_calls(list(probe.nets.values()), probe.step) == naive
    del probe

    add("hand eager", lambda: HandGrid(grid, nets, critics, batch).step, False, plan)
    add("hand compiled", lambda: HandGrid(grid, nets, critics, batch, compile=True).step,
        True, plan)
    add("naive eager", lambda: HandGrid(grid, nets, critics, batch, naive=True).step,
        False, naive)
    if CDL_MISSING is None:
        for backend, compiled in (("eager", False), ("inductor", True)):
            def make(backend=backend):
                prog, b, _ = cdl_grid(grid, nets, critics, batch, backend)
                return cdl_step(prog, b)
            add(f"cdl {'compiled' if compiled else 'eager'}", make, compiled, plan)
        if extra if extra is not None else k == 4:
            def make_class():
                prog, b, _ = cdl_grid(grid, as_module_class(nets), as_module_class(critics),
                                      batch, "inductor")
                return cdl_step(prog, b)
            add("cdl compiled, MLP class", make_class, True, plan)
    return out


# --------------------------------------------------------------------------- driver
def build(bench: str, only_compiled: bool = False) -> list[Variant]:
    if bench == "conv":
        return conv_variants(only_compiled)
    return grid_variants(int(bench.removeprefix("grid")), only_compiled)


def probe_main(bench: str, warmup: int) -> None:
    """Second-process half of the warm-compile measurement: print JSON compile times."""
    warm_up_compiler()
    result = {}
    for v in build(bench, only_compiled=True):
        v.warmup = [timed(v.step) for _ in range(warmup)]
        v.times = [timed(v.step) for _ in range(5)]
        result[v.name] = v.compile_s
    print(json.dumps(result))


def warm_compile(bench: str, warmup: int) -> dict[str, float]:
    out = subprocess.run([sys.executable, __file__, "--probe", bench, "--warmup", str(warmup)],
                         capture_output=True, text=True, env=os.environ.copy())
    if out.returncode != 0:
        print(f"  warm-compile probe for {bench} failed:\n{out.stderr[-2000:]}")
        return {}
    return json.loads(out.stdout.strip().splitlines()[-1])


def ms(s: float) -> str:
    return f"{s * 1e3:.1f}" if s < 1 else f"{s * 1e3:.0f}"


def secs(s: float | None) -> str:
    return "–" if s is None else f"{s:.1f}"


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}×"


def table(variants: list[Variant], warm: dict[str, float], calls_label: str,
          cold_label: str = "compile cold s") -> list[str]:
    by = {v.name: v for v in variants}
    base_e = by["hand eager"].median
    base_c = by["hand compiled"].median
    lines = [f"| variant | step ms (median) | IQR ms | min ms | vs hand eager "
             f"| vs hand compiled | {calls_label} | {cold_label} | compile warm s |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for v in variants:
        q = statistics.quantiles(v.times, n=4) if len(v.times) >= 2 else [v.median] * 3
        cold = v.compile_s if v.compiled else None
        lines.append(f"| {v.name} | {ms(v.median)} | {ms(q[2] - q[0])} | {ms(min(v.times))} "
                     f"| {ratio(base_e, v.median)} | {ratio(base_c, v.median)} "
                     f"| {v.calls if v.calls is not None else '?'} | {secs(cold)} "
                     f"| {secs(warm.get(v.name)) if v.compiled else '–'} |")
    return lines


def verdicts(variants: list[Variant], targets) -> list[str]:
    by = {v.name: v for v in variants}
    out = []
    for name, base, want, how in targets:
        if name not in by:
            out.append(f"- {name} vs {base}: not measured ({CDL_MISSING})")
            continue
        r = by[base].median / by[name].median
        if how == "within":
            ok = r >= 1 - want
            out.append(f"- {name} within {want:.0%} of {base}: speed ratio {r:.2f}× "
                       f"— {'met' if ok else 'NOT met'}")
        else:
            ok = r >= want
            out.append(f"- {name} ≥ {want}× {base}: {r:.2f}× — {'met' if ok else 'NOT met'}")
    return out


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (f"{os.cpu_count()}-core CPU ({cpu}), {torch.get_num_threads()} torch threads, "
            f"torch {torch.__version__}, Python {platform.python_version()}, no GPU")


def write_readme(text: str) -> None:
    path = HERE / "README.md"
    old = path.read_text() if path.exists() else "# Benchmarks\n"
    start = old.find(README_SECTION)
    if start < 0:
        new = old.rstrip("\n") + "\n\n" + text
    else:
        nxt = old.find("\n## ", start + len(README_SECTION))
        new = old[:start] + text + (old[nxt + 1:] if nxt >= 0 else "")
    path.write_text(new.rstrip("\n") + "\n")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="few steps, k ≤ 4 (~3 min)")
    ap.add_argument("--write", action="store_true", help="write README.md also with --quick")
    ap.add_argument("--no-write", action="store_true", help="do not write README.md")
    ap.add_argument("--no-warm", action="store_true", help="skip the warm-compile process")
    ap.add_argument("--ks", type=int, nargs="*", help="grid sizes (default 2 4 8; quick 2 4)")
    ap.add_argument("--only", choices=["conv", "grid"], help="run one benchmark")
    ap.add_argument("--probe", help=argparse.SUPPRESS)
    ap.add_argument("--warmup", type=int, default=3, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.probe:
        probe_main(args.probe, args.warmup)
        return

    quick = args.quick
    # A fresh inductor cache for the cold compile; the warm probe reuses it.  --quick
    # keeps the cache it finds (a cold compile alone would take minutes) and skips the
    # probe, so its compile column is "with the cache as found".
    base = Path(os.environ.get("TORCHINDUCTOR_CACHE_DIR", ROOT / ".torchinductor-cache"))
    cache = base if quick else base / f"bench-step-{os.getpid()}"
    if not quick:
        shutil.rmtree(cache, ignore_errors=True)
    os.environ["TORCHINDUCTOR_CACHE_DIR"] = str(cache)
    no_warm = args.no_warm or quick
    cold_label = "compile s (cache as found)" if quick else "compile cold s"
    conv_steps, conv_warm = (5, 2) if quick else (20, 3)
    budget = 20.0 if quick else 60.0  # seconds per table to wait out other processes
    grid_steps, grid_warm = (20, 3) if quick else (60, 5)
    ks = args.ks or ([2, 4] if quick else [2, 4, 8])
    cmd = "python3 benchmarks/bench_step.py" + (" --quick" if quick else "")
    torch.manual_seed(0)
    t_start = time.perf_counter()
    startup = warm_up_compiler()
    print(f"machine: {machine()}\ncdl: {CDL_MISSING or 'compiler imported'}\n"
          f"torch.compile start-up (once per process, excluded): {startup:.1f} s\n")

    out = [README_SECTION, "",
           f"Command: `{cmd}` — machine: {machine()}.",
           f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}. All variants "
           "of a table alternate in one process: after "
           f"{conv_warm} (conv) / {grid_warm} (grid) warm-up steps each, rounds of a few steps "
           f"of every variant (order rotated) run until {conv_steps} (conv) / {grid_steps} "
           "(grid) rounds saw other processes use at most "
           f"{MAX_CONTENTION:.0%} of the cores (/proc/*/stat), or for {budget:.0f} s, and the "
           "least contended rounds are kept — the machine is shared, and a competitor on "
           "2 cores slows OpenMP kernels by 10-300×. Step time: "
           "the median (and IQR, min) over the kept steps. *compile cold*: building the "
           "program plus the warm-up steps' excess over the fastest step, with an empty "
           "inductor cache; *compile warm*: the same in a second process that finds the "
           "caches filled (Dynamo still traces). Hand-written variants use `torch.optim.Adam` "
           "with its defaults (on CPU its per-parameter loop); *hand compiled* wraps the "
           "generator- and critic-loss functions in `torch.compile` (optimizer steps eager); "
           "cdl uses its default fused Adam with the same hyper-parameters.", ""]
    if CDL_MISSING:
        out += [f"cdl variants not measured: {CDL_MISSING}.", ""]

    if args.only in (None, "conv"):
        print("== conv: CycleGAN, batch 8, 32×32 RGB ==", flush=True)
        variants = conv_variants()
        busy = run_alternating(variants, conv_warm, conv_steps, budget)
        warm = {} if no_warm else warm_compile("conv", conv_warm)
        lines = ["### 1. Conv: CycleGAN step (batch 8, 32×32 RGB, ResNet-4 width-32 "
                 "generators, PatchGAN critics, LSGAN + L1 cycle ×10, Adam)", ""]
        lines += table(variants, warm, "generator calls/step", cold_label)
        lines += ["", f"Timing: {busy}."]
        lines += ["", *verdicts(variants, [
            ("cdl compiled", "hand eager", 1.3, "x"),
            ("cdl compiled", "hand compiled", 1.0, "x"),
            ("cdl eager", "hand eager", 0.05, "within")]), ""]
        print("\n".join(lines), flush=True)
        out += lines

    if args.only in (None, "grid"):
        growth = ["### Growth with k (many small arrows)", "",
                  "| k | arrows | squares | critics | arrow calls/step plan / naive "
                  "| hand eager ms | hand compiled ms | cdl eager ms | cdl compiled ms "
                  "| hand compiled compile cold / warm s | cdl compiled compile cold / warm s |",
                  "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for k in ks:
            grid = Grid(k)
            print(f"== grid k={k}: {len(grid.arrows)} arrows, {len(grid.squares)} squares ==",
                  flush=True)
            variants = grid_variants(k)
            busy = run_alternating(variants, grid_warm, grid_steps, budget)
            warm = {} if no_warm else warm_compile(f"grid{k}", grid_warm)
            lines = [f"### 2. Many small arrows: {k}×{k} grid of commuting squares on R^32 "
                     f"({len(grid.arrows)} MLP arrows, {len(grid.squares)} square equations, "
                     f"{len(grid.targets)} MLP critics, batch 64, Adam lr 1e-3)", ""]
            lines += table(variants, warm, "arrow calls/step", cold_label)
            lines += ["", f"Timing: {busy}."]
            if k == 4:
                lines += ["", *verdicts(variants, [
                    ("cdl compiled", "hand eager", 6.0, "x"),
                    ("cdl compiled", "hand compiled", 4.0, "x")])]
            lines.append("")
            print("\n".join(lines), flush=True)
            out += lines
            by = {v.name: v for v in variants}

            def cell(name, by=by):
                return ms(by[name].median) if name in by else "–"

            def comp(name, by=by, warm=warm):
                if name not in by:
                    return "–"
                return f"{by[name].compile_s:.1f} / {secs(warm.get(name))}"

            growth.append(f"| {k} | {len(grid.arrows)} | {len(grid.squares)} "
                          f"| {len(grid.targets)} | {grid.calls(False)} / {grid.calls(True)} "
                          f"| {cell('hand eager')} | {cell('hand compiled')} "
                          f"| {cell('cdl eager')} | {cell('cdl compiled')} "
                          f"| {comp('hand compiled')} | {comp('cdl compiled')} |")
        growth.append("")
        print("\n".join(growth), flush=True)
        out += growth

    out += ["### 3. GPU", "", "Not measured here: this machine has no GPU (CPU-only torch "
            f"{torch.__version__}). On a CUDA machine `python3 benchmarks/bench_step_gpu.py "
            "--write` runs both workloads (and cdl with CUDA graphs) and writes its own "
            "section below.", ""]
    total_s = time.perf_counter() - t_start
    print(f"total {total_s:.0f} s; other processes used {CONTENTION} of the cores while "
          "steps were timed")
    out += [f"Whole run {total_s / 60:.0f} min. Other processes used {CONTENTION} of the "
            "machine's cores while steps were timed (from /proc/*/stat; 0% is a quiet machine, "
            "and on 2 cores any competitor slows every variant).", ""]
    if not quick:
        shutil.rmtree(cache, ignore_errors=True)
    if (not quick or args.write) and not args.no_write and args.only is None:
        write_readme("\n".join(out))
        print(f"wrote {HERE / 'README.md'}")


if __name__ == "__main__":
    main()
