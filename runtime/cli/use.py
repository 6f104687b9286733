"""``cdl apply`` and ``cdl export``: one path of a run's trained functor put to use.

Both open the run forward-only (:func:`runtime.train.run_folder.open_run`: the experiment
rebuilt eager, nothing compiled, the checkpoint's weights loaded) and take the path's
network (:func:`runtime.apply.path_network`); ``apply`` runs it on data
(:mod:`runtime.apply`), ``export`` writes it as a file that runs without cdl. Their
flags are declared with the parser (``cli/__init__.py``), which loads no torch.
"""

from __future__ import annotations

import argparse

from ..apply import (
    apply_network,
    export_network,
    latent_prior,
    path_network,
    plan_outputs,
    read_inputs,
)
from .runs import open_given, weights_note

__all__ = ["cmd_apply", "cmd_export"]


def cmd_apply(args: argparse.Namespace) -> int:
    """``cdl apply RUN PATH INPUT… -o OUT``: one output per input point."""
    exp, program, ck = open_given(args)
    F = program.functor
    net = path_network(F, args.path)
    dom, cod = net.path.dom, net.path.cod
    latent = None if dom.is_product else latent_prior(
        exp.data, exp.compile.get("priors") or {}, F.schema.ob, dom)
    inputs = read_inputs(args.inputs, net.dom, dom.name, net.name, args.strict_size, latent,
                         args.n, args.seed)
    factors = [o.name for o in cod.factors] if net.cod.is_product else [cod.name]
    with plan_outputs(args.output, inputs, net.cod.shapes, factors, args.overwrite) as outputs:
        written = apply_network(net, inputs, outputs, args.batch, program.device)
    notes = []
    if inputs.resized:
        notes.append(f"{inputs.resized} resized to the path's size")
    skipped = inputs.skipped
    if skipped:
        listed = ", ".join(f"{name} ({why})" for name, why in skipped[:5])
        more = f" and {len(skipped) - 5} more" if len(skipped) > 5 else ""
        notes.append(f"{len(skipped)} unreadable, skipped: {listed}{more}")
    where = ", ".join(map(str, outputs.written))
    print(f"wrote {written} output(s) of {net.name} to {where} (step {ck.step}"
          f"{weights_note(args, ck)})"
          + (f"; {'; '.join(notes)}" if notes else ""))
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    """``cdl export RUN PATH -o FILE.pt2|FILE.onnx``: the path's network, checked."""
    _, program, ck = open_given(args)
    net = path_network(program.functor, args.path)
    done = export_network(net, args.output, args.overwrite)
    print(f"wrote {done.path} ({done.format}, step {ck.step}{weights_note(args, ck)}): {net}; "
          f"inputs {', '.join(done.inputs)} -> outputs {', '.join(done.outputs)}, batch dimension "
          f"dynamic; checked on a batch of {done.batch}: max |export - network| = "
          f"{done.max_error:.2g}")
    return 0
