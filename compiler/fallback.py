"""Regional compilation that fails falls back to inlined graphs, once, on the first call.

Compile regions (``lowering.network_region``) are young in torch: on torch 2.13's CPU
Inductor, a region whose backward receives gradients in a layout it was not traced for
(channels-last, from an inlined convolution's backward) fails to compile — CycleGAN with
only its generators as regions does. A program with regions therefore keeps the means
to lower its graphs again without them, and each entry point, until it has once run
compiled, catches a compile failure, puts the state the failed call touched back (torch's
random numbers, the networks' buffers: a failure in the backward comes after the forward
ran), says so once, and runs again inlined. A failure of any other kind is the user's
and is raised as it came.

The backward of :meth:`Program.generator_losses` / ``critic_losses`` runs in the caller's
code, after the entry point returned: a failure there is not caught (``step`` and
``critic_step``, which the trainer runs, do their backward inside).
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable, Iterable

import torch
from torch import nn

__all__ = ["RegionsFailed", "falls_back", "is_compile_failure", "Snapshot"]


class RegionsFailed(UserWarning):
    """Regional compilation failed for a program, which now compiles inlined."""


def is_compile_failure(e: BaseException) -> bool:
    """Whether ``e`` is torch.compile's (Dynamo's or Inductor's), not the user's code's.
    Dynamo's errors are imported here, on a failure only: importing them costs a second."""
    from torch._dynamo.exc import TorchDynamoException  # noqa: PLC0415 - see above
    from torch._inductor.exc import InductorError  # noqa: PLC0415 - see above

    return isinstance(e, (TorchDynamoException, InductorError))


class Snapshot:
    """Torch's random number state and the buffers of ``modules``, to put back."""

    def __init__(self, modules: Iterable[nn.Module], device: torch.device):
        self.cpu = torch.get_rng_state()
        self.cuda = (torch.cuda.get_rng_state_all()
                     if device.type == "cuda" and torch.cuda.is_available() else None)
        self.buffers = [(b, b.detach().clone()) for m in modules for b in m.buffers()]

    def restore(self) -> None:
        torch.set_rng_state(self.cpu)
        if self.cuda is not None:
            torch.cuda.set_rng_state_all(self.cuda)
        with torch.no_grad():
            for b, saved in self.buffers:
                b.copy_(saved)


def falls_back(method: Callable) -> Callable:
    """An entry point of :class:`~compiler.Program` that, while its name is in the
    program's ``_unproven`` set, runs under a :class:`Snapshot` and on a compile failure
    calls ``program._fall_back(error)`` and runs again (see the module's docstring)."""

    @functools.wraps(method)
    def run(self, *args, **kwargs):
        name = method.__name__
        if name not in self._unproven:
            return method(self, *args, **kwargs)
        saved = Snapshot(self._all_modules(), self.device)
        try:
            out = method(self, *args, **kwargs)
        except Exception as e:
            if not is_compile_failure(e):
                raise
            saved.restore()
            self._fall_back(e)
            return method(self, *args, **kwargs)
        self._unproven.discard(name)
        return out

    return run


def say_fallen_back(error: BaseException) -> None:
    first = (str(error).strip().splitlines() or [type(error).__name__])[0][:300]
    warnings.warn(f"regional compilation failed for this program ({type(error).__name__}: "
                  f"{first}); it compiles with every network call inlined instead "
                  f"(compile_functor(..., regional=False) skips the attempt)", RegionsFailed,
                  stacklevel=4)
