"""The training flags are declared once: the parser and the workers' command line both
come from ``runtime.cli.flags.TRAIN_FLAGS``."""

import argparse

from runtime.cli import build_parser
from runtime.cli.flags import TRAIN_FLAGS, Flag, add_flags, worker_argv


def parse(flags, argv):
    p = argparse.ArgumentParser()
    p.add_argument("experiment", nargs="?")
    add_flags(p, flags)
    return p.parse_args(argv)


def test_a_new_flag_reaches_the_workers():
    """Adding one row to the table is all a new flag needs to reach a torchrun worker."""
    flags = (*TRAIN_FLAGS, Flag(("--new-knob",), dict(type=float, metavar="K")))
    args = parse(flags, ["gaussians", "--nproc", "2", "--new-knob", "0.5"])
    argv = worker_argv(args, flags)
    assert argv[argv.index("--new-knob") + 1] == "0.5"
    assert "--nproc" not in argv  # a launcher-only flag stays with the launcher


def test_every_worker_flag_round_trips_through_the_worker_command_line():
    """Every flag a worker takes, set on the launcher's command line, reaches the worker
    with the same value (what ``_worker_argv`` once listed by hand, and could drop)."""
    argv = ["train", "gaussians", "--steps", "7", "--batch", "8", "--out", "runs/x",
            "--device", "cpu", "--seed", "3", "--backend", "eager", "--equation-weight",
            "0.5", "--resume", "--checkpoint", "step-00000002", "--dist-timeout", "30",
            "--nproc", "2", "--max-restarts", "1",
            "--init", "runs/a", "--along", "a.map", "--init", "runs/b", "--along", "b.map"]
    launcher = build_parser().parse_args(argv)
    worker = build_parser().parse_args(worker_argv(launcher))
    for flag in TRAIN_FLAGS:
        want = getattr(launcher, flag.dest) if flag.to_worker else None
        got = getattr(worker, flag.dest)
        if flag.to_worker:
            assert got == want, flag.names
        else:
            assert got in (None, False, 0), flag.names
    assert worker.experiment == "gaussians"
    set_here = {f.dest for f in TRAIN_FLAGS if f.to_worker}
    assert set_here == {"steps", "batch", "out", "device", "seed", "backend",
                        "equation_weight", "resume", "checkpoint", "dist_timeout",
                        "init", "along"}
