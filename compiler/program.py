"""The :class:`Program`: a compiled functor's plan, its two graphs, and the training steps.

``compile_functor`` (``assembly.py``) builds one. It runs the plan's two graphs
(``lowering.py``) through ``torch.compile(fullgraph=True)``:
:meth:`Program.generator_losses` and :meth:`Program.critic_losses` for a loop with the
user's own optimizers; :meth:`Program.step` (generator and critic updates from one
evaluation and one backward) and :meth:`Program.critic_step` (a critic-only update, for
``n_critic > 1``), each one compiled graph, with the program's
:attr:`Program.optimizers`, an optional per-player gradient clipping (``max_grad_norm``)
and a refusal of non-finite updates (``check_finite``). With ``fake_pool=N`` the critics
see CycleGAN's image pool of past fakes, updated inside those graphs (``pool.py``).
:meth:`Program.state_dict` holds what a checkpoint needs besides the modules' weights
and the optimizers' state (the pool).

>>> import torch
>>> from torch import nn
>>> from category import Schema
>>> from compiler import Euclid, Functor, compile_functor
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

import contextlib
import math
import numbers
import types
import warnings
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

import torch
from torch import nn

from category import Ob

from .batches import Batch, BatchReader
from .cache import use_cache_dir
from .diagnosis import failing_networks, non_finite_message
from .errors import CompilerError, NonFiniteLossError, ProgramNotPicklable
from .fallback import falls_back, say_fallen_back
from .functor import Functor
from .fusion import Banks
from .lowering import Lowered
from .plan import Plan
from .pool import FakePool, query_all, shard_rand
from .views import ModuleViews

if TYPE_CHECKING:
    from .options import CompileOptions

# torch's note when a region's backward is traced twice (a generator applied to data and
# to another network's output gets its gradients in two layouts): a cost cdl measured
# and accepted (benchmarks/bench_compile.py), nothing a user can act on
warnings.filterwarnings("ignore", message="invoke_subgraph traced multiple backward graphs")


class Program:
    """A compiled functor: the plan, its two graphs, and the training steps.

    Entry points: :meth:`generator_losses` and :meth:`critic_losses` (losses with
    gradients to the user's modules, for a loop with the user's own optimizers);
    :meth:`step` (one generator and critic update) and :meth:`critic_step` (a critic
    update only, for ``n_critic > 1``) with the program's :attr:`optimizers`;
    :meth:`state_dict` / :meth:`load_state_dict` for what the program holds besides
    weights and optimizers (the fake pool).
    """

    def __init__(self, F: Functor, plan: Plan, gen: Lowered, cri: Lowered,
                 reader: BatchReader, options: CompileOptions, pool: FakePool | None = None,
                 inline: Callable[[], tuple[Lowered, Lowered]] | None = None):
        """The program of a fused ``plan`` (after ``fusion.banks_pass``) of ``F``, its two
        lowered graphs, the ``reader`` of its batches, its ``options`` (backend,
        optimizers, ``check_finite``) and its fake ``pool``: see ``compile_functor``.
        ``inline``: where the graphs call networks as compile regions, lowers them again
        without (the fallback of ``fallback.py``)."""
        self.functor, self.plan = F, plan
        arrows, critics = plan.arrow_banks, plan.critic_banks
        self.arrow_banks, self.critic_banks = arrows, critics
        self._reader, self.priors = reader, reader.priors
        self.backend = options.backend
        self._compile_options = dict(options.compile_options or {})
        self._pool = pool
        # the critic graph's interpolation-weight inputs, fixed when it was lowered
        self._interpolated = [ob for ob, _ in plan.interpolated]
        for bank in [*arrows.banks, *critics.banks]:
            bank.adopt()
        self._stacks = {b.name: b for b in [*arrows.banks, *critics.banks]}
        # the program's view of every module, checked at every entry point (views.py)
        self._views = ModuleViews([
            (_label(b, i), m, (dict(zip(b.names, b.stacks, strict=True)), i)
             if b.stacked else None)
            for b in self._stacks.values() for i, m in enumerate(b.modules)])
        self._install(gen, cri)
        # the entry points not yet run compiled with regions (fallback.falls_back)
        self._inline = inline
        self._unproven = ({"generator_losses", "critic_losses", "step", "critic_step"}
                          if inline is not None else set())
        self._fakes: tuple[tuple, list[torch.Tensor]] | None = None
        gen_params, critic_params = self._trainable(arrows), self._trainable(critics)
        make_opt = options.make_optimizer
        if options.critic_optimizer is None:  # one optimizer, two groups: one fused step
            self.optimizers = [make_opt([{"params": gen_params}, {"params": critic_params}])]
        else:
            self.optimizers = [make_opt(gen_params), options.critic_optimizer(critic_params)]
        self.check_finite = options.check_finite
        # called as grad_hook(parameters, total) between the backward pass and the update,
        # returning the total to check for finiteness (data-parallel averaging: see
        # runtime/distributed.py); None: no hook
        self.grad_hook: Callable[[list[torch.Tensor], torch.Tensor], torch.Tensor] | None = None
        # (rank, world) of a data-parallel run: the per-sample random numbers (wgan-gp's
        # interpolation weights, the fake pool's coins) are drawn for the global batch
        # and this rank takes its slice, so the ranks draw what one process would
        self.draw_shard: tuple[int, int] = (0, 1)
        # updates (step, critic_step) run by this program object: the first one compiles
        self.updates = 0

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
    def compile_options(self) -> dict[str, object]:
        """The extra ``torch.compile`` keywords the program's graphs are compiled with."""
        return dict(self._compile_options)

    @property
    def device(self) -> torch.device:
        """Where the networks live: batches must be on this device."""
        return self._reader.device or torch.device("cpu")

    @falls_back
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

    @falls_back
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

    @falls_back
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
        self.updates += 1
        out = self._named(self._gen, gen.detach(), gen_total.detach())
        out.update(self._named(self._cri, cri.detach(), cri_total.detach(), "critic_total"))
        return out

    @falls_back
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
        self.updates += 1
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
        losses = [(lowered.names, v) for lowered, v in ((self._gen, gen), (self._cri, cri))
                  if v is not None]
        modules = [*((str(a), m) for a, m in self.functor.modules.items()),
                   *((f"critic {ob}", m) for ob, m in self._critics())]
        return non_finite_message(losses, data, modules, returned)

    def _guarded(self, data: dict, fn, *args):
        """``fn(*args)``; a network failing inside it is named (each one is run again
        on meta tensors of the batch's size to find which), the error kept as cause."""
        try:
            return fn(*args)
        except CompilerError:
            raise
        except Exception as e:
            found = failing_networks(self._networks(), self._batch_size(data))
            if not found:
                raise
            raise CompilerError("\n".join(found)) from e

    def _networks(self) -> list[tuple[str, nn.Module, object]]:
        """(what, module, its input space) for every network and critic the program runs."""
        spaces = self.functor.spaces
        who = [(f"arrow {a} : {a.dom} -> {a.cod}", m, spaces[a.dom])
               for a, m in self.functor.modules.items()
               if any(m is x for b in self.arrow_banks.banks for x in b.modules)]
        # a critic judging several objects (of one space) is labelled by all of them
        who += [(f"critic for {'/'.join(label)}", m, spaces[label[0]])
                for b in self.critic_banks.banks
                for label, m in zip(b.labels, b.modules, strict=True)]
        return who

    def __reduce_ex__(self, protocol):
        raise ProgramNotPicklable(
            "a compiled Program cannot be pickled, copied or torch.save'd (it holds "
            "compiled graphs and the program's own closures): save what it trains instead "
            "— each module's state_dict() (prog.functor.modules, prog.critics), "
            "opt.state_dict() for opt in prog.optimizers, and prog.state_dict() (the fake "
            "pool) — as runtime.train.checkpoint does, and call compile_functor again to load")

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
        both = self._trainable(self.arrow_banks) + self._trainable(self.critic_banks)
        return list({id(p): p for p in both}.values())

    def __repr__(self) -> str:
        return f"Program({self.plan!r}, backend={self.backend!r})"

    # ------------------------------------------------------------------ internals
    def _install(self, gen: Lowered, cri: Lowered) -> None:
        """The two lowered graphs, and the four entry points compiled from them."""
        self.generator_graph, self.critic_graph = gen.module, cri.module
        self._gen, self._cri = gen, cri
        if self.backend != "eager":
            use_cache_dir()  # torch's persistent caches, in cdl's folder (compiler/cache.py)
        self._gen_fn = self._compile(self.generator_graph)
        critic = self.critic_graph if self._pool is None else self._critic_part
        self._cri_fn = self._compile(critic)
        self._step_fn = self._compile(self._forward_all)
        self._critic_step_fn = self._compile(self._critic_forward)

    def _fall_back(self, error: BaseException) -> None:
        """Regional compilation failed: said once, the graphs lowered again inlined."""
        say_fallen_back(error)
        gen, cri = self._inline()
        self._inline, self._unproven = None, set()
        self._install(gen, cri)

    def _all_modules(self) -> list[nn.Module]:
        """Every arrow's and critic's network (whose buffers a failed call may have moved)."""
        return [*self.functor.modules.values(), *(m for _, m in self._critics())]

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
        return next(iter(data.values()))[0].shape[0]

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
        """The banks' parameters, each once: a module may hold another bank's modules (a
        pulled-back functor's path network holds its arrows' networks), and an optimizer
        given a tensor twice would step it twice."""
        out: dict[int, torch.Tensor] = {}
        for b in banks.banks:
            for p in b.stacks if b.stacked else b.modules[0].parameters():
                out.setdefault(id(p), p)
        return list(out.values())

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
                    with torch.no_grad() if bank.role == "critic" else contextlib.nullcontext():
                        stacks[bank.name] = bank.from_modules() if from_modules else bank.stacks
                values.append(stacks[bank.name][what[2]])
            else:
                values.append(data[what[1]][what[2]])
        return values

    def _reals(self, data: dict) -> list[torch.Tensor]:
        return [data[c.ob][0] for c in self.plan.critics]

    def _alphas(self, data: dict) -> list[torch.Tensor]:
        """The interpolation weights of the regularisers' interpolates
        (``plan.interpolated``), one per sample each: this rank's slice of the global
        batch's (:attr:`draw_shard`)."""
        rank, world = self.draw_shard
        out = []
        for ob in self._interpolated:
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
