"""How much a schema says: growth and entropy of every bundled schema, and cdl's
morphism counts against libsemigroups' on monoid presentations.

Two tables:

1. every bundled schema (``examples/*.schema``, ``runtime/experiments/*.schema``):
   ``S.growth(N)`` — the morphisms of each normal-form length beside the free paths of
   each length — and ``S.entropy()`` — both growth rates (log of the spectral radius,
   nats per arrow) and their difference;
2. one-object presentations (monoids): cdl's ``growth(N).morphisms`` against the
   number of normal forms of each length that libsemigroups' Knuth–Bendix finds (paths
   of each length from the root of its Gilman graph), and the time of each (completion
   and counting, median of 5, each on a fresh presentation). Where
   ``libsemigroups_pybind11`` is not installed (GPL: an outside comparison only, never
   a dependency) the table says so and shows cdl alone.

Both counts are of shortlex normal forms, and a shortlex normal form is a shortest word
of its element, so the counts per length do not depend on either library's letter order.
``--check`` exits 1 if any count differs (the CI-free cross-check).

Run: ``python3 benchmarks/bench_growth.py [--length N] [--check]``.
"""

from __future__ import annotations

import argparse
import glob
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the checkout's own packages, not an installed cdl

from category import Infinite, Schema  # noqa: E402
from tests.category.presentations import (  # noqa: E402
    DIHEDRAL8,
    QUATERNION,
    TWO_GENERATOR,
    coxeter,
    monoid,
)


def bundled() -> list[Path]:
    return [Path(p) for p in sorted(glob.glob(str(ROOT / "examples" / "*.schema")))
            + sorted(glob.glob(str(ROOT / "runtime" / "experiments" / "*.schema")))]


def seq(xs) -> str:
    return " ".join(str(x) for x in xs)


def schema_table(n: int) -> list[str]:
    rows = [f"| schema | file | objects / arrows / equations | morphisms | morphisms of length "
            f"0..{n} | free paths of length 0..{n} | ratio at {n} | entropy: paths | "
            f"morphisms | difference |",
            "|---|---|---|---:|---|---|---:|---:|---:|---:|"]
    for path in bundled():
        S = Schema.parse(path.read_text())
        g, e = S.growth(n), S.entropy()
        try:
            size = f"{S.size():,}"
        except Infinite:
            size = "∞"
        ratio = g.ratios[n]
        rows.append(f"| {S.name} | `{path.relative_to(ROOT)}` | {len(S.objects())} / "
                    f"{len(S.arrows)} / {len(S.equations)} | {size} | {seq(g.morphisms)} | "
                    f"{seq(g.paths)} | {'—' if ratio is None else f'{ratio:.3g}'} | "
                    f"{e.paths:.4f} | {e.morphisms:.4f} | {e.difference:.4f} |")
    return rows


def monoids() -> dict[str, Schema]:
    out = {"D8 (dihedral, order 8)": Schema.parse(DIHEDRAL8),
           "Q8 (quaternion)": Schema.parse(QUATERNION),
           "S5 (Coxeter)": coxeter(5),
           "S7 (Coxeter)": coxeter(7),
           "free commutative ⟨a, b | ab = ba⟩": monoid("ab", ("ab", "ba")),
           "⟨a, b | aa = 1⟩": monoid("ab", ("aa", "")),
           "⟨a, b, c | ab = ba, ac = ca⟩": monoid("abc", ("ab", "ba"), ("ac", "ca")),
           "⟨a, b | abbb = aabba, baaa = b⟩ (186 rules)": monoid("ab", *TWO_GENERATOR["abbb"]),
           "⟨a, b | ababbab = aaaab, baaaaaaa = aabaa⟩": monoid("ab", *TWO_GENERATOR["ababbab"])}
    return out


def words(S: Schema) -> tuple[str, list[tuple[str, str]]]:
    """A one-object schema as a monoid presentation: letters a, b, … in declaration order."""
    letters = {a: chr(ord("a") + i) for i, a in enumerate(S.arrows)}
    rules = [("".join(letters[a] for a in e.lhs.arrows), "".join(letters[a] for a in e.rhs.arrows))
             for e in S.equations]
    return "".join(letters.values()), rules


def cdl_counts(make, n: int) -> tuple[tuple[int, ...], float]:
    times = []
    for _ in range(5):
        S = make()
        start = time.perf_counter()
        counts = S.growth(n).morphisms
        times.append(time.perf_counter() - start)
    return counts, statistics.median(times)


def ls_counts(S: Schema, n: int) -> tuple[tuple[int, ...], float] | None:
    try:
        import libsemigroups_pybind11 as ls
    except ImportError:
        return None
    alphabet, rules = words(S)
    ls.ReportGuard(False)  # no progress lines on stdout
    times = []
    for _ in range(5):
        start = time.perf_counter()
        p = ls.Presentation(alphabet)
        p.contains_empty_word(True)
        for u, v in rules:
            ls.presentation.add_rule(p, u, v)
        kb = ls.KnuthBendix(ls.congruence_kind.twosided, p)
        kb.run()
        wg = kb.gilman_graph()
        counts = tuple(int(ls.paths.number_of_paths(wg, 0, k, k)) for k in range(n + 1))
        times.append(time.perf_counter() - start)
    return counts, statistics.median(times)


def monoid_table(n: int) -> tuple[list[str], bool]:
    try:
        import libsemigroups_pybind11 as ls
        version = getattr(ls, "__version__", "?")
        head = f"libsemigroups_pybind11 {version}"
    except ImportError:
        head = None
    rows = [f"| presentation | cdl: morphisms of length 0..{n} | cdl time | "
            f"{head or 'libsemigroups (not installed)'}: normal forms of length 0..{n} | "
            "libsemigroups time | equal | cdl entropy (morphisms) |",
            "|---|---|---:|---|---:|---|---:|"]
    ok = True
    for name, S in monoids().items():
        text = str(S)
        counts, t = cdl_counts(lambda text=text: Schema.parse(text), n)
        theirs = ls_counts(S, n)
        h = f"{S.entropy().morphisms:.4f}"
        name = name.replace("|", "\\|")  # a markdown cell
        if theirs is None:
            rows.append(f"| {name} | {seq(counts)} | {t * 1e3:.1f} ms | — | — | — | {h} |")
            continue
        same = theirs[0] == counts
        ok &= same
        rows.append(f"| {name} | {seq(counts)} | {t * 1e3:.1f} ms | {seq(theirs[0])} | "
                    f"{theirs[1] * 1e3:.1f} ms | {'yes' if same else '**NO**'} | {h} |")
    return rows, ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--length", type=int, default=6, metavar="N")
    parser.add_argument("--check", action="store_true",
                        help="exit 1 if cdl's and libsemigroups' counts differ")
    args = parser.parse_args()
    print("\n".join(schema_table(args.length)))
    print()
    rows, ok = monoid_table(max(args.length, 10))
    print("\n".join(rows))
    return 1 if args.check and not ok else 0


if __name__ == "__main__":
    sys.exit(main())
