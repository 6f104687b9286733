"""``cdl train``: an experiment trained into a run folder, in one process or data-parallel.

The experiment is a built-in's name, a ``.py`` file, or a schema file whose objects get
their data from flags (``cdl train S.schema --data A=folder/ --latent Z=16``); a run file
(``cdl train run.toml``) writes the same command as keys.

Stages of :func:`cmd_train`: a run file read into flags; the flags checked; the launcher
(``--nproc`` outside torchrun) starts torchrun, whose workers come back here; a process
joins the data-parallel group (if any), agrees on the run folder, builds (or, with
``--resume``, rebuilds) the trainer, prints its networks, and trains. Every failure ends as
one line on stderr and an exit status.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from pathlib import Path

from ..devices import resolve_device
from ..errors import Interrupted, RunError, TrainingDiverged
from ..experiments import BUILTIN, DEFAULT, SchemaRun, describe, prepare
from ..report.evaluation import format_table
from ..report.networks import format_networks, network_rows
from ..train import Trainer
from ..train.checkpoint import latest
from ..train.distributed import DataParallel, RankFailure, launch, resume_hint
from ..train.restarts import follow_restart, launch_id, restart_note
from ..train.run_folder import fresh_out, read_run_info
from ..train.warm_start import warm_start_from_flags
from .flags import TRAIN_FLAGS, equation_weights, given, worker_argv
from .run_file import is_run_file, with_run_file

__all__ = ["cmd_train"]


def cmd_train(args: argparse.Namespace) -> int:
    """``cdl train`` (see the module's docstring for its stages)."""
    if args.list:
        return _list()
    if is_run_file(args.experiment):
        args = with_run_file(args)
    _check_flags(args)
    if args.nproc is not None and "RANK" not in os.environ:
        return launch(args.nproc, worker_argv(_launcher_out(args)), args.max_restarts)
    parallel = DataParallel.from_env(timeout_s=args.dist_timeout)
    args = _choose_folder(args, parallel)
    try:
        trainer = _resumed(args, parallel) if args.resume else _fresh(args, parallel)
    except RankFailure as e:  # a rank failed while the trainer was built
        hint = (resume_hint(Path(args.out), parallel.world, args.batch or 0)
                if args.out and latest(Path(args.out)) else "no checkpoint was written")
        return _rank_failed(e, hint, parallel)
    return _fit(trainer, parallel)


def _list() -> int:
    for name in BUILTIN:
        mark = " (default)" if name == DEFAULT else ""
        print(f"{name}{mark}: {describe(name)}")
    return 0


def _check_flags(args: argparse.Namespace) -> None:
    """Flags that contradict each other, or that a resume cannot honour, refused before
    anything starts (a worker of a launch finds them checked already)."""
    if args.max_restarts and args.nproc is None and "RANK" not in os.environ:
        raise RunError(f"--max-restarts {args.max_restarts} needs --nproc N: torchrun "
                       f"restarts the workers of a data-parallel run")
    if args.checkpoint is not None and not args.resume:
        raise RunError(f"--checkpoint {args.checkpoint} picks the checkpoint a resumed run "
                       f"continues from: add --resume (and --out RUN)")
    if args.resume:
        if args.out is None:
            raise RunError("--resume needs --out RUN: the run folder to continue")
        for flag in TRAIN_FLAGS:
            if flag.resume and flag.is_set(getattr(args, flag.dest)):
                raise RunError(f"--resume continues the run as it was trained, so "
                               f"{flag.names[0]} cannot change: {flag.resume}")
    elif not _is_schema_file(args.experiment):
        schema_flags = [f.names[0] for f in TRAIN_FLAGS
                        if f.role == "schema" and f.is_set(getattr(args, f.dest))]
        if schema_flags:
            raise RunError(f"{', '.join(schema_flags)} give a schema file's objects their "
                           f"data (cdl train FILE.schema --data OBJ=SOURCE …); experiment "
                           f"{args.experiment or DEFAULT} brings its own")
    if args.device is not None:
        resolve_device(args.device)
    if args.nproc is not None and "RANK" not in os.environ:
        batch = args.batch
        if batch is None and args.resume:
            batch = read_run_info(args.out).get("trainer", {}).get("batch_size")
        if isinstance(batch, int) and batch % args.nproc:
            raise RunError(f"--nproc {args.nproc} does not divide the global batch {batch}: "
                           f"each process takes an equal share; choose --nproc among the "
                           f"divisors of {batch}, or another --batch")


def _launcher_out(args: argparse.Namespace) -> argparse.Namespace:
    """The launcher fixes the run folder, so that every worker and restart finds it."""
    if args.out is None and not args.resume:
        return _with(args, out=str(fresh_out(Path(args.experiment or DEFAULT).stem)))
    return args


def _choose_folder(args: argparse.Namespace, parallel) -> argparse.Namespace:
    """A data-parallel worker: its device, this launch recorded (``launch``), and one run
    folder for all ranks — after a torchrun restart the one :mod:`runtime.train.restarts`
    plans, else rank 0's choice."""
    if parallel is None:
        return _with(args, launch=None)
    args = _with(args, device=args.device or str(parallel.device),
                 launch={"id": launch_id(), "attempt": parallel.restart_count})
    if parallel.restart_count:  # torchrun --max-restarts: rank 0 decides, all follow
        out, resume = follow_restart(args.out, Path(args.experiment or DEFAULT).stem,
                                     args.launch["id"], args.resume, parallel)
        if resume and not args.resume:  # the experiment is the one run.json records
            refused = {f.dest: None for f in TRAIN_FLAGS if f.resume}
            return _with(args, out=out, resume=True, experiment=None, **refused)
        return _with(args, out=out)
    if not args.resume and args.out is None:  # one folder, chosen by rank 0
        return _with(args, out=parallel.broadcast_object(
            str(fresh_out(Path(args.experiment or DEFAULT).stem))))
    return args


def _with(args: argparse.Namespace, **changes) -> argparse.Namespace:
    """``args`` with ``changes``, as a new namespace (the parsed flags stay as parsed)."""
    return argparse.Namespace(**{**vars(args), **changes})


def _parallel(parallel) -> dict:
    return {} if parallel is None else {"parallel": parallel}


def _resumed(args: argparse.Namespace, parallel) -> Trainer:
    if args.experiment is not None:
        print(f"cdl train: note: --resume continues the experiment recorded in "
              f"{args.out}/run.json; {args.experiment!r} is ignored", file=sys.stderr)
    overrides = given(args, "trainer")  # those a resume refuses were refused already
    return Trainer.resume(args.out, checkpoint=args.checkpoint, device=args.device,
                          backend=args.backend, **overrides, **_parallel(parallel))


def _is_schema_file(ref: str | None) -> bool:
    return ref is not None and ref.endswith(".schema")


def _experiment(args: argparse.Namespace) -> str | dict:
    """What ``prepare`` builds and ``run.json`` records: a built-in's name, a ``.py``
    file's absolute path, or a schema file run's record."""
    ref = args.experiment or DEFAULT
    if _is_schema_file(ref):
        return SchemaRun.from_flags(ref, **given(args, "schema")).record()
    return str(Path(ref).resolve()) if ref.endswith(".py") else ref


def _fresh(args: argparse.Namespace, parallel) -> Trainer:
    ref, seed = _experiment(args), 0 if args.seed is None else args.seed
    compile_over = given(args, "compile")
    if "equation_weight" in compile_over:
        compile_over["equation_weight"] = equation_weights(compile_over["equation_weight"])
    exp, program = prepare(ref, device=args.device, seed=seed, **compile_over)
    info = {"experiment": ref,
            "options": {"device": str(program.device), "seed": seed,
                        "compile": compile_over}}
    if args.launch:
        info["launch"] = args.launch  # torchrun: which launch and attempt began it
    program = warm_start_from_flags(args, exp, program, info)  # --init RUN --along MAP
    rows = info["networks"] = network_rows(program, exp.networks)
    settings = {**exp.train, "seed": seed, **given(args, "trainer")}
    out = Path(args.out) if args.out else fresh_out(Path(args.experiment or DEFAULT).stem)
    trainer = Trainer(program, exp.data, out, **settings, **exp.trainer_extras(),
                      run_info=info, **_parallel(parallel))
    if trainer.is_writer:
        print(format_networks(rows), flush=True)
    return trainer


def _fit(trainer: Trainer, parallel) -> int:
    """Train; print the evaluation table and where the run folder is (the writer)."""
    if trainer.is_writer:
        ranks = "" if parallel is None else (f", {parallel.world} processes × batch "
                                             f"{trainer.batches.local_batch_size}")
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
    if trainer.is_writer:
        if table is not None:
            print(format_table(table))
        print(f"run folder: {trainer.out} (open {trainer.out / 'index.html'})")
    return 0


def _rank_failed(e: Exception, hint: str, parallel) -> int:
    """A data-parallel run stopped by a rank's failure: what failed, how to resume, and
    what torchrun does next; exit status 1."""
    print(f"cdl train: error: {e}\n{hint}{restart_note(parallel)}", file=sys.stderr,
          flush=True)
    return 1


def _quiet_after_stop(trainer: Trainer) -> None:
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



