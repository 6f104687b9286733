"""The ``cdl`` command line: one sub-command per function, a module per family of them.

- :mod:`.schema` — ``check``, ``equal``, ``paths``, ``draw``: a schema file (no torch);
- :mod:`.train` — ``train``: an experiment (a schema file and data, too) into a run
  folder, data-parallel too; :mod:`.run_file` reads a run file (TOML) into its flags;
- :mod:`.runs` — ``sample``, ``eval``: a run folder's checkpoint put to use;
- :mod:`.use` — ``apply``, ``export``: one path's trained network on data, or as a file;
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
LIVE_HELP = ("the optimizer's last weights, not the moving average of the arrows' weights "
             "that a run trained with --ema yields")


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
        p.add_argument("--live", action="store_true", help=LIVE_HELP)
        if name == "sample":
            p.add_argument("-o", "--output", default="samples.png", metavar="FILE",
                           help="the grid to write: .png, .jpg, .webp or .pdf (.svg for "
                                "vectors); default samples.png")
            p.add_argument("-n", type=positive_int, default=8, help="samples per object")
        p.set_defaults(run=f"runs:cmd_{name}")
    _add_use_commands(sub)
    return parser


def _add_use_commands(sub) -> None:
    """``apply`` and ``export`` (handlers in :mod:`.use`) on the parser's sub-commands."""
    p = sub.add_parser("apply", help="run a path's network on a folder, an image, a tensor "
                                     "file or drawn codes",
                       description="Apply a path of a run's trained functor (an arrow f, a "
                                   "composite f.g, an identity id(A)) to every image of a "
                                   "folder (names and subfolders kept, same format), one "
                                   "image, or a tensor file (.npy, .pt, .safetensors: N × …, "
                                   "written back as a tensor file); a latent domain draws -n "
                                   "codes instead. A product domain takes one INPUT per "
                                   "factor; a product codomain writes one output per factor.")
    _run_arguments(p)
    p.add_argument("inputs", nargs="*", metavar="INPUT",
                   help="a folder of images, an image, or a tensor file (one per factor of "
                        "a product domain); none with -n")
    p.add_argument("-o", "--output", required=True, metavar="OUT",
                   help="a folder (for a folder, or numbered points), an image file (for "
                        "one image) or a tensor file .npy/.pt/.safetensors")
    p.add_argument("--batch", type=positive_int, default=64, metavar="B",
                   help="points per forward call (default 64)")
    p.add_argument("-n", type=positive_int, metavar="N",
                   help="draw N codes of a latent domain (its prior) instead of reading INPUT")
    p.add_argument("--seed", type=int, default=0,
                   help="the seed of the codes -n draws (default 0); code i depends on "
                        "(seed, i) only")
    p.add_argument("--strict-size", action="store_true",
                   help="refuse images of another size than the path's, instead of resizing")
    p.add_argument("--overwrite", action="store_true",
                   help="replace an existing OUT (a folder is replaced once the new one is "
                        "complete)")
    p.set_defaults(run="use:cmd_apply")

    p = sub.add_parser("export", help="write a path's network as a .pt2 (torch.export) or "
                                      ".onnx file",
                       description="Export the network of a path (composites included) with "
                                   "a dynamic batch dimension: .pt2 through torch.export "
                                   "(load it with torch.export.load, no cdl needed), .onnx "
                                   "through torch's ONNX exporter (pip install 'cdl[onnx]'). "
                                   "The file is loaded back and checked against the network.")
    _run_arguments(p, device_default="cpu")
    p.add_argument("-o", "--output", required=True, metavar="FILE",
                   help="FILE.pt2 or FILE.onnx")
    p.add_argument("--overwrite", action="store_true", help="replace an existing FILE")
    p.set_defaults(run="use:cmd_export")


def _run_arguments(p: argparse.ArgumentParser, device_default: str | None = None) -> None:
    p.add_argument("run_dir", metavar="RUN", help="a run folder (cdl train --out)")
    p.add_argument("path", metavar="PATH", help="a path of the schema: f, f.g, id(A)")
    p.add_argument("--checkpoint", metavar="NAME", help="a checkpoint of the run (default: "
                                                        "the last)")
    where = device_default or "the run's"
    p.add_argument("--device", default=device_default, metavar="D",
                   help=f"where to run the networks (default: {where})")
    p.add_argument("--live", action="store_true", help=LIVE_HELP)


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
