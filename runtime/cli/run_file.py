"""Run files: ``cdl train run.toml`` — a training command written as TOML.

The keys are the flags' names (``steps``, ``equation-weight``, ``data`` …; ``_`` for ``-``
is accepted too) and ``schema`` (or ``experiment``) the experiment: the file is read into
the same flags, checked by the same parser, so it says nothing a command line could not::

    schema = "cyclegan.schema"          # or experiment = "cyclegan_fonts"
    steps = 2000
    lr = 5e-4
    equation-weight = {"f.g = id(Horse)" = 5}   # or 10, or a list of the flag's forms
    [data]
    Horse = "data/horses"               # or data = ["Horse=data/horses", …]
    Zebra = "glyphs:DejaVuSans-Bold"
    [latent]                            # shapes as 16, "3x32x32" or [3, 32, 32]

A value is what the flag takes: a number or text, ``true``/``false`` for a switch, a list
for a repeated flag (or a pair such as ``betas = [0.5, 0.999]``), a table for
``OBJ=VALUE`` flags. Paths the file reads (the schema, ``data`` folders and files) are
relative to the run file's folder; ``out`` is relative to where ``cdl`` runs, like the
command line's. Flags given on the command line as well win over the file's keys (a
repeated flag replaces the file's list): ``cdl train run.toml --steps 10``.
"""

from __future__ import annotations

import argparse
import difflib
import tomllib
from pathlib import Path

from ..errors import RunError
from ..experiments.data_specs import absolute
from .flags import BOOL, TRAIN_FLAGS, Flag, add_flags

__all__ = ["is_run_file", "run_file_argv", "with_run_file"]

EXPERIMENT_KEYS = ("schema", "experiment")
JOIN = {"latent": "x", "space": "x", "size": "x"}  # how a list value is written, by flag


def is_run_file(ref: object) -> bool:
    return isinstance(ref, str) and ref.lower().endswith(".toml")


class _Parser(argparse.ArgumentParser):
    """The train flags' parser, whose errors are :class:`RunError` naming the file."""

    def __init__(self, where: str):
        super().__init__(prog=f"cdl train {where}", add_help=False)
        self.where = where
        self.add_argument("experiment", nargs="?")
        add_flags(self)

    def error(self, message: str):
        raise RunError(f"{self.where}: {message}")


def _flag(key: str, where: str) -> Flag:
    names = {n.lstrip("-"): f for f in TRAIN_FLAGS for n in f.names}
    name = key.replace("_", "-")
    if name in names:
        return names[name]
    close = difflib.get_close_matches(name, [*names, *EXPERIMENT_KEYS], n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise RunError(f"{where}: unknown key {key!r}{hint}; the keys are cdl train's flags "
                   f"({', '.join(sorted(names))}) and schema or experiment")


def _text(flag: Flag, value: object, root: Path, where: str) -> str:
    """One value of ``flag`` as the command line writes it (a list joined, a ``data``
    source's relative path made absolute against ``root``)."""
    if isinstance(value, (bool, dict)):
        raise RunError(f"{where}: {flag.names[0][2:]} takes a number or text here, got "
                       f"{value!r}")
    if isinstance(value, list):
        return JOIN.get(flag.dest, ",").join(str(v) for v in value)
    if flag.dest == "data":
        name, eq, source = str(value).partition("=")
        return f"{name}={absolute(source.strip(), root)}" if eq else str(value)
    return str(value)


def _items(flag: Flag, value: object, root: Path, where: str) -> list[str]:
    """The values of a repeated flag: a table's ``KEY=VALUE`` pairs, a list's items, or
    one value."""
    if isinstance(value, dict):
        return [_text(flag, f"{k}={_text(flag, v, root, where) if flag.dest != 'data' else v}",
                      root, where) for k, v in value.items()]
    return [_text(flag, v, root, where) for v in (value if isinstance(value, list) else [value])]


def run_file_argv(path: str | Path) -> list[str]:
    """The ``train`` command line that the run file ``path`` writes (without ``train``)."""
    path = Path(path)
    where = str(path)
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise RunError(f"cannot read run file {where}: {e.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise RunError(f"run file {where} is not valid TOML: {e}") from None
    root = path.resolve().parent
    argv: list[str] = []
    given = [k for k in EXPERIMENT_KEYS if k in table]
    if len(given) > 1:
        raise RunError(f"{where}: give schema or experiment, not both")
    for key in given:
        ref = str(table[key])
        keep = not ref.endswith((".schema", ".py"))  # a built-in's name
        argv.append(ref if keep else str((root / Path(ref).expanduser()).resolve()))
    for key, value in table.items():
        if key in EXPERIMENT_KEYS:
            continue
        flag = _flag(key, where)
        name = flag.names[0]
        if flag.options.get("action") is BOOL or flag.options.get("action") == "store_true":
            if not isinstance(value, bool):
                raise RunError(f"{where}: {key} is a switch: true or false, got {value!r}")
            if value or flag.options.get("action") is BOOL:
                argv.append(name if value else f"--no-{name[2:]}")
        elif flag.options.get("action") == "append":
            for item in _items(flag, value, root, where):
                argv += [name, item]
        else:
            argv += [name, _text(flag, value, root, where)]
    return argv


def with_run_file(args: argparse.Namespace) -> argparse.Namespace:
    """``args`` (whose experiment is a run file) with the file's flags read in; flags set
    on the command line win."""
    path = args.experiment
    parser = _Parser(path)
    from_file = parser.parse_args(run_file_argv(path))
    defaults = parser.parse_args([])
    merged = vars(from_file)
    for key, value in vars(args).items():
        if key == "experiment":
            continue
        if key not in merged or value != getattr(defaults, key, None):
            merged[key] = value
    return argparse.Namespace(**merged)
