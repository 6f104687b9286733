"""The ``cdl`` command line: one sub-command per function, a module per family of them.

- :mod:`.schema` — ``check``, ``equal``, ``paths``, ``draw``: a schema file (no torch);
- :mod:`.train` — ``train``: an experiment (a schema file and data, too) into a run
  folder, data-parallel too; :mod:`.run_file` reads a run file (TOML) into its flags;
- :mod:`.runs` — ``sample``, ``eval``: a run folder's checkpoint put to use;
- :mod:`.flags` — the training flags, declared once.

A command's handler is named ``"module:function"`` and its module imported when the
command runs, so that ``cdl --help`` and ``cdl check`` never load torch.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from category import SchemaError

from . import schema
from .flags import add_flags, positive_int

__all__ = ["build_parser", "main"]

INTERRUPTED = 130  # 128 + SIGINT, as a shell reports Ctrl-C
BROKEN_PIPE = 141  # 128 + SIGPIPE, as a shell reports `| head`


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cdl", description="Compositional deep learning: schemas in, trained functors out.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    schema.add_commands(sub)

    p = sub.add_parser("train", help="train an experiment (a built-in's name, FILE.py, or "
                                     "FILE.schema with --data for its objects; FILE.toml: "
                                     "the flags as keys); no argument: the built-in default")
    p.add_argument("experiment", nargs="?", metavar="EXPERIMENT|FILE.py|FILE.schema|FILE.toml")
    add_flags(p)
    p.set_defaults(run="train:cmd_train")

    for name, helptext in (("sample", "render sample grids from a run's checkpoint"),
                           ("eval", "print a run's evaluation table")):
        p = sub.add_parser(name, help=helptext)
        p.add_argument("run_dir", metavar="RUN")
        p.add_argument("--checkpoint", metavar="NAME")
        p.add_argument("--device", metavar="D")
        if name == "sample":
            p.add_argument("-o", "--output", default="samples.png", metavar="FILE",
                           help="the grid to write: .png, .jpg, .webp or .pdf (.svg for "
                                "vectors); default samples.png")
            p.add_argument("-n", type=positive_int, default=8, help="samples per object")
        p.set_defaults(run=f"runs:cmd_{name}")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return _handler(args.run)(args)
    except KeyboardInterrupt:
        print(f"\ncdl {args.command}: interrupted", file=sys.stderr)
        return INTERRUPTED
    except BrokenPipeError:  # the reader went away (`cdl paths … | head -1`): stop quietly
        _silence_stdout()
        return BROKEN_PIPE
    except (SchemaError, ValueError, OSError) as err:
        print(f"cdl {args.command}: error: {err}", file=sys.stderr)
        return 1


def _handler(run):
    """A command's function; ``"module:function"`` is imported now (torch, for training)."""
    if callable(run):
        return run
    module, _, function = run.partition(":")
    return getattr(importlib.import_module(f".{module}", __name__), function)


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so that the interpreter's final flush of what is still
    buffered does not fail on the closed pipe again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no real file descriptor (captured output)
        pass
