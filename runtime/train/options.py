"""What a :class:`~runtime.train.Trainer` is told: its settings and its hooks, each a frozen
dataclass checked on construction.

:class:`TrainOptions` holds the settings — plain values, JSON-safe, recorded in
``run.json`` and restored by a resume. :class:`Hooks` holds what is code, not settings (the
evaluation, fixed sample inputs, augmentation, callbacks, the data-parallel group), so it
is never recorded. Every wrong setting is reported at once, each naming the setting, what
it takes and what came:

>>> TrainOptions(steps=0, seed="abc")
Traceback (most recent call last):
...
runtime.errors.RunError: 2 training settings are wrong:
  steps must be a positive whole number, got 0 (int)
  seed must be a whole number, got 'abc' (str)
>>> TrainOptions(steps=40).sample_every, TrainOptions(steps=40, sample_every=0).sample_every
(4, 0)
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields

from ..errors import RunError
from ..sources.args import got

__all__ = ["Hooks", "TrainOptions", "split_settings"]

PRECISIONS = ("fp32", "bf16")


@dataclass(frozen=True)
class TrainOptions:
    """The trainer's settings.

    ``steps`` is the run's total (a resumed run continues up to it); ``batch_size`` the
    global batch. Per step the critics get ``n_critic - 1`` critic-only updates, then one
    joint step. The learning rate is constant until ``decay_from·steps``, then falls
    linearly to 0 (``decay_from=1.0``: constant). ``max_grad_norm`` clips the arrows' and
    critics' gradients separately. Every ``log_every`` steps the window's mean losses are
    logged; every ``sample_every`` a grid per source object (``samples`` columns); every
    ``checkpoint_every`` a checkpoint, the newest ``keep_last`` kept. Left ``None``, the
    two periods are a tenth and a quarter of the run; ``0`` means never — no grids (the
    evaluation still runs at the last step), no periodic checkpoints (the final one, and
    one on SIGINT/SIGTERM, are still written: a run always ends resumable).
    ``ema`` = β > 0 keeps a moving average of the arrows' weights, ``β·average + (1 −
    β)·live`` after each step (StyleGAN's ``G_ema``, :mod:`.average`): the evaluation,
    the grids and the trained functor a checkpoint yields are then the average's (0: none).
    ``precision="bf16"`` autocasts the step on CUDA. ``resume`` continues the run folder
    from its latest checkpoint, or from ``checkpoint`` (a name such as ``step-00000500``).
    """

    steps: int
    batch_size: int = 16
    seed: int = 0
    n_critic: int = 1
    decay_from: float = 0.5
    max_grad_norm: float | None = None
    ema: float = 0.0
    log_every: int = 10
    sample_every: int | None = None
    checkpoint_every: int | None = None
    keep_last: int = 3
    samples: int = 8
    precision: str = "fp32"
    progress: bool = True
    tensorboard: bool = True
    resume: bool = False
    checkpoint: str | None = None

    def __post_init__(self) -> None:
        problems = [p for p in (_check(f.name, getattr(self, f.name)) for f in fields(self))
                    if p]
        if problems:
            head = ("1 training setting is wrong" if len(problems) == 1 else
                    f"{len(problems)} training settings are wrong")
            raise RunError(problems[0] if len(problems) == 1 else
                           head + ":\n  " + "\n  ".join(problems))
        # the defaults that depend on the run's length, resolved once
        if self.sample_every is None:
            object.__setattr__(self, "sample_every", max(1, self.steps // 10))
        if self.checkpoint_every is None:
            object.__setattr__(self, "checkpoint_every", max(1, self.steps // 4))
        object.__setattr__(self, "decay_from", float(self.decay_from))
        object.__setattr__(self, "ema", float(self.ema))

    def recorded(self) -> dict:
        """The settings ``run.json`` records, for a resume to restore (not ``resume`` and
        ``checkpoint``: they say how this process started, not what the run is)."""
        return {f.name: getattr(self, f.name) for f in fields(self)
                if f.name not in ("resume", "checkpoint", "progress", "tensorboard")}

    def replace(self, **changes) -> TrainOptions:
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class Hooks:
    """What the trainer runs besides the program: code, never recorded in ``run.json``.

    ``evaluate(program) -> {row: {column: value}}`` is logged with each grid and returned
    by ``fit``; ``sample_inputs`` (object → a fixed batch) feed the grids, by default the
    first samples of each source; ``sample_references`` (object → ``[(label, tensor)]``)
    add rows under them (e.g. the ground truth); ``augment`` (one, or per object) applies
    to training batches; ``callbacks(trainer, step, losses)`` run after every step;
    ``run_info`` goes into ``run.json``; ``parallel`` (a
    :class:`~runtime.train.distributed.DataParallel`) trains data-parallel.
    """

    evaluate: Callable | None = None
    sample_inputs: Mapping[object, object] | None = None
    sample_references: Mapping[object, Sequence] | None = None
    augment: object = None
    callbacks: Sequence[Callable] = field(default_factory=tuple)
    run_info: Mapping | None = None
    parallel: object = None

    def __post_init__(self) -> None:
        if self.evaluate is not None and not callable(self.evaluate):
            raise RunError(f"evaluate must be a function program -> {{row: {{column: value}}}},"
                           f" got {self.evaluate!r}")
        callbacks = tuple(self.callbacks)
        bad = [c for c in callbacks if not callable(c)]
        if bad:
            raise RunError(f"callbacks must be functions (trainer, step, losses) -> None, "
                           f"got {bad[0]!r}")
        object.__setattr__(self, "callbacks", callbacks)


def split_settings(settings: Mapping[str, object]) -> tuple[dict, dict]:
    """Keyword arguments (``Trainer(..., steps=…, evaluate=…)``) split into the settings
    and the hooks; a name that is neither is refused with the names there are."""
    names = {f.name for f in fields(TrainOptions)}
    hooks = {f.name for f in fields(Hooks)}
    unknown = sorted(set(settings) - names - hooks)
    if unknown:
        raise RunError(f"Trainer got unknown setting(s) {', '.join(map(repr, unknown))}; the "
                       f"settings are {', '.join(f.name for f in fields(TrainOptions))} and "
                       f"the hooks {', '.join(f.name for f in fields(Hooks))}")
    return ({k: v for k, v in settings.items() if k in names},
            {k: v for k, v in settings.items() if k in hooks})


# ---------------------------------------------------------------------- the checks
def _int(v: object) -> bool:
    # a plain int only (not numpy's, unlike sources.args.is_whole): settings go to run.json
    return isinstance(v, int) and not isinstance(v, bool)


def _positive(name: str, v: object) -> str | None:
    if not _int(v) or v < 1:
        return f"{name} must be a positive whole number, got {got(v)}"
    return None


def _period(name: str, v: object) -> str | None:
    if v is not None and (not _int(v) or v < 0):
        return (f"{name} must be a whole number of steps ≥ 0 (0: never; None: the default),"
                f" got {got(v)}")
    return None


def _seed(name: str, v: object) -> str | None:
    return None if _int(v) else f"{name} must be a whole number, got {got(v)}"


def _fraction(name: str, v: object) -> str | None:
    ok = isinstance(v, (int, float)) and not isinstance(v, bool) and 0 <= v <= 1
    return None if ok else f"{name} must be a fraction of the steps in [0, 1], got {got(v)}"


def _norm(name: str, v: object) -> str | None:
    ok = v is None or (isinstance(v, (int, float)) and not isinstance(v, bool)
                       and 0 < v < math.inf)
    return None if ok else f"{name} must be a positive number or None, got {got(v)}"


def _decay(name: str, v: object) -> str | None:
    ok = isinstance(v, (int, float)) and not isinstance(v, bool) and 0 <= v < 1
    return None if ok else (f"{name} must be a decay per step in [0, 1) (e.g. 0.99; 0: no "
                            f"average), got {got(v)}")


def _precision(name: str, v: object) -> str | None:
    return None if v in PRECISIONS else f"{name} must be 'fp32' or 'bf16', got {got(v)}"


def _flag(name: str, v: object) -> str | None:
    return None if isinstance(v, bool) else f"{name} must be True or False, got {got(v)}"


def _name(name: str, v: object) -> str | None:
    ok = v is None or isinstance(v, str)
    return None if ok else f"{name} must be a checkpoint's name or None, got {got(v)}"


CHECKS: dict[str, Callable[[str, object], str | None]] = {
    "steps": _positive, "batch_size": _positive, "seed": _seed, "n_critic": _positive,
    "decay_from": _fraction, "max_grad_norm": _norm, "ema": _decay, "log_every": _positive,
    "sample_every": _period, "checkpoint_every": _period, "keep_last": _positive,
    "samples": _positive, "precision": _precision, "progress": _flag, "tensorboard": _flag,
    "resume": _flag, "checkpoint": _name,
}


def _check(name: str, v: object) -> str | None:
    return CHECKS[name](name, v)
