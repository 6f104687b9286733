"""The ``cdl`` command line: one sub-command per function, each a small handler.

Heavy imports (torch, matplotlib) happen inside the handlers that need them, so
``cdl check`` answers instantly.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from category import Schema, SchemaError


def _load(path: str) -> Schema:
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except OSError as err:
        raise SchemaError(f"cannot read schema file {path!r}: {err.strerror}") from None
    try:
        return Schema.parse(text)
    except SchemaError as err:
        raise type(err)(f"{path}: {err}") from None


def cmd_check(args: argparse.Namespace) -> int:
    S = _load(args.file)
    print(f"schema {S.name}: {len(S.objects())} objects, {len(S.arrows)} arrows, "
          f"{len(S.equations)} equations")
    print("objects:")
    for o in S.objects():
        extra = f" = {' * '.join(x.name for x in o.factors)}" if o.is_product else ""
        print(f"  {o.name}{extra}")
    print("arrows:")
    for a in S.arrows:
        print(f"  {a.name} : {a.dom} -> {a.cod}")
    print("equations:" if S.equations else "equations: none")
    for e in S.equations:
        print(f"  {e}")
    return 0


def cmd_paths(args: argparse.Namespace) -> int:
    S = _load(args.file)
    n = 0
    for p in S.paths(args.max_length, dom=args.dom, cod=args.cod):
        print(f"{p}  : {p.dom} -> {p.cod}")
        n += 1
    print(f"{n} paths", file=sys.stderr)
    return 0


def cmd_draw(args: argparse.Namespace) -> int:
    from category.drawing import draw

    S = _load(args.file)
    draw(S, args.output)
    print(f"wrote {args.output}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cdl", description="Compositional deep learning: schemas in, trained functors out.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("check", help="validate a .schema file and print what it presents")
    p.add_argument("file")
    p.set_defaults(run=cmd_check)

    p = sub.add_parser("paths", help="list the free category's paths up to a length")
    p.add_argument("file")
    p.add_argument("--max-length", type=int, default=2, metavar="N")
    p.add_argument("--from", dest="dom", metavar="A", help="only paths starting at object A")
    p.add_argument("--to", dest="cod", metavar="B", help="only paths ending at object B")
    p.set_defaults(run=cmd_paths)

    p = sub.add_parser("draw", help="draw the schema's graph and equations to an image")
    p.add_argument("file")
    p.add_argument("-o", "--output", default="schema.png")
    p.set_defaults(run=cmd_draw)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except (SchemaError, ValueError, OSError) as err:
        print(f"cdl {args.command}: error: {err}", file=sys.stderr)
        return 1
