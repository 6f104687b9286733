"""``cdl sample`` and ``cdl eval``: a run folder's checkpoint put to use.

Both open the run (:func:`runtime.train.run_folder.open_run`: the experiment rebuilt from
``run.json``, the checkpoint's weights loaded) and run the networks forward only: the
program is built eager (``forward_only``), so that nothing is compiled.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import RunError
from ..report import save_grid
from ..report.evaluation import format_table
from ..report.grid import grid_format, save_grids
from ..train.average import averaged_weights
from ..train.networks import eval_mode
from ..train.run_folder import open_run
from ..train.samples import sample_inputs_for, sample_rows

__all__ = ["cmd_eval", "cmd_sample", "open_given", "weights_note"]


def open_given(args: argparse.Namespace):
    """The run folder a forward-only command names (``RUN``, ``--checkpoint``, ``--device``,
    ``--live``), opened: :func:`~runtime.train.run_folder.open_run`."""
    return open_run(args.run_dir, args.checkpoint, args.device, forward_only=True,
                    live=args.live)


def weights_note(args: argparse.Namespace, ck) -> str:
    """What a forward command's message adds when it ran the run's moving average of the
    arrows' weights (what ``open_run`` loads where the checkpoint keeps one) rather than the
    optimizer's: the output is not what ``--live`` would give, so it says so."""
    if args.live or not averaged_weights(ck.weights):
        return ""
    return ", the moving average of the arrows' weights (--live: the optimizer's)"


def cmd_sample(args: argparse.Namespace) -> int:
    """``cdl sample RUN -o FILE``: the grid of every path the plan evaluates, per object."""
    try:  # before the run is rebuilt: an image grid's format, or else a scatter's
        grid_format(args.output, "image")
    except ValueError:
        grid_format(args.output, "vector")
    exp, program, ck = open_given(args)
    inputs = sample_inputs_for(program, exp.data, exp.samples, args.n)
    refs = {program.functor.schema.ob(k).name: v for k, v in (exp.references or {}).items()}
    per_object = sample_rows(program, inputs, refs)
    rows = [(f"{name}: {label}", t) for name, rs in per_object.items() for label, t in rs]
    out = Path(args.output)
    if len({tuple(t.shape[1:]) for _, t in rows}) == 1:
        written = [save_grid(rows, out)]
    else:  # objects of different shapes: a grid each
        written = [w for name, rs in per_object.items()
                   for w in save_grids(rs, out.with_name(f"{out.stem}-{name}{out.suffix}"))]
    for w in written:
        print(f"wrote {w} (step {ck.step}{weights_note(args, ck)})")
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    """``cdl eval RUN``: the experiment's evaluation table at the run's checkpoint."""
    exp, program, ck = open_given(args)
    if exp.evaluate is None:
        raise RunError(f"the experiment of {args.run_dir} defines no evaluation")
    with eval_mode(program):
        table = exp.evaluate(program)
    print(f"{args.run_dir} at step {ck.step}{weights_note(args, ck)}:")
    print(format_table(table))
    return 0
