"""``cdl train``, ``cdl sample``, ``cdl eval``: the sub-commands that run experiments."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from pathlib import Path


def _whole(text: str, least: int, what: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if v < least:
        raise argparse.ArgumentTypeError(f"expected a {what} number, got {v}")
    return v


def positive_int(text: str) -> int:
    return _whole(text, 1, "positive")


def non_negative_int(text: str) -> int:
    return _whole(text, 0, "non-negative")


def positive_seconds(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds, got {text!r}") from None
    if not v > 0 or v == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {v}")
    return v


def cmd_train(args: argparse.Namespace) -> int:
    """``cdl train``, in stages: the flags checked; the launcher (``--nproc`` outside
    torchrun) starts torchrun, whose workers come back here; a process joins the
    data-parallel group (if any), agrees on the run folder, then trains."""
    from .distributed import DataParallel, launch

    _check_flags(args)
    if args.nproc is not None and "RANK" not in os.environ and not args.list:
        return launch(args.nproc, _worker_argv(_launcher_out(args)), args.max_restarts)
    parallel = DataParallel.from_env(timeout_s=args.dist_timeout)
    _choose_folder(args, parallel)
    return _train_or_report(args, parallel)


def _check_flags(args: argparse.Namespace) -> None:
    """Flags that contradict each other, or that a resume cannot honour, refused before
    anything starts (a worker of a launch finds them checked already)."""
    from .devices import resolve_device
    from .errors import RunError
    from .run_folder import read_run_info

    if args.max_restarts and args.nproc is None and "RANK" not in os.environ:
        raise RunError(f"--max-restarts {args.max_restarts} needs --nproc N: torchrun "
                       f"restarts the workers of a data-parallel run")
    if args.checkpoint is not None and not args.resume:
        raise RunError(f"--checkpoint {args.checkpoint} picks the checkpoint a resumed run "
                       f"continues from: add --resume (and --out RUN)")
    if args.resume:
        for flag, value, why in RESUME_REFUSES:
            if getattr(args, value) is not None:
                raise RunError(f"--resume continues the run as it was trained, so {flag} "
                               f"cannot change: {why}")
    if args.device is not None:
        resolve_device(args.device)
    if args.nproc is not None and "RANK" not in os.environ and not args.list:
        batch = args.batch
        if batch is None and args.resume and args.out:
            batch = read_run_info(args.out).get("trainer", {}).get("batch_size")
        if isinstance(batch, int) and batch % args.nproc:
            raise RunError(f"--nproc {args.nproc} does not divide the global batch {batch}: "
                           f"each process takes an equal share; choose --nproc among the "
                           f"divisors of {batch}, or another --batch")


# what a resume refuses to change, and why (--device and --backend it honours)
RESUME_REFUSES = (
    ("--seed", "seed", "the resumed run continues the recorded random state exactly; start "
                       "a new run (another --out) for another seed"),
    ("--equation-weight", "equation_weight", "it changes the losses being trained; start a "
                                             "new run, or load the weights into one in "
                                             "Python"),
)


def _launcher_out(args: argparse.Namespace) -> argparse.Namespace:
    """The launcher fixes the run folder, so that every worker and restart finds it."""
    from .experiment import DEFAULT
    from .run_folder import fresh_out

    if args.out is None and not args.resume:
        args.out = str(fresh_out(Path(args.experiment or DEFAULT).stem))
    return args


def _choose_folder(args: argparse.Namespace, parallel) -> None:
    """A data-parallel worker: its device, this launch recorded (``args.launch``), and
    one run folder for all ranks — after a torchrun restart the one
    :mod:`runtime.restarts` plans, else rank 0's choice."""
    from .experiment import DEFAULT
    from .restarts import follow_restart, launch_id
    from .run_folder import fresh_out

    args.launch = None
    if parallel is None:
        return
    args.device = args.device or str(parallel.device)
    args.launch = {"id": launch_id(), "attempt": parallel.restart_count}
    if parallel.restart_count:  # torchrun --max-restarts: rank 0 decides, all follow
        follow_restart(args, parallel)
    elif not args.resume and args.out is None:  # one folder, chosen by rank 0
        args.out = parallel.broadcast_object(
            str(fresh_out(Path(args.experiment or DEFAULT).stem)))


def _train_or_report(args: argparse.Namespace, parallel) -> int:
    """:func:`_train`; a rank failure while the trainer is built is reported with how to
    resume (one during training, :func:`_train` reports itself)."""
    from .checkpoint import latest
    from .distributed import RankFailure, resume_hint

    extra = {} if parallel is None else {"parallel": parallel}
    try:
        return _train(args, parallel, extra)
    except RankFailure as e:
        hint = resume_hint(Path(args.out), parallel.world, args.batch or 0) \
            if args.out and latest(Path(args.out)) else "no checkpoint was written"
        return _rank_failed(e, hint, parallel)


def _rank_failed(e: Exception, hint: str, parallel) -> int:
    """A data-parallel run stopped by a rank's failure: what failed, how to resume, and
    what torchrun does next; exit status 1."""
    from .restarts import restart_note

    print(f"cdl train: error: {e}\n{hint}{restart_note(parallel)}", file=sys.stderr,
          flush=True)
    return 1


def _train(args: argparse.Namespace, parallel, extra: dict) -> int:
    from .distributed import RankFailure, resume_hint
    from .errors import Interrupted, RunError, TrainingDiverged
    from .evaluation import format_table
    from .experiment import BUILTIN, DEFAULT, describe, prepare
    from .run_folder import fresh_out
    from .trainer import Trainer

    if args.list:
        for name in BUILTIN:
            mark = " (default)" if name == DEFAULT else ""
            print(f"{name}{mark}: {describe(name)}")
        return 0
    overrides = {k: v for k, v in (("steps", args.steps), ("batch_size", args.batch))
                 if v is not None}
    compile_over = {k: v for k, v in (("backend", args.backend),
                                      ("equation_weight", args.equation_weight))
                    if v is not None}
    if args.resume:
        if args.out is None:
            raise RunError("--resume needs --out RUN: the run folder to continue")
        if args.experiment is not None:
            print(f"cdl train: note: --resume continues the experiment recorded in "
                  f"{args.out}/run.json; {args.experiment!r} is ignored", file=sys.stderr)
        trainer = Trainer.resume(args.out, checkpoint=args.checkpoint, device=args.device,
                                 backend=args.backend, **overrides, **extra)
    else:
        ref = args.experiment or DEFAULT
        seed = 0 if args.seed is None else args.seed
        exp, program = prepare(ref, device=args.device, seed=seed, **compile_over)
        out = Path(args.out) if args.out else fresh_out(Path(ref).stem)
        info = {"experiment": ref if not ref.endswith(".py") else str(Path(ref).resolve()),
                "options": {"device": str(program.device), "seed": seed,
                            "compile": compile_over}}
        if getattr(args, "launch", None):
            info["launch"] = args.launch  # torchrun: which launch and attempt began it
        trainer = Trainer(program, exp.data, out, **{**exp.train, "seed": seed,
                                                     **overrides},
                          **exp.trainer_extras(), run_info=info, **extra)
    ranks = "" if parallel is None else (f", {parallel.world} processes × batch "
                                         f"{trainer.batches.local_batch_size}")
    if trainer.is_writer:
        print(f"cdl train: {trainer.out} ({trainer.program.device}, {trainer.steps} steps, "
              f"batch {trainer.batch_size}{ranks})", file=sys.stderr)
    _quiet_after_stop(trainer)
    try:
        table = trainer.fit()
        if parallel is not None:
            parallel.barrier("final barrier")
            parallel.close()
    except RankFailure as e:
        return _rank_failed(e, resume_hint(trainer.out, parallel.world, trainer.batch_size),
                            parallel)
    except Interrupted as e:
        print(f"cdl train: {e}", file=sys.stderr)
        return 128 + e.signal
    except TrainingDiverged as e:
        print(f"cdl train: error: {e}", file=sys.stderr)
        return 1
    if not trainer.is_writer:
        return 0
    if table is not None:
        print(format_table(table))
    print(f"run folder: {trainer.out} (open {trainer.out / 'index.html'})")
    return 0


def _quiet_after_stop(trainer) -> None:
    """Signal handlers for the time the trainer's own are not installed (it restores these
    when ``fit`` ends): once a signal has stopped the run, its checkpoint is saved and
    nothing is left to save, so a second Ctrl-C (or SIGTERM) while the interpreter winds
    down — torch's and tqdm's exit callbacks — ends the process at once, with the status of
    the first, never with a traceback from inside an exit callback. Before that, Ctrl-C is
    Python's ``KeyboardInterrupt`` as usual."""
    def handle(signum, frame):
        if trainer._signal is None:
            raise KeyboardInterrupt
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        os._exit(128 + trainer._signal)

    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, handle)


def _worker_argv(args: argparse.Namespace) -> list[str]:
    """The launcher's ``train`` command line for the workers: its options without
    ``--nproc``/``--max-restarts``, the run folder fixed (every restart of every worker
    finds the same one)."""
    argv = ["train"] + ([args.experiment] if args.experiment else [])
    for flag, value in (("--steps", args.steps), ("--batch", args.batch), ("--out", args.out),
                        ("--device", args.device), ("--seed", args.seed),
                        ("--backend", args.backend), ("--equation-weight", args.equation_weight),
                        ("--checkpoint", args.checkpoint),
                        ("--dist-timeout", args.dist_timeout)):
        if value is not None:
            argv += [flag, str(value)]
    return argv + (["--resume"] if args.resume else [])


def cmd_sample(args: argparse.Namespace) -> int:
    from .experiment import open_run
    from .report import save_grid
    from .report.grid import grid_format, save_grids
    from .trainer import sample_inputs_for, sample_rows

    try:  # before the run is rebuilt: an image grid's format, or else a scatter's
        grid_format(args.output, "image")
    except ValueError:
        grid_format(args.output, "vector")
    exp, program, ck = open_run(args.run_dir, args.checkpoint, args.device)
    inputs = sample_inputs_for(program, exp.data, exp.samples, args.n)
    refs = {getattr(k, "name", k): v for k, v in (exp.references or {}).items()}
    per_object = sample_rows(program, inputs, refs)
    rows = [(f"{name}: {label}", t) for name, rs in per_object.items() for label, t in rs]
    out = Path(args.output)
    if len({tuple(t.shape[1:]) for _, t in rows}) == 1:
        written = [save_grid(rows, out)]
    else:  # objects of different shapes: a grid each
        written = [w for name, rs in per_object.items()
                   for w in save_grids(rs, out.with_name(f"{out.stem}-{name}{out.suffix}"))]
    for w in written:
        print(f"wrote {w} (step {ck.step})")
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from .errors import RunError
    from .evaluation import format_table
    from .experiment import open_run
    from .trainer import eval_mode

    exp, program, ck = open_run(args.run_dir, args.checkpoint, args.device)
    if exp.evaluate is None:
        raise RunError(f"the experiment of {args.run_dir} defines no evaluation")
    with eval_mode(program):
        table = exp.evaluate(program)
    print(f"{args.run_dir} at step {ck.step}:")
    print(format_table(table))
    return 0


def add_commands(sub) -> None:
    p = sub.add_parser("train", help="train an experiment (built-in name or FILE.py); "
                                     "no argument: the built-in default")
    p.add_argument("experiment", nargs="?", metavar="EXPERIMENT|FILE.py")
    p.add_argument("--steps", type=positive_int, metavar="N",
                   help="the run's total number of steps (with --resume: continue up to N)")
    p.add_argument("--batch", type=positive_int, metavar="B", help="batch size")
    p.add_argument("--out", metavar="DIR", help="run folder (default runs/EXPERIMENT, "
                                                "never an existing non-empty one)")
    p.add_argument("--device", metavar="D", help="cpu, cuda, cuda:1 … (default: cuda "
                                                 "when present)")
    p.add_argument("--seed", type=int, metavar="S", help="the run's seed (default 0)")
    p.add_argument("--backend", metavar="NAME", help="compile backend (inductor, eager, …) "
                                                     "instead of the experiment's")
    p.add_argument("--equation-weight", type=float, metavar="W",
                   help="the weight of every equation loss, overriding the experiment's "
                        "(0: the ablation without equations; residuals are still logged)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out")
    p.add_argument("--checkpoint", metavar="NAME", help="with --resume: this checkpoint "
                                                        "(e.g. step-00000500), not the latest")
    p.add_argument("--list", action="store_true", help="list the built-in experiments")
    p.add_argument("--nproc", type=positive_int, metavar="N",
                   help="data-parallel on N processes of this machine (launches torchrun; "
                        "--batch stays the global batch, N must divide it)")
    p.add_argument("--max-restarts", type=non_negative_int, default=0, metavar="K",
                   help="with --nproc: torchrun restarts failed workers up to K times; they "
                        "resume from the last checkpoint")
    p.add_argument("--dist-timeout", type=positive_seconds, default=300.0, metavar="S",
                   help="data-parallel: seconds a collective may wait for the other ranks "
                        "before the run stops with an error (default 300)")
    p.set_defaults(run=cmd_train)

    for name, fn, helptext in (("sample", cmd_sample, "render sample grids from a run's "
                                                      "checkpoint"),
                               ("eval", cmd_eval, "print a run's evaluation table")):
        p = sub.add_parser(name, help=helptext)
        p.add_argument("run_dir", metavar="RUN")
        p.add_argument("--checkpoint", metavar="NAME")
        p.add_argument("--device", metavar="D")
        if name == "sample":
            p.add_argument("-o", "--output", default="samples.png", metavar="FILE",
                           help="the grid to write: .png, .jpg, .webp or .pdf (.svg for "
                                "vectors); default samples.png")
            p.add_argument("-n", type=positive_int, default=8, help="samples per object")
        p.set_defaults(run=fn)
