"""Which device a run uses: the one place a ``--device`` (or ``device=``) is checked.

``torch.device("cuda")`` is accepted on a machine without CUDA and fails later, deep in the
first tensor's allocation (an ``AssertionError``); ``torch.device("tpu")`` fails with a bare
``RuntimeError``. Checking once, where the name enters, lets the error name it and list
what this machine has.

>>> resolve_device("cpu")
device(type='cpu')
>>> resolve_device("tpu")
Traceback (most recent call last):
...
runtime.errors.RunError: device 'tpu' is not a device torch knows ...
"""

from __future__ import annotations

import torch

from .errors import RunError

__all__ = ["available_devices", "default_device", "resolve_device"]


def default_device() -> torch.device:
    """CUDA when present, else the CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def available_devices() -> list[str]:
    """The devices this machine can train on, as ``--device`` takes them."""
    out = ["cpu"] + [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        out.append("mps")
    return out


def resolve_device(spec: str | torch.device | None) -> torch.device:
    """``spec`` as a device this machine has (``None``: :func:`default_device`), or a
    :class:`RunError` naming it and the devices available."""
    if spec is None:
        return default_device()
    have = ", ".join(available_devices())
    try:
        dev = torch.device(spec)
    except (RuntimeError, TypeError, ValueError):
        raise RunError(f"device {spec!r} is not a device torch knows (e.g. cpu, cuda, "
                       f"cuda:1, mps); available here: {have}") from None
    if dev.type == "cpu":
        return dev
    if dev.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise RunError(f"device {spec!r}: this machine has no CUDA device (or this torch "
                           f"is built without CUDA); available here: {have}")
        if dev.index is not None and dev.index >= count:
            raise RunError(f"device {spec!r}: this machine has {count} CUDA device(s), "
                           f"cuda:0 to cuda:{count - 1}")
        return dev
    try:  # mps, xpu, …: usable exactly when a tensor can be made there
        torch.empty(0, device=dev)
    except Exception:  # noqa: BLE001 - any failure means the device is not usable here
        raise RunError(f"device {spec!r} is not available on this machine; available "
                       f"here: {have}") from None
    return dev
