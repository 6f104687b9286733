"""``cdl check``, ``cdl equal``, ``cdl paths``, ``cdl draw``: the schema file's commands.

They need the symbolic layer only (no torch): each answers at once. ``cdl check`` and
``cdl draw`` also take a schema map (a ``.map`` file, :mod:`category.map_text`): the check
lists every way it fails to be a functor (exit 1), the picture shows source and target
side by side, each image in its colour.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time

from category import Infinite, Schema, SchemaError, SchemaMap, Undecided

# `cdl equal` exit codes: a shell script branches on the answer.
EQUAL, NOT_EQUAL, UNDECIDED, BAD_INPUT = 0, 1, 2, 3
SHOWN_PER_HOM = 5    # elements printed per hom-set
SHOWN_HOM_SETS = 30  # hom-sets printed by `cdl check` before it summarises
SHOWN_RULES = 20
INFINITE_PREFIX = 12  # longest word shown from an infinite hom-set
GROWTH_LENGTH = 6    # `cdl check` counts morphisms and paths up to this length
MAP_SUFFIX = ".map"
DEFAULT_PATH_LIMIT = 1_000  # `cdl paths` stops there unless told otherwise


def _load(path: str) -> Schema:
    if path.endswith(MAP_SUFFIX):
        raise SchemaError(f"{path} is a schema map: this command takes a .schema file "
                          f"(cdl check and cdl draw take maps too)")
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except OSError as err:
        raise SchemaError(f"cannot read schema file {path!r}: {err.strerror}") from None
    except UnicodeDecodeError as err:
        raise SchemaError(f"cannot read schema file {path!r}: not UTF-8 text (byte "
                          f"{err.object[err.start]:#04x} at offset {err.start}); a .schema "
                          f"file is plain text") from None
    try:
        return Schema.parse(text)
    except SchemaError as err:
        raise type(err)(f"{path}: {err}") from None


def _load_map(path: str) -> SchemaMap:
    try:
        return SchemaMap.read(path)
    except SchemaError as err:
        if str(err).startswith("cannot read map file"):
            raise
        raise type(err)(f"{path}: {err}") from None


def cmd_check(args: argparse.Namespace) -> int:
    if args.file.endswith(MAP_SUFFIX):
        return _check_map(_load_map(args.file), args.max_seconds)
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
    _print_structure(S, args.max_seconds, args.growth)
    return 0


def _print_growth(S: Schema, n: int) -> None:
    """Morphisms and free paths by length, and both growth rates, in a few lines."""
    if n < 0:
        return
    print("growth (morphisms by normal-form length, free paths by length, ratio):")
    for line in str(S.growth(n)).splitlines():
        print(f"  {line}")
    e = S.entropy()
    print(f"entropy: paths {e.paths:.4g}, morphisms {e.morphisms:.4g}, difference "
          f"{e.difference:.4g} (log spectral radius, nats per arrow)")


def _check_map(G: SchemaMap, max_seconds: float) -> int:
    """Every object's and arrow's image, every equation's, then every failure (exit 1)."""
    files = (f" ({G.files[0] or G.source.name} -> {G.files[1] or G.target.name})"
             if any(G.files) else "")
    print(f"map {G.name} : {G.source.name} -> {G.target.name}{files}")
    print("objects:")
    for o in G.source.objects():
        print(f"  {o} -> {G.ob[o] if o in G.ob else '(no image)'}")
    print("arrows:")
    for a in G.source.arrows:
        image = f"{G.ar[a]} : {G.ar[a].dom} -> {G.ar[a].cod}" if a in G.ar else "(no image)"
        print(f"  {a} : {a.dom} -> {a.cod}  ->  {image}")
    print("equations:" if G.source.equations else "equations: none")
    for e in G.source.equations:
        print(f"  {e}  ->  {_equation_image(G, e, max_seconds)}")
    failures = G.check(max_seconds=max_seconds)
    if failures:
        print(f"not a functor: {len(failures)} failure{'s' if len(failures) > 1 else ''}")
        for f in failures:
            print(f"  - {f}")
        return 1
    print(f"functor: yes (every equation of {G.source.name} goes to one that holds in "
          f"{G.target.name})")
    return 0


def _equation_image(G: SchemaMap, e, max_seconds: float) -> str:
    try:
        lhs, rhs = G(e.lhs), G(e.rhs)
    except SchemaError:
        return "(not mapped)"
    try:
        verdict = "holds" if G.target.equal(lhs, rhs, max_seconds=max_seconds) else \
            "does not hold"
    except Undecided:
        verdict = "undecided"
    except SchemaError:  # the images do not compose or are not parallel
        verdict = "not an equation"
    return f"{lhs} = {rhs}: {verdict}"


def _print_structure(S: Schema, max_seconds: float, args_growth: int = GROWTH_LENGTH) -> None:
    """Completion, finiteness and hom-sets: what the equations make of the graph."""
    start = time.perf_counter()
    try:
        system = S.completion(max_seconds=max_seconds)
    except Undecided as err:
        print(f"completion: {_rules(len(err.system))} so far, NOT confluent "
              f"({err.system.reason}); equality is only semi-decided, hom-sets unknown")
        return
    ms = (time.perf_counter() - start) * 1e3
    print(f"completion: {_rules(len(system))}, confluent ({ms:.1f} ms)")
    for r in system.rules[:SHOWN_RULES]:
        print(f"  {r}")
    if len(system) > SHOWN_RULES:
        print(f"  … {len(system) - SHOWN_RULES} more")
    finite = S.is_finite()
    print(f"finite: yes, {S.size()} morphisms" if finite else "finite: no")
    _print_growth(S, args_growth)
    print("hom-sets:")
    reach = S.reachability()  # hom(A, B) is non-empty exactly when a path A -> B exists
    shown = 0
    for A in S.objects():
        for B in S.objects():
            if not reach.reaches(A, B):
                continue
            if shown == SHOWN_HOM_SETS:
                print("  … (more hom-sets not shown)")
                return
            shown += 1
            print(f"  {A} -> {B}: {_describe_hom(S, A, B)}")


def _describe_hom(S: Schema, A, B) -> str:
    """``n: first, …`` from one walk of the hom-set, or its first elements if infinite."""
    try:
        walk = S.hom(A, B)  # raises Infinite before walking anything
    except Infinite:
        first = itertools.islice(S.hom(A, B, max_length=INFINITE_PREFIX), SHOWN_PER_HOM)
        return f"infinite: {', '.join(map(str, first))}, …"
    first, n = [], 0
    for p in walk:
        if n < SHOWN_PER_HOM:
            first.append(str(p))
        n += 1
    return f"{n}: {', '.join(first)}{', …' if n > len(first) else ''}"


def _rules(n: int) -> str:
    return f"{n} rule" if n == 1 else f"{n} rules"


def cmd_equal(args: argparse.Namespace) -> int:
    bounds = {"max_rules": args.max_rules, "max_seconds": args.max_seconds}
    try:
        S = _load(args.file)
        p, q = S.path(args.p), S.path(args.q)
        verdict = S.equal(p, q, **bounds)
    except Undecided as err:
        print(f"undecided: {err}")
        return UNDECIDED
    except (SchemaError, ValueError) as err:
        print(f"cdl equal: error: {err}", file=sys.stderr)
        return BAD_INPUT
    if not verdict:
        print(f"not equal: {p} != {q} (normal forms {S.normal_form(p, **bounds)} and "
              f"{S.normal_form(q, **bounds)})")
        return NOT_EQUAL
    print(f"equal: {p} = {q}")
    if args.proof:
        print(S.prove(p, q, **bounds))
    return EQUAL


def cmd_paths(args: argparse.Namespace) -> int:
    S = _load(args.file)
    if args.count:  # computed from the adjacency matrix, nothing listed
        print(S.count_paths(args.max_length, dom=args.dom, cod=args.cod))
        return 0
    if args.limit < 0:
        raise SchemaError(f"--limit must be ≥ 0 (0: no limit), got {args.limit}")
    n = 0
    for p in S.paths(args.max_length, dom=args.dom, cod=args.cod):
        if n == args.limit and args.limit:
            total = _count_or_none(S, args)
            of = f" of {total}" if total is not None else ""
            print(f"stopped after {n} paths{of} (--limit {args.limit}); --limit 0 lists them "
                  f"all, --count counts them without listing", file=sys.stderr)
            return 0
        print(f"{p}  : {p.dom} -> {p.cod}")
        n += 1
    print(f"{n} paths", file=sys.stderr)
    return 0


def _count_or_none(S: Schema, args: argparse.Namespace) -> int | None:
    try:
        return S.count_paths(args.max_length, dom=args.dom, cod=args.cod, max_bits=256)
    except SchemaError:
        return None


def cmd_draw(args: argparse.Namespace) -> int:
    from category.drawing import draw, draw_map  # matplotlib: only when a picture is drawn

    if args.file.endswith(MAP_SUFFIX):
        draw_map(_load_map(args.file), args.output)
        print(f"wrote {args.output}")
        return 0
    S = _load(args.file)
    draw(S, args.output, engine=args.engine, equations=args.equations)
    print(f"wrote {args.output}")
    return 0


def add_commands(sub) -> None:
    """The schema commands' parsers, on ``cdl``'s sub-command list."""
    p = sub.add_parser("check", help="validate a .schema file and print what it presents; "
                                     "a .map file: list every way it fails to be a functor")
    p.add_argument("file")
    p.add_argument("--max-seconds", type=float, default=2.0, metavar="S",
                   help="time bound for Knuth–Bendix completion (default 2)")
    p.add_argument("--growth", type=int, default=GROWTH_LENGTH, metavar="N",
                   help=f"count morphisms and paths up to length N (default {GROWTH_LENGTH}; "
                        "-1: not at all)")
    p.set_defaults(run=cmd_check)

    p = sub.add_parser("equal", help="decide whether two paths are equal "
                                     "(exit 0 equal, 1 not, 2 undecided, 3 bad input)")
    p.add_argument("file")
    p.add_argument("p", metavar="P", help="a path, e.g. 'f.g.f' or 'id(Horse)'")
    p.add_argument("q", metavar="Q")
    p.add_argument("--proof", action="store_true", help="print the chain of equation steps")
    p.add_argument("--max-rules", type=int, default=5_000, metavar="N")
    p.add_argument("--max-seconds", type=float, default=2.0, metavar="S")
    p.set_defaults(run=cmd_equal)

    p = sub.add_parser("paths", help="list the free category's paths up to a length")
    p.add_argument("file")
    p.add_argument("--max-length", type=int, default=2, metavar="N")
    p.add_argument("--from", dest="dom", metavar="A", help="only paths starting at object A")
    p.add_argument("--to", dest="cod", metavar="B", help="only paths ending at object B")
    p.add_argument("--limit", type=int, default=DEFAULT_PATH_LIMIT, metavar="N",
                   help=f"stop after N paths (default {DEFAULT_PATH_LIMIT}; 0: no limit)")
    p.add_argument("--count", action="store_true",
                   help="print only how many paths there are, computed without listing them")
    p.set_defaults(run=cmd_paths)

    p = sub.add_parser("draw", help="draw the schema's graph and equations to an image; a "
                                    ".map file: source and target side by side")
    p.add_argument("file")
    p.add_argument("-o", "--output", default="schema.png", metavar="FILE",
                   help="picture to write: .png, .svg or .pdf (default schema.png)")
    p.add_argument("--engine", choices=("auto", "matplotlib", "dot"), default="auto",
                   help="Graphviz dot when installed (auto, the default), or matplotlib")
    p.add_argument("--equations", choices=("list", "diagrams"), default="list",
                   help="list the equations under the picture (default), or draw each as "
                        "its own small diagram (matplotlib)")
    p.set_defaults(run=cmd_draw)

