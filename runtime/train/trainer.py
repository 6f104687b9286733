"""``Trainer``: runs a compiled :class:`~compiler.Program` on data — the loop, nothing else.

The trainer builds nothing itself: it takes a compiled program, one data source per object
and its options, and owns only the loop — the data stream, the learning-rate schedule,
logging, sample grids, checkpoints, signals and the report. The program does every update
(``prog.step``, ``prog.critic_step``) and validates its own batches; the trainer follows
the program's device and never moves a module. What the loop stands on lives beside it:
the options (:mod:`.options`), the networks' weights (:mod:`.networks`) and their moving
average (:mod:`.average`), the state of an exact resume (:mod:`.state`), the run folder
(:mod:`.run_folder`), the sample rows (:mod:`.samples`), the bar and the log
(:mod:`.progress`), signals (:mod:`.signals`).

Run folder (see ``runtime/report`` for the page)::

    RUN/run.json          what was run: experiment, options, trainer settings
    RUN/metrics.jsonl     a line per logged window: losses, lr, step time; eval lines
    RUN/samples/step-…/   a grid per source object: x and every path the plan evaluates
    RUN/checkpoints/      atomic checkpoints and the ``latest`` pointer
    RUN/curves.png, RUN/index.html
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import json
import signal
import time
from collections.abc import Mapping
from pathlib import Path

import torch

from category.drawing import draw
from category.files import write_atomic
from compiler import NonFiniteLossError, Program

from ..errors import Interrupted, RunError, RunFolderError, TrainingDiverged
from ..report import plot_curves, write_index
from ..report.grid import save_grids
from ..sources import check_data
from .average import WeightAverage
from .checkpoint import latest, load_checkpoint, save_checkpoint
from .compiled import RunCompile
from .loader import Batches
from .networks import arrow_modules, eval_mode, fingerprint, restore_weights, weights
from .options import Hooks, TrainOptions, split_settings
from .progress import MetricsLog, Progress
from .run_folder import claim, read_run_info, rebuild
from .samples import sample_inputs_for, sample_rows
from .signals import SignalGuard
from .state import capture, linear_decay, restore

__all__ = ["Trainer"]

CURVES_EVERY_S = 60.0


class Trainer:
    """Train ``program`` on ``data`` (object or its name → dataset) into run folder ``out``.

    ``options`` (a :class:`TrainOptions`) are the settings — ``steps``, ``batch_size``,
    ``n_critic``, the schedule, the periods of logs, grids and checkpoints…; ``hooks``
    (:class:`Hooks`) what is code — the evaluation, fixed sample inputs, augmentation,
    callbacks, a data-parallel group. Either may be given as keywords instead
    (``Trainer(prog, data, "runs/x", steps=1000, evaluate=fn)``); every setting is read
    as an attribute (``trainer.steps``). :meth:`fit` trains and returns the evaluation.

    An existing non-empty ``out`` is refused unless ``resume=True``, which continues
    from its latest checkpoint (or ``checkpoint``) exactly: same parameters as an
    uninterrupted run, and the same logged steps (what was logged after the checkpoint
    is taken back from ``metrics.jsonl`` and TensorBoard, then logged again). One
    process writes a run folder at a time (:mod:`runtime.train.run_folder`).

    Data-parallel (``parallel``): ``batch_size`` is the global batch (each rank gets
    ``batch_size / world`` of it), gradients are averaged across ranks in each step,
    logged metrics are averaged, and only the writer (rank 0) writes the run folder.
    """

    def __init__(self, program: Program, data: Mapping[object, object], out: str | Path,
                 options: TrainOptions | None = None, hooks: Hooks | None = None,
                 **settings):
        if not isinstance(program, Program):
            raise RunError(f"Trainer takes a compiled program (compiler.compile_functor), "
                           f"got {type(program).__name__}")
        given, hooked = split_settings(settings)
        self.options = (options.replace(**given) if options is not None
                        else TrainOptions(**given))
        self.hooks = dataclasses.replace(hooks or Hooks(), **hooked)
        if self.options.precision == "bf16" and program.device.type != "cuda":
            raise RunError(f"precision='bf16' autocasts on CUDA; this program's networks are "
                           f"on {program.device} (build them on a CUDA device, or use fp32)")
        self.program, self.out = program, Path(out)
        self.run_info = dict(self.hooks.run_info or {})
        self.parallel = self.hooks.parallel
        self.is_writer = self.parallel is None or self.parallel.is_writer
        self.data = check_data(program, data)
        S, augment = program.functor.schema, self.hooks.augment
        if isinstance(augment, Mapping):  # per object (or its name)
            augment = {S.ob(k).name: a for k, a in augment.items()}
        self.batches = Batches(self.data, self.batch_size, seed=self.seed,
                               device=program.device, augment=augment,
                               shard=None if self.parallel is None else self.parallel.shard)
        self.sample_inputs = sample_inputs_for(program, self.data, self.hooks.sample_inputs,
                                               self.samples)
        self.sample_references = {S.ob(k).name: list(v) for k, v in
                                  (self.hooks.sample_references or {}).items()}
        self.schedulers = [torch.optim.lr_scheduler.LambdaLR(
            opt, linear_decay(self.steps, self.decay_from)) for opt in program.optimizers]
        self.step = 0
        self.opened = False  # the run folder is made or restored (a later fit continues)
        self.evaluation: dict[str, dict[str, float]] | None = None
        # how this process's compile went: what was expected, and the differences of
        # compiler.cache.compile_counts (None: nothing compiled by this trainer)
        self.compiled: dict[str, object] | None = None
        self._signal: int | None = None
        self._plotted = time.monotonic()
        if self.parallel is not None:
            self.parallel.attach(program)  # rank 0's weights everywhere; gradients averaged
        # the arrows' moving average (options.ema > 0): what the run yields; the writer's
        # alone, the one process that evaluates and saves
        self.average = (WeightAverage(arrow_modules(program), self.ema)
                        if self.ema > 0 and self.is_writer else None)

    def __getattr__(self, name: str):
        # the settings read as attributes (trainer.steps), from the one frozen record
        options = self.__dict__.get("options")
        if options is not None and name in TrainOptions.__dataclass_fields__:
            return getattr(options, name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    @property
    def resuming(self) -> bool:
        return self.options.resume

    @property
    def evaluate(self):
        return self.hooks.evaluate

    @property
    def lr(self) -> float:
        return float(self.program.optimizers[0].param_groups[0]["lr"])

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
        ``overrides`` replace recorded settings (e.g. ``steps=20000``) or add hooks.
        """
        info = read_run_info(run)
        if program is not None and (device is not None or backend is not None):
            raise RunError("Trainer.resume: device= and backend= apply to a run rebuilt from "
                           "its experiment; with program=..., build that program on the "
                           "device and backend you want")
        if program is None:
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
        settings = {**info["trainer"], **overrides, "resume": True, "run_info": info}
        return cls(program, data, run, **settings)

    # ------------------------------------------------------------------ training
    def fit(self, until: int | None = None) -> dict[str, dict[str, float]] | None:
        """Train up to step ``until`` (default: ``steps``); returns the evaluation.

        Stages: claim the run folder (made the first time), restore the checkpoint when
        resuming, train with signal handlers installed (grids and evaluation every
        ``sample_every`` steps and at the last step), then the final checkpoint and the
        report. Raises :class:`Interrupted` after saving on SIGINT/SIGTERM, and
        :class:`TrainingDiverged` (the last good checkpoint untouched) on NaN/inf losses.
        """
        if until is not None and (isinstance(until, bool) or not isinstance(until, int)
                                  or until < 1):
            raise RunError(f"until must be a positive whole number, got {until!r}")
        stop = self.steps if until is None else min(until, self.steps)
        with self._claim():
            if self.resuming and not self.opened:
                ck = load_checkpoint(self.out, self.checkpoint)
                restore_weights(self.program, ck)
                if self.average is not None:
                    self.average.load(ck.weights, ck.path)
                restore(self, ck)
            self.opened = True
            with SignalGuard(self), Progress(self, stop) as bar, MetricsLog(self) as log:
                self._loop(stop, bar, log)
                self._save()
            self._report()
        return self.evaluation

    def _loop(self, stop: int, bar: Progress, log: MetricsLog) -> None:
        t0, cast = time.perf_counter(), _autocast(self.precision, self.program.device)
        compiling = (RunCompile(self.out, self.program, self.batch_size, self.is_writer)
                     if RunCompile.due(self.program) else None)
        bar.note(compiling.expect() if compiling is not None else None)
        while self.step < stop:
            if self.parallel is not None:  # every rank stops at the step one asked to
                self.parallel.stop_requested = self._signal is not None
            losses = self._step(cast)
            log.add(losses)
            for cb in self.hooks.callbacks:
                cb(self, self.step, losses)
            if self.step % self.log_every == 0 or self.step == stop:
                bar.show(log.write(self.step, time.perf_counter() - t0, self.lr))
                t0 = time.perf_counter()
            bar.update()
            if compiling is not None:  # the first update compiled the program
                self.compiled = compiling.record()
                bar.note(None)
                compiling = None
            self._after_step(log)
            if (self._signal is not None if self.parallel is None
                    else self.parallel.stop_agreed):  # all ranks stop at the same step
                raise self._interrupted()
            if self._due(self.checkpoint_every, last=False) and self.step < stop:
                self._save()
                self._report(final=False)

    def _step(self, cast) -> dict[str, torch.Tensor]:
        """``n_critic - 1`` critic updates, one joint step, the schedule's step."""
        prog, batch = self.program, next(self.batches)
        try:
            with cast:  # made once per fit: the step is the hot path
                for _ in range(self.n_critic - 1):
                    prog.critic_step(batch, max_grad_norm=self.max_grad_norm)
                    batch = next(self.batches)
                losses = prog.step(batch, max_grad_norm=self.max_grad_norm)
        except NonFiniteLossError as e:
            raise self._diverged(e) from None
        if self.average is not None:
            self.average.update()
        for s in self.schedulers:
            s.step()
        self.step += 1
        return losses

    def _after_step(self, log: MetricsLog) -> None:
        """The writer's grids and evaluation, when due."""
        if not self.is_writer:
            return
        if self._due(self.sample_every):
            self.write_samples()
        if self.evaluate is not None and (self._due(self.sample_every)
                                          or self.step == self.steps):
            with eval_mode(self.program), self.yielded():
                self.evaluation = self.evaluate(self.program)
            log.write_eval(self.step, self.evaluation)

    def yielded(self) -> contextlib.AbstractContextManager:
        """The networks hold what the run yields inside the block: the moving average of
        the arrows' weights where one is kept (``ema``), else the live weights."""
        return self.average.applied() if self.average is not None else contextlib.nullcontext()

    def _due(self, every: int, last: bool = True) -> bool:
        """Whether a thing done ``every`` steps (0: never) is due now (``last``: and at the
        run's last step)."""
        return every > 0 and (self.step % every == 0 or (last and self.step == self.steps))

    # ------------------------------------------------------------------ the run folder
    @contextlib.contextmanager
    def _claim(self):
        """The run folder claimed for this fit (the writer only; see
        :mod:`~runtime.train.run_folder`), made the first time: run.json and the schema's
        picture."""
        if not self.is_writer:
            yield
            return
        with claim(self.out, resume=self.resuming or self.opened):
            if not (self.resuming or self.opened):
                info = {**self.run_info, "schema": str(self.program.functor.schema),
                        "trainer": self.settings(),
                        "started": datetime.datetime.now().isoformat(timespec="seconds")}
                write_atomic(self.out / "run.json",
                             (json.dumps(info, indent=1, default=str) + "\n").encode())
                self.run_info = info
                draw(self.program.functor.schema, self.out / "schema.png")  # the page shows it
            yield

    def settings(self) -> dict:
        """The settings ``Trainer.resume`` restores (JSON-safe)."""
        return self.options.recorded()

    def _save(self) -> Path | None:
        if not self.is_writer:
            return None
        kept = {} if self.average is None else self.average.weights()
        return save_checkpoint(self.out, self.step, {**weights(self.program), **kept},
                               capture(self), fingerprint(self.program),
                               keep_last=self.keep_last)

    def write_samples(self) -> list[Path]:
        """A grid per source object: its fixed inputs and every path the plan evaluates
        (with the weights the run yields: :meth:`yielded`)."""
        out = []
        folder = self.out / "samples" / f"step-{self.step:08d}"
        with self.yielded():
            grids = sample_rows(self.program, self.sample_inputs, self.sample_references)
        for name, rows in grids.items():
            folder.mkdir(parents=True, exist_ok=True)
            out += save_grids(rows, folder / f"{name}.png")  # codes get a grid of their own
        return out

    def _report(self, final: bool = True) -> None:
        """The page; the curves too at the end, and mid-run at most once a minute (a plot
        costs about a second, which would be a visible share of a short run)."""
        if not self.is_writer:
            return
        now = time.monotonic()
        due = final or now - self._plotted >= CURVES_EVERY_S
        if due and (self.out / "metrics.jsonl").is_file():
            plot_curves(self.out / "metrics.jsonl", self.out / "curves.png")
            self._plotted = now
        write_index(self.out)

    # ------------------------------------------------------------------ how a run stops
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


def _autocast(precision: str, device: torch.device):
    if precision == "bf16":
        return torch.autocast(device.type, dtype=torch.bfloat16)
    return torch.autocast(device.type, enabled=False)
