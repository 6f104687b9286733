"""``Trainer``: runs a compiled :class:`~compiler.Program` on data, with everything around it.

The trainer builds nothing itself: it takes a compiled program and one data source per
object, and owns only the loop — the data stream, the learning-rate schedule, logging,
sample grids, checkpoints, signals and the report. The program does every update
(``prog.step``, ``prog.critic_step``) and validates its own batches; the trainer follows
the program's device and never moves a module.

Run folder (see ``runtime/report`` for the page)::

    RUN/run.json          what was run: experiment, options, trainer settings
    RUN/metrics.jsonl     a line per logged window: losses, lr, step time; eval lines
    RUN/samples/step-…/   a grid per source object: x and every path the plan evaluates
    RUN/checkpoints/      atomic checkpoints and the ``latest`` pointer
    RUN/curves.png, RUN/index.html
"""

from __future__ import annotations

import contextlib
import datetime
import json
import math
import random
import signal
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import torch
from torch import nn

from category.drawing import draw
from compiler import BatchError, NonFiniteLossError, Program

from .checkpoint import (
    Checkpoint,
    fingerprint_diff,
    latest,
    load_checkpoint,
    save_checkpoint,
)
from .errors import CheckpointError, Interrupted, RunError, RunFolderError, TrainingDiverged
from .evaluation import Evaluate
from .loader import Batches
from .run_folder import claim, read_run_info
from .sources import Augment, check_source
from .sources.check import as_source

Callback = Callable[["Trainer", int, dict], None]
CURVES_EVERY_S = 60.0


def linear_decay(steps: int, decay_from: float) -> Callable[[int], float]:
    """CycleGAN's schedule: the full rate until ``decay_from·steps``, then linearly to 0.

    >>> f = linear_decay(100, 0.5)
    >>> f(0), f(50), f(75), f(100)
    (1.0, 1.0, 0.5, 0.0)
    """
    start = int(round(decay_from * steps))

    def factor(step: int) -> float:
        if step < start or steps == start:
            return 1.0
        return max(0.0, (steps - step) / (steps - start))

    return factor


class Trainer:
    """Train ``program`` on ``data`` (object or its name → dataset) for ``steps`` steps.

    ``steps`` is the run's total (a resumed run continues up to it). Per step the
    critics get ``n_critic - 1`` critic-only updates, then one joint step. The
    learning rate follows :func:`linear_decay` (``decay_from=1.0``: constant);
    ``max_grad_norm`` clips the arrows' and critics' gradients separately. Every
    ``log_every`` steps the window's mean losses go to ``metrics.jsonl`` (and
    TensorBoard when installed); every ``sample_every`` a grid per source object;
    every ``checkpoint_every`` a checkpoint (the newest ``keep_last`` kept). Left
    ``None``, they default to a tenth and a quarter of the run; ``0`` means never: no grids
    (the evaluation still runs at the last step), no periodic checkpoints (the final one,
    and one on SIGINT/SIGTERM, are still written — a run always ends resumable).
    ``evaluate(program)`` returns ``{row: {column: value}}``, logged with each grid;
    :meth:`fit` returns the last one. ``sample_inputs`` (object → a fixed batch) feed
    the grids, by default the first samples of each source; ``sample_references``
    (object → ``[(label, tensor)]``) add rows such as the ground truth under them.
    ``precision="bf16"`` autocasts the step on CUDA.

    An existing non-empty ``out`` is refused unless ``resume=True``, which continues
    from its latest checkpoint (or ``checkpoint``) exactly: same parameters as an
    uninterrupted run, and the same logged steps (what was logged after the checkpoint
    is taken back from ``metrics.jsonl`` and TensorBoard, then logged again).

    ``parallel`` (a :class:`~runtime.distributed.DataParallel`): train data-parallel —
    ``batch_size`` is then the global batch (each rank gets ``batch_size / world`` of
    it, see ``Batches(shard=...)``), gradients are averaged across ranks in each step,
    logged metrics are averaged, and only the writer (rank 0) writes the run folder.
    """

    def __init__(self, program: Program, data: Mapping[object, object], out: str | Path,
                 steps: int, batch_size: int = 16, *, seed: int = 0, n_critic: int = 1,
                 decay_from: float = 0.5, max_grad_norm: float | None = None,
                 log_every: int = 10, sample_every: int | None = None,
                 checkpoint_every: int | None = None, keep_last: int = 3,
                 evaluate: Evaluate | None = None,
                 sample_inputs: Mapping[object, object] | None = None, samples: int = 8,
                 sample_references: Mapping[object, Sequence[tuple[str, torch.Tensor]]]
                 | None = None,
                 augment: Augment | Mapping[object, Augment] | None = None,
                 precision: str = "fp32", progress: bool = True, tensorboard: bool = True,
                 callbacks: Sequence[Callback] = (), resume: bool = False,
                 checkpoint: str | None = None, run_info: Mapping | None = None,
                 parallel=None):
        if not isinstance(program, Program):
            raise RunError(f"Trainer takes a compiled program (compiler.compile_functor), "
                           f"got {type(program).__name__}")
        self.program, self.out = program, Path(out)
        self.steps = _count("steps", steps)
        self.batch_size = _count("batch_size", batch_size)
        self.n_critic = _count("n_critic", n_critic)
        self.log_every = _count("log_every", log_every)
        self.sample_every = _every("sample_every", sample_every, max(1, self.steps // 10))
        self.checkpoint_every = _every("checkpoint_every", checkpoint_every,
                                       max(1, self.steps // 4))
        self.keep_last = _count("keep_last", keep_last)
        if not (isinstance(decay_from, (int, float)) and 0 <= decay_from <= 1):
            raise RunError(f"decay_from must be a fraction of the steps in [0, 1], "
                           f"got {decay_from!r}")
        if precision not in ("fp32", "bf16"):
            raise RunError(f"precision must be 'fp32' or 'bf16', got {precision!r}")
        if precision == "bf16" and program.device.type != "cuda":
            raise RunError(f"precision='bf16' autocasts on CUDA; this program's networks are "
                           f"on {program.device} (build them on a CUDA device, or use fp32)")
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise RunError(f"seed must be a whole number, got {seed!r} "
                           f"({type(seed).__name__})")
        if max_grad_norm is not None and (isinstance(max_grad_norm, bool) or not isinstance(
                max_grad_norm, (int, float)) or not 0 < max_grad_norm < math.inf):
            raise RunError(f"max_grad_norm must be a positive number or None, got "
                           f"{max_grad_norm!r}")
        self.seed, self.decay_from, self.max_grad_norm = seed, float(decay_from), \
            max_grad_norm
        self.precision, self.progress, self.tensorboard = precision, progress, tensorboard
        self.evaluate, self.samples, self.callbacks = evaluate, samples, list(callbacks)
        self.resuming, self.checkpoint = resume, checkpoint
        self.run_info = dict(run_info or {})
        # data-parallel hooks (runtime/distributed.py): the rank's shard, one writer
        self.parallel = parallel
        self.is_writer = parallel is None or parallel.is_writer
        self.data = self._check_data(data)
        self.batches = Batches(self.data, self.batch_size, seed=self.seed,
                               device=program.device, augment=augment,
                               shard=None if parallel is None else parallel.shard)
        self.sample_inputs = sample_inputs_for(program, self.data, sample_inputs, samples)
        self.sample_references = {getattr(k, "name", k): list(v)
                                  for k, v in (sample_references or {}).items()}
        self.schedulers = [torch.optim.lr_scheduler.LambdaLR(
            opt, linear_decay(self.steps, self.decay_from)) for opt in program.optimizers]
        self.step = 0
        self.opened = False  # the run folder is made or restored (a later fit continues)
        self.evaluation: dict[str, dict[str, float]] | None = None
        self._signal: int | None = None
        self._plotted = time.monotonic()
        if parallel is not None:
            parallel.attach(program)  # rank 0's weights everywhere; gradients averaged

    # ------------------------------------------------------------------ resuming
    @classmethod
    def resume(cls, run: str | Path, program: Program | None = None,
               data: Mapping[object, object] | None = None, *,
               device: str | torch.device | None = None, backend: str | None = None,
               **overrides) -> Trainer:
        """The trainer of run folder ``run``, ready to continue from its latest checkpoint.

        A run made by ``cdl train`` (an experiment) is rebuilt from its ``run.json``, on
        ``device`` and with the compile ``backend`` when given (neither changes what is
        trained); a run made in Python needs its ``program`` and ``data`` passed again.
        ``overrides`` replace recorded trainer settings (e.g. ``steps=20000``).
        """
        info = read_run_info(run)
        if program is not None and (device is not None or backend is not None):
            raise RunError("Trainer.resume: device= and backend= apply to a run rebuilt from "
                           "its experiment; with program=..., build that program on the "
                           "device and backend you want")
        if program is None:
            from .experiment import rebuild  # the experiment runner sits above the trainer

            setup, program = rebuild(info, device, backend=backend,
                                     hint=f"pass Trainer.resume({str(run)!r}, "
                                          f"program=prog, data=data)")
            data = setup.data if data is None else data
            overrides = {**setup.trainer_extras(), **overrides}
        elif data is None:
            raise RunFolderError("Trainer.resume(run, program=...) needs data= as well")
        if not isinstance(info.get("trainer"), dict) or "steps" not in info["trainer"]:
            raise RunFolderError(f"{run}/run.json records no trainer settings: it was not "
                                 f"written by cdl's Trainer")
        settings = {**info["trainer"], **overrides}
        return cls(program, data, run, resume=True, run_info=info, **settings)

    # ------------------------------------------------------------------ training
    def fit(self, until: int | None = None) -> dict[str, dict[str, float]] | None:
        """Train up to step ``until`` (default: ``steps``); returns the evaluation.

        Stages: open the run folder, restore the checkpoint when resuming, train with
        signal handlers installed (grids and evaluation every ``sample_every`` steps and
        at the last step), then the final checkpoint and the report.
        Raises :class:`Interrupted` after saving on SIGINT/SIGTERM, and
        :class:`TrainingDiverged` (the last good checkpoint untouched) on NaN/inf losses.
        """
        stop = self.steps if until is None else min(_count("until", until), self.steps)
        with self._claim():
            if self.resuming and not self.opened:
                self._restore()
            self.opened = True
            with _SignalGuard(self), _Progress(self, stop) as bar, _Logger(self) as log:
                self._loop(stop, bar, log)
                self._save()
            self._report()
        return self.evaluation

    def _loop(self, stop: int, bar, log) -> None:
        prog = self.program
        autocast = _autocast(self.precision, prog.device)
        t0 = time.perf_counter()
        bar.note("compiling" if self.step == 0 and prog.backend != "eager" else None)
        while self.step < stop:
            if self.parallel is not None:  # every rank stops at the step one asked to
                self.parallel.stop_requested = self._signal is not None
            batch = next(self.batches)
            try:
                with autocast:
                    for _ in range(self.n_critic - 1):
                        prog.critic_step(batch, max_grad_norm=self.max_grad_norm)
                        batch = next(self.batches)
                    losses = prog.step(batch, max_grad_norm=self.max_grad_norm)
            except NonFiniteLossError as e:
                raise self._diverged(e) from None
            for s in self.schedulers:
                s.step()
            self.step += 1
            log.add(losses)
            for cb in self.callbacks:
                cb(self, self.step, losses)
            if self.step % self.log_every == 0 or self.step == stop:
                elapsed = time.perf_counter() - t0
                bar.show(log.write(self.step, elapsed, self.lr))
                t0 = time.perf_counter()
            bar.update()
            if self.step == 1:
                bar.note(None)
            if self.is_writer and self._due(self.sample_every):
                self.write_samples()
            if self.is_writer and self.evaluate is not None and (
                    self._due(self.sample_every) or self.step == self.steps):
                self.evaluation = self._evaluate(log)
            if (self._signal is not None if self.parallel is None
                    else self.parallel.stop_agreed):  # all ranks stop at the same step
                raise self._interrupted()
            if self._due(self.checkpoint_every, last=False) and self.step < stop:
                self._save()
                self._report(final=False)

    def _due(self, every: int, last: bool = True) -> bool:
        """Whether a thing done ``every`` steps (0: never) is due now (``last``: and at the
        run's last step)."""
        return every > 0 and (self.step % every == 0 or (last and self.step == self.steps))

    @property
    def lr(self) -> float:
        return float(self.program.optimizers[0].param_groups[0]["lr"])

    # ------------------------------------------------------------------ stages
    def _check_data(self, data: Mapping[object, object]) -> dict[str, object]:
        """Every source fits its object's space; every object the program reads is fed."""
        if not isinstance(data, Mapping):
            raise RunError(f"data must be a dict object (or its name) -> dataset, "
                           f"got {type(data).__name__}")
        F = self.program.functor
        S = F.schema
        out: dict[str, object] = {}
        for key, src in data.items():
            name = getattr(key, "name", key)
            if not isinstance(name, str) or name not in S or not hasattr(S[name], "factors"):
                raise RunError(f"data: {key!r} is not an object of schema {S.name} "
                               f"(objects: {', '.join(map(str, S.objects()))})")
            src = as_source(src, name)  # a tensor becomes a TensorSource
            check_source(name, F.spaces[S[name]], src)
            out[name] = src
        if not out:
            raise RunError("data is empty: give a dataset for each object with data")
        probe = {k: first_samples(v, 2) for k, v in out.items()}
        try:
            self.program.resolve({k: to_device(v, self.program.device) for k, v in probe.items()})
        except BatchError as e:
            raise RunError(f"the data does not feed the program: {e}\n(give "
                           f"Trainer(data={{object: dataset}}) for every object listed)"
                           ) from None
        return out

    @contextlib.contextmanager
    def _claim(self):
        """The run folder claimed for this fit (the writer only; see
        :mod:`runtime.run_folder`), made the first time: run.json and the schema's picture."""
        if not self.is_writer:
            yield
            return
        with claim(self.out, resume=self.resuming or self.opened):
            if not (self.resuming or self.opened):
                info = {**self.run_info, "schema": str(self.program.functor.schema),
                        "trainer": self.settings(),
                        "started": datetime.datetime.now().isoformat(timespec="seconds")}
                _write_json(self.out / "run.json", info)
                self.run_info = info
                draw(self.program.functor.schema, self.out / "schema.png")  # the page shows it
            yield

    def settings(self) -> dict:
        """The trainer options that ``Trainer.resume`` restores (JSON-safe)."""
        return {"steps": self.steps, "batch_size": self.batch_size, "seed": self.seed,
                "n_critic": self.n_critic, "decay_from": self.decay_from,
                "max_grad_norm": self.max_grad_norm, "log_every": self.log_every,
                "sample_every": self.sample_every, "checkpoint_every": self.checkpoint_every,
                "keep_last": self.keep_last, "samples": self.samples,
                "precision": self.precision}

    def _restore(self) -> None:
        ck = load_checkpoint(self.out, self.checkpoint)
        restore_weights(self.program, ck)
        st = ck.state
        if len(st["optimizers"]) != len(self.program.optimizers):
            raise CheckpointError(f"checkpoint {ck.path} has {len(st['optimizers'])} "
                                  f"optimizer(s), this program {len(self.program.optimizers)}")
        for opt, sd in zip(self.program.optimizers, st["optimizers"], strict=True):
            opt.load_state_dict(sd)
        for sched, sd in zip(self.schedulers, st["schedulers"], strict=True):
            sched.load_state_dict(sd)
            # the schedule follows this run's total steps (a resume may extend the run)
            factor = linear_decay(self.steps, self.decay_from)
            sched.lr_lambdas = [factor] * len(sched.optimizer.param_groups)
            for group, base in zip(sched.optimizer.param_groups, sched.base_lrs, strict=True):
                group["lr"] = base * factor(ck.step)
        self.program.load_state_dict(st["program"])
        self.batches.load_state_dict(st["data"])
        _set_rng(st["rng"])
        self.step = ck.step
        if self.step >= self.steps:
            raise RunError(f"{self.out} is already at step {self.step} of {self.steps}: pass "
                           f"a larger total --steps to train further")

    def _state(self) -> dict:
        return {"step": self.step,
                "optimizers": [opt.state_dict() for opt in self.program.optimizers],
                "schedulers": [s.state_dict() for s in self.schedulers],
                "program": self.program.state_dict(), "data": self.batches.state_dict(),
                "rng": _get_rng()}

    def _save(self) -> Path | None:
        if not self.is_writer:
            return None
        return save_checkpoint(self.out, self.step, weights(self.program), self._state(),
                               fingerprint(self.program), keep_last=self.keep_last)

    def write_samples(self) -> list[Path]:
        """A grid per source object: its fixed inputs and every path the plan evaluates."""
        from .report.grid import save_grids

        out = []
        folder = self.out / "samples" / f"step-{self.step:08d}"
        for name, rows in sample_rows(self.program, self.sample_inputs,
                                      self.sample_references).items():
            folder.mkdir(parents=True, exist_ok=True)
            out += save_grids(rows, folder / f"{name}.png")  # codes get a grid of their own
        return out

    def _evaluate(self, log) -> dict[str, dict[str, float]]:
        with eval_mode(self.program):
            table = self.evaluate(self.program)
        log.write_eval(self.step, table)
        return table

    def _report(self, final: bool = True) -> None:
        """The page; the curves too at the end, and mid-run at most once a minute (a plot
        costs about a second, which would be a visible share of a short run)."""
        from .report import plot_curves, write_index

        if not self.is_writer:
            return
        now = time.monotonic()
        due = final or now - self._plotted >= CURVES_EVERY_S
        if due and (self.out / "metrics.jsonl").is_file():
            plot_curves(self.out / "metrics.jsonl", self.out / "curves.png")
            self._plotted = now
        write_index(self.out)

    def _diverged(self, e: NonFiniteLossError) -> TrainingDiverged:
        good = latest(self.out)
        kept = (f"the last good checkpoint {good} is intact; resume from it with "
                f"--resume (perhaps with a lower learning rate)" if good else
                "no checkpoint was written before it")
        return TrainingDiverged(f"training stopped at step {self.step + 1}: {e}\n{kept}")

    def _interrupted(self) -> Interrupted:
        path = self._save()
        sig = self._signal or signal.SIGTERM  # another rank was signalled
        name = signal.Signals(sig).name
        saved = f"checkpoint {path} saved" if path else "rank 0 saved a checkpoint"
        return Interrupted(f"{name}: stopped at step {self.step} of {self.steps}; {saved}. "
                           f"Resume with: cdl train --resume --out {self.out} "
                           f"(or Trainer.resume({str(self.out)!r}).fit())",
                           sig, self.step, str(self.out))


# ---------------------------------------------------------------------- the program's networks
def named_modules(program: Program) -> dict[str, nn.Module]:
    """Every network of the program by its checkpoint prefix: ``arrow/f``, ``critic/Horse``."""
    out = {f"arrow/{a.name}": m for a, m in program.functor.modules.items()}
    out.update({f"critic/{name}": m for name, m in program.critics.items()})
    return out


def weights(program: Program) -> dict[str, torch.Tensor]:
    """Every network's ``state_dict`` entries, keyed ``<prefix>/<entry>``; copies, since a
    stacked module's entries are views into one shared stack (safetensors refuses those)."""
    out: dict[str, torch.Tensor] = {}
    for prefix, m in named_modules(program).items():
        for k, v in m.state_dict().items():
            out[f"{prefix}/{k}"] = v.detach().clone()
    return out


def restore_weights(program: Program, ck: Checkpoint) -> None:
    """The checkpoint's weights in the program's modules, once its fingerprint matches."""
    diff = fingerprint_diff(ck.fingerprint, fingerprint(program))
    if diff:
        raise CheckpointError(f"checkpoint {ck.path} is of another schema, functor or network "
                              f"shape than this program:\n  " + "\n  ".join(diff))
    load_weights(program, ck.weights, ck.path)


def load_weights(program: Program, saved: Mapping[str, torch.Tensor], where: object) -> None:
    """Copy saved weights into the program's modules (in place: stacked views stay views)."""
    for prefix, m in named_modules(program).items():
        sd = {k[len(prefix) + 1:]: v for k, v in saved.items() if k.startswith(prefix + "/")}
        try:
            m.load_state_dict(sd)
        except RuntimeError as e:
            raise CheckpointError(f"checkpoint {where}: the weights of {prefix} do not fit: "
                                  f"{str(e).splitlines()[0]}") from None


def fingerprint(program: Program) -> dict:
    """What a checkpoint must agree on to be loaded: schema, spaces, network shapes."""
    F = program.functor
    return {"schema": str(F.schema),
            "spaces": {str(ob): str(sp) for ob, sp in F.spaces.items()},
            "networks": {prefix: {"class": type(m).__name__,
                                  "shapes": {k: list(v.shape)
                                             for k, v in m.state_dict().items()}}
                         for prefix, m in named_modules(program).items()},
            "fake_pool": program.fake_pool}


def sample_rows(program: Program, inputs: Mapping[str, object],
                references: Mapping[str, list] | None = None
                ) -> dict[str, list[tuple[str, torch.Tensor]]]:
    """Per source object, the labelled rows of a sample grid: ``x``, ``f(x)``, ``g(f(x))``…
    then the object's ``references`` rows (e.g. the ground truth). Rows may mix images and
    vectors (a GAN's latent ``x``, a product's code): the writers split them by kind."""
    F, plan = program.functor, program.plan
    out: dict[str, list[tuple[str, torch.Tensor]]] = {}
    with eval_mode(program), torch.no_grad():
        for ob, root in plan.roots.items():
            if ob.name not in inputs:
                continue
            values = {root: inputs[ob.name]}
            rows: list[tuple[str, torch.Tensor]] = []
            for node in plan.nodes:
                if node.source != ob:
                    continue
                if node.parent is not None:
                    arrow = node.arrow
                    values[node.id] = F(arrow)(values[node.parent])
                rows += _rows(application_label(node.path), values[node.id])
            for label, t in (references or {}).get(ob.name, []):
                rows += _rows(label, t)
            out[ob.name] = rows
    return out


def sample_inputs_for(program: Program, data: Mapping[object, object],
                      given: Mapping[object, object] | None, n: int) -> dict[str, object]:
    """The grids' inputs on the program's device: ``given``, or else the first ``n``
    samples of each source the plan starts from."""
    if given is None:
        roots = {ob.name for ob in program.plan.roots}
        given = {k: first_samples(src, n) for k, src in data.items()
                 if getattr(k, "name", k) in roots}
    return {getattr(k, "name", k): to_device(v, program.device) for k, v in given.items()}


def application_label(path) -> str:
    """``f.g`` applied to x, in the notation ML users read: ``g(f(x))``."""
    label = "x"
    for a in path.arrows:
        label = f"{a.name}({label})"
    return label


def _rows(label: str, value) -> list[tuple[str, torch.Tensor]]:
    if isinstance(value, (tuple, list)):
        return [(f"{label}[{k}]", v.float().cpu()) for k, v in enumerate(value)]
    return [(label, value.float().cpu())]


class eval_mode:
    """Networks in eval mode (BatchNorm, Dropout) for sampling and evaluation."""

    def __init__(self, program: Program):
        self.modules = list(named_modules(program).values())

    def __enter__(self):
        self.modes = [m.training for m in self.modules]
        for m in self.modules:
            m.eval()

    def __exit__(self, *exc):
        for m, mode in zip(self.modules, self.modes, strict=True):
            m.train(mode)
        return False


# ---------------------------------------------------------------------- helpers
def _count(what: str, v: object) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or v < 1:
        raise RunError(f"{what} must be a positive whole number, got {v!r}")
    return v


def _every(what: str, v: object, default: int) -> int:
    """A period in steps: ``None`` the default, ``0`` never, else a positive whole number."""
    if v is None:
        return default
    if isinstance(v, bool) or not isinstance(v, int) or v < 0:
        raise RunError(f"{what} must be a whole number of steps ≥ 0 (0: never; None: the "
                       f"default, {default}), got {v!r}")
    return v


def first_samples(src, n: int):
    """The first ``n`` samples of a source, stacked (a tuple for a product)."""
    n = min(n, len(src))
    items = [src[i] for i in range(n)]
    if isinstance(items[0], tuple):
        return tuple(torch.stack(parts) for parts in zip(*items, strict=True))
    return torch.stack(items)


def to_device(x, device: torch.device):
    if isinstance(x, (tuple, list)):
        return tuple(t.to(device) for t in x)
    return x.to(device)


def _write_json(path: Path, obj: object) -> None:
    from .report.atomic import write_atomic

    write_atomic(path, (json.dumps(obj, indent=1, default=str) + "\n").encode())


def _get_rng() -> dict:
    state = {"torch": torch.get_rng_state(), "python": list(_py_state())}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _py_state() -> tuple:
    version, internal, gauss = random.getstate()
    return version, list(internal), gauss


def _set_rng(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def _autocast(precision: str, device: torch.device):
    if precision == "bf16":
        return torch.autocast(device.type, dtype=torch.bfloat16)
    return torch.autocast(device.type, enabled=False)


class _SignalGuard:
    """SIGINT/SIGTERM set a flag; the loop saves a checkpoint and stops after the step."""

    def __init__(self, trainer: Trainer):
        self.trainer, self.old = trainer, {}

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self.old[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum, frame):
        self.trainer._signal = signum

    def __exit__(self, *exc):
        for sig, handler in self.old.items():
            signal.signal(sig, handler)
        return False


class _Progress:
    """A tqdm bar (step, steps/s, main losses, ETA), or nothing when ``progress=False``."""

    def __init__(self, trainer: Trainer, stop: int):
        self.trainer, self.stop, self.bar = trainer, stop, None

    def __enter__(self):
        if self.trainer.progress and self.trainer.is_writer:
            from tqdm import tqdm

            self.bar = tqdm(total=self.stop, initial=self.trainer.step, unit="step",
                            dynamic_ncols=True, desc=self.trainer.out.name)
        return self

    def update(self) -> None:
        if self.bar is not None:
            self.bar.update()

    def note(self, text: str | None) -> None:
        """A word after the run's name (``compiling`` while the first step compiles)."""
        if self.bar is not None:
            name = self.trainer.out.name
            self.bar.set_description_str(f"{name} ({text})" if text else name)

    def show(self, means: dict[str, float]) -> None:
        if self.bar is not None:
            keys = [k for k in means if k in ("total", "critic_total") or k.startswith("eq:")]
            self.bar.set_postfix({_short(k): f"{means[k]:.3g}" for k in keys}, refresh=False)

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.close()
        return False


def _short(name: str) -> str:
    return name.split(" = ")[0] if name.startswith("eq:") else name


class _Logger:
    """Window means of the losses to ``metrics.jsonl`` (and TensorBoard when installed).

    Both logs are appended to. A resumed run (its step restored from a checkpoint at
    ``S``) first takes back what the dead run logged after ``S``, since it logs those
    steps again: ``metrics.jsonl`` is cut back to step ``S`` (rewritten atomically; a
    torn last line dropped), and the new TensorBoard event file starts with
    ``purge_step=S + 1``, so TensorBoard discards the old files' events from there on.
    """

    def __init__(self, trainer: Trainer):
        self.trainer, self.sums, self.n, self.tb = trainer, {}, 0, None

    def __enter__(self):
        self.t_start, self.fh = time.time(), None
        t = self.trainer
        if not t.is_writer:
            return self
        resumed_at = t.step if t.resuming else None
        if resumed_at is not None:
            from .report.metrics import trim_metrics

            trim_metrics(t.out / "metrics.jsonl", resumed_at)
        self.fh = open(t.out / "metrics.jsonl", "a")  # noqa: SIM115
        if t.tensorboard:
            try:
                from torch.utils.tensorboard import SummaryWriter
            except ImportError:  # tensorboard is optional
                pass
            else:
                self.tb = SummaryWriter(str(t.out / "tensorboard"), purge_step=None
                                        if resumed_at is None else resumed_at + 1)
        return self

    def add(self, losses: dict[str, torch.Tensor]) -> None:
        # summed on the device: no host synchronisation until the window is written
        for k, v in losses.items():
            self.sums[k] = v if k not in self.sums else self.sums[k] + v
        self.n += 1

    def write(self, step: int, elapsed: float, lr: float) -> dict[str, float]:
        if not self.n:
            return {}
        names = list(self.sums)
        values = torch.stack([self.sums[k] for k in names]).float() / self.n
        if self.trainer.parallel is not None:  # the mean over the ranks
            values = self.trainer.parallel.average(values)
        values = values.cpu()
        means = dict(zip(names, values.tolist(), strict=True))
        line = {"step": step, "time": round(time.time() - self.t_start, 3), "lr": lr,
                "step_time": elapsed / self.n, "steps_per_s": self.n / max(elapsed, 1e-9)}
        line.update({f"loss/{k}": _json_float(v) for k, v in means.items()})
        self._emit(line)
        self.sums, self.n = {}, 0
        return means

    def write_eval(self, step: int, table: dict[str, dict[str, float]]) -> None:
        line: dict[str, object] = {"step": step}
        for row, cols in table.items():
            line.update({f"eval/{row}/{c}": _json_float(v) for c, v in cols.items()})
        self._emit(line)

    def _emit(self, line: dict) -> None:
        if self.fh is None:
            return
        self.fh.write(json.dumps(line) + "\n")
        self.fh.flush()
        if self.tb is not None:
            for k, v in line.items():
                if k != "step" and isinstance(v, (int, float)):
                    self.tb.add_scalar(k, v, line["step"])

    def __exit__(self, *exc):
        if self.fh is not None:
            self.fh.close()
        if self.tb is not None:
            self.tb.close()
        return False


def _json_float(v: float) -> float | None:
    return float(v) if math.isfinite(v) else None
