"""The training flags are declared once: the parser and the workers' command line both
come from ``runtime.cli.flags.TRAIN_FLAGS``."""

import argparse

from runtime.cli import build_parser
from runtime.cli.flags import (
    TRAIN_FLAGS,
    Flag,
    add_flags,
    betas,
    non_negative_int,
    positive_int,
    positive_seconds,
    worker_argv,
)


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


def sample_argv(flag) -> list[str]:
    """A value for ``flag`` on a command line, of the kind it takes."""
    name, action, kind = flag.names[0], flag.options.get("action"), flag.options.get("type")
    if action == "store_true":
        return [name]
    if action is argparse.BooleanOptionalAction:
        return [f"--no-{name[2:]}"]  # False must reach the workers too
    if action == "append":
        return [name, "A=1", name, "B=2"]
    if kind is betas:
        return [name, "0.5,0.9"]
    if kind in (int, positive_int, non_negative_int):
        return [name, "3"]
    if kind in (float, positive_seconds):
        return [name, "0.5"]
    return [name, "text"]


def test_every_worker_flag_round_trips_through_the_worker_command_line():
    """Every flag a worker takes, set on the launcher's command line, reaches the worker
    with the same value (what ``_worker_argv`` once listed by hand, and could drop)."""
    argv = ["train", "gaussians"] + [a for f in TRAIN_FLAGS for a in sample_argv(f)]
    launcher = build_parser().parse_args(argv)
    worker = build_parser().parse_args(worker_argv(launcher))
    for flag in TRAIN_FLAGS:
        want = getattr(launcher, flag.dest) if flag.to_worker else None
        got = getattr(worker, flag.dest)
        if flag.to_worker:
            assert got == want and want not in (None, []), flag.names
        else:
            assert got in (None, False, 0), flag.names
    assert worker.experiment == "gaussians"
    launcher_only = {f.dest for f in TRAIN_FLAGS if not f.to_worker}
    assert launcher_only == {"list", "nproc", "max_restarts"}


def test_every_compile_and_trainer_flag_sets_the_option_of_its_name():
    """A compile flag is a keyword of compile_functor, a trainer flag a TrainOptions field
    (``--batch``: ``batch_size``), a schema flag a SchemaRun field."""
    import inspect
    from dataclasses import fields

    from compiler import compile_functor
    from runtime.experiments import SchemaRun
    from runtime.train import TrainOptions

    keywords = {"compile": set(inspect.signature(compile_functor).parameters),
                "trainer": {f.name for f in fields(TrainOptions)},
                "schema": set(SchemaRun.__dataclass_fields__)}
    for flag in TRAIN_FLAGS:
        if flag.role in keywords:
            assert flag.key in keywords[flag.role], flag.names
            assert flag.names[0][2:].replace("-", "_") in (flag.key, "batch"), flag.names
