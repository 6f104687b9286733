"""``cdl export``: a path's network as a file that runs without cdl.

``.pt2``: ``torch.export`` with a dynamic batch dimension, saved with
``torch.export.save``; ``torch.export.load(file).module()(*factors)`` runs it in any
Python with torch. ``.onnx``: the same graph through torch's ONNX exporter (the optional
extra ``cdl[onnx]``: onnx, onnxscript, onnxruntime). Either way the file is written beside
its target and moved over it, then loaded back and run on a batch of another size than
the one traced, against the network itself: :class:`Exported` says how far apart they are,
and an export that disagrees is refused rather than kept.
"""

from __future__ import annotations

import contextlib
import copy
import importlib.util
import logging
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import torch

from ..errors import ApplyError
from .network import PathNetwork
from .outputs import Staged

__all__ = ["FORMATS", "Exported", "export_network"]

FORMATS = {".pt2": "torch.export", ".onnx": "ONNX"}
TRACE_BATCH, CHECK_BATCH = 2, 3  # the example batch traced, and the one checked
TOLERANCE = {".pt2": 1e-5, ".onnx": 1e-4}  # max |exported - network|, relative to max |network|
ONNX_EXTRA = "pip install 'cdl[onnx]' (onnx, onnxscript, onnxruntime)"


@dataclass(frozen=True)
class Exported:
    """An export written to ``path``: its format, the inputs' and outputs' names, and the
    largest difference from the network on a check batch of ``batch`` points."""

    path: Path
    format: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    max_error: float
    batch: int


def _names(objects: list[str], prefix: str) -> tuple[str, ...]:
    """Unique input / output names: the factors' objects, numbered where repeated."""
    return tuple(n if objects.count(n) == 1 else f"{n}_{k}" for k, n in enumerate(objects)) \
        if objects else (prefix,)


def example(net: PathNetwork, batch: int, device: torch.device) -> tuple[torch.Tensor, ...]:
    """A seeded batch of points of the network's domain (one tensor per factor)."""
    g = torch.Generator().manual_seed(batch)
    return tuple(torch.randn(batch, *s, generator=g).clamp_(-1, 1).to(device)
                 for s in net.dom.shapes)


def export_network(net: PathNetwork, out: str | Path, overwrite: bool = False) -> Exported:
    """Export ``net`` to ``out`` (``.pt2`` or ``.onnx``, as the extension says), checked."""
    out = Path(out)
    suffix = out.suffix.lower()
    if suffix not in FORMATS:
        raise ApplyError(f"-o {out}: the extension {suffix or '(none)'} names no export format "
                         f"(.pt2: torch.export, .onnx: ONNX)")
    if out.is_dir():
        raise ApplyError(f"-o {out} is a folder; give the file to write, e.g. {out / 'net'}"
                         f"{suffix}")
    if out.exists() and not overwrite:
        raise ApplyError(f"-o {out} exists: pass --overwrite to replace it")
    onnx_run = _onnx_runner(out) if suffix == ".onnx" else None  # the extra, before any work
    device = next((p.device for p in net.parameters()), torch.device("cpu"))
    # a copy of its own: a trained module's parameters may be views into a program's stack
    net = copy.deepcopy(net).eval()
    args = example(net, TRACE_BATCH, device)
    batch = torch.export.Dim("batch")
    dynamic = (tuple({0: batch} for _ in args),)  # forward(*factors): one spec per factor
    dom = [o.name for o in net.path.dom.factors] if net.dom.is_product else []
    cod = [o.name for o in net.path.cod.factors] if net.cod.is_product else []
    inputs, outputs = _names(dom, "x"), _names(cod, "y")
    staged = Staged(out, folder=False)
    try:
        with torch.no_grad():
            if suffix == ".pt2":
                program = torch.export.export(net, args, dynamic_shapes=dynamic)
                torch.export.save(program, staged.tmp)
                run = _pt2_runner(staged.tmp)
            else:
                with _quiet_exporter():
                    onnx_program = torch.onnx.export(
                        net, args, dynamo=True, dynamic_shapes=dynamic, input_names=list(inputs),
                        output_names=list(outputs), verbose=False)
                onnx_program.save(str(staged.tmp))
                run = onnx_run(staged.tmp, inputs)
            check = example(net, CHECK_BATCH, device)
            want = _tuple(net(*check))
            got = _tuple(run(check))
        error = max(float((w.float().cpu() - g.float().cpu()).abs().max())
                    for w, g in zip(want, got, strict=True))
        scale = max(1.0, *(float(w.abs().max()) for w in want))
        if not error <= TOLERANCE[suffix] * scale:
            raise ApplyError(f"the exported {FORMATS[suffix]} program of {net.name} differs "
                             f"from the network by up to {error:.3g} on a batch of "
                             f"{CHECK_BATCH}: not written")
        staged.commit()
    except BaseException:
        staged.abort()
        raise
    return Exported(out, FORMATS[suffix], inputs, outputs, error, CHECK_BATCH)


@contextlib.contextmanager
def _quiet_exporter():
    """The ONNX exporter without its notes that concern torch, not the user (operators of
    a torchvision that is not installed, torch's own deprecations)."""
    log = logging.getLogger("torch.onnx._internal.exporter._registration")
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            warnings.simplefilter("ignore", DeprecationWarning)
            yield
    finally:
        log.setLevel(level)


def _tuple(y) -> tuple:
    return tuple(y) if isinstance(y, (tuple, list)) else (y,)


def _pt2_runner(path: Path):
    module = torch.export.load(path).module()
    return lambda args: module(*args)


def _onnx_runner(out: Path):
    """A function ``(file, input names) -> run(args)`` on onnxruntime, once the optional
    extra is known to be installed (torch's ONNX exporter needs onnx and onnxscript)."""
    missing = [m for m in ("onnx", "onnxscript", "onnxruntime")
               if importlib.util.find_spec(m) is None]
    if missing:
        raise ApplyError(f"-o {out}: the ONNX export needs {', '.join(missing)}, which "
                         f"{'is' if len(missing) == 1 else 'are'} not installed: {ONNX_EXTRA}")
    import onnxruntime  # the optional extra cdl[onnx]: loaded for an .onnx export only

    def runner(path: Path, names: tuple[str, ...]):
        session = onnxruntime.InferenceSession(os.fspath(path),
                                               providers=["CPUExecutionProvider"])
        return lambda args: tuple(torch.from_numpy(a) for a in session.run(
            None, {n: x.detach().cpu().numpy() for n, x in zip(names, args, strict=True)}))

    return runner
