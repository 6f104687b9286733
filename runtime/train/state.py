"""Everything an exact resume needs besides the weights: taken from a trainer, put back.

A checkpoint's ``state.pt`` holds the step, the optimizers', the schedulers' and the
program's own state (the fake pool), the data stream's position and every random number
generator. Restored together they continue a run to the bit; the schedule alone is
re-derived, from the run's total steps, so a resume may extend the run (and never resets
the learning rate, as CycleGAN's resume does).
"""

from __future__ import annotations

import random
from collections.abc import Callable

import torch

from ..errors import CheckpointError, RunError
from .checkpoint import Checkpoint

__all__ = ["capture", "linear_decay", "restore"]


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


def capture(trainer) -> dict:
    """The trainer's state as ``state.pt`` stores it."""
    return {"step": trainer.step,
            "optimizers": [opt.state_dict() for opt in trainer.program.optimizers],
            "schedulers": [s.state_dict() for s in trainer.schedulers],
            "program": trainer.program.state_dict(), "data": trainer.batches.state_dict(),
            "rng": _get_rng()}


def restore(trainer, ck: Checkpoint) -> None:
    """Put checkpoint ``ck``'s state back into ``trainer`` (its weights are loaded already)."""
    st, program = ck.state, trainer.program
    if len(st["optimizers"]) != len(program.optimizers):
        raise CheckpointError(f"checkpoint {ck.path} has {len(st['optimizers'])} "
                              f"optimizer(s), this program {len(program.optimizers)}")
    for opt, sd in zip(program.optimizers, st["optimizers"], strict=True):
        opt.load_state_dict(sd)
    factor = linear_decay(trainer.steps, trainer.decay_from)
    for sched, sd in zip(trainer.schedulers, st["schedulers"], strict=True):
        sched.load_state_dict(sd)
        # the schedule follows this run's total steps (a resume may extend the run)
        sched.lr_lambdas = [factor] * len(sched.optimizer.param_groups)
        for group, base in zip(sched.optimizer.param_groups, sched.base_lrs, strict=True):
            group["lr"] = base * factor(ck.step)
    program.load_state_dict(st["program"])
    trainer.batches.load_state_dict(st["data"])
    _set_rng(st["rng"])
    trainer.step = ck.step
    if trainer.step >= trainer.steps:
        raise RunError(f"{trainer.out} is already at step {trainer.step} of {trainer.steps}: "
                       f"pass a larger total --steps to train further")


def _get_rng() -> dict:
    version, internal, gauss = random.getstate()
    state = {"torch": torch.get_rng_state(), "python": [version, list(internal), gauss]}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
