"""Stopping on a signal: SIGINT/SIGTERM set a flag; the loop saves and stops after the step.

A signal never interrupts a step halfway (which would leave the optimizers and the
networks out of step): the handler only records it, and the loop looks at the record
between steps — saves a checkpoint, then raises :class:`~runtime.errors.Interrupted`.
"""

from __future__ import annotations

import signal
import threading

__all__ = ["SignalGuard"]


class SignalGuard:
    """SIGINT/SIGTERM set a flag; the loop saves a checkpoint and stops after the step."""

    def __init__(self, trainer):
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
