"""Deciding path equality: Knuth–Bendix completion, counting, listing, equal queries.

Workloads (issue 3 targets in brackets; every timing is the median of several runs,
each on a freshly built schema so the per-schema completion cache never helps):

* S6 by its Coxeter presentation: completion + ``size()`` = 720        [< 0.1 s]
* S8: completion + ``size()`` = 40,320                                  [< 0.5 s]
* S8: listing all 40,320 morphisms through ``hom`` (completion done)    [< 1 s]
* a 30x30 grid of commuting squares (900 objects, 1,740 arrows, 841
  equations): completion + 10,000 random ``equal`` queries between
  parallel paths of length <= 30                                        [< 1 s]

Baseline, in the same run: the bounded brute-force search (breadth-first over single
equation applications in both directions, words up to the longer path's length + 2),
on the same kind of grid queries — all 10,000 are out of its reach (the equivalence
class of a length-30 path has up to C(30,15) = 155 M words), so it runs on short
queries (length <= 8, where it always succeeds) and on a sample of the long ones with a
budget of 20,000 words per query.

Issue 10 (a second table): ⟨a | a^n = 1⟩ for n = 200…1,600 (completion + ``size()``
[< 20 ms]), two infinite two-generator monoids with finite complete systems
(completion [< 0.3 s]), the braid monoid B3 (rules reached in 2 s), a trivial monoid's
completion and a proof on it (``prove`` + ``check_proof`` [< 1 s]; libsemigroups gives
no proofs, so that row has no ratio). Baseline: the implementation
before issue 10 (commit ``605693f``, ``--baseline REV``), checked out with ``git archive``
into a temporary folder and timed in a subprocess in the same run, with larger bounds so
that it can finish where it can. Where ``libsemigroups_pybind11`` is installed (GPL: an
outside comparison only, never a dependency) its Knuth–Bendix is timed on the same
presentations.

Run: ``python3 benchmarks/bench_equality.py`` — results in ``benchmarks/README.md``;
``--only kb`` runs the issue 10 table alone.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections import deque
from pathlib import Path

# The checkout's own packages, not whatever copy of cdl happens to be installed.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from category import Schema, Undecided, check_proof  # noqa: E402
from tests.category.presentations import coxeter  # noqa: E402


def grid(n: int, shuffle: int | None = None) -> tuple[Schema, dict, dict, dict]:
    """The grid; ``shuffle`` (a seed) declares the arrows in a random order instead of
    cell by cell. Declaration order is the shortlex letter order: cell by cell, every
    square's rule is d.r -> r.d and no two left sides overlap; shuffled, squares are
    oriented both ways and completion has to add the rules their overlaps need."""
    S = Schema(f"Grid{n}")
    ob = {(i, j): S.object(f"o{i}_{j}") for i in range(n) for j in range(n)}
    specs = []
    for i in range(n):
        for j in range(n):
            if j + 1 < n:
                specs.append(("r", i, j, (i, j + 1)))
            if i + 1 < n:
                specs.append(("d", i, j, (i + 1, j)))
    if shuffle is not None:
        random.Random(shuffle).shuffle(specs)
    r, d = {}, {}
    for kind, i, j, to in specs:
        (r if kind == "r" else d)[i, j] = S.arrow(f"{kind}{i}_{j}", ob[i, j], ob[to])
    for i in range(n - 1):
        for j in range(n - 1):
            S.equate(r[i, j] >> d[i, j + 1], d[i, j] >> r[i + 1, j])
    return S, ob, r, d


def grid_queries(n: int, count: int, max_length: int, seed: int, parts):
    """Random pairs of parallel paths: the same moves (right/down), shuffled twice."""
    _, ob, r, d = parts
    rng = random.Random(seed)

    def walk(i, j, moves):
        p = ob[i, j].id
        for m in moves:
            p = p >> (r[i, j] if m == "r" else d[i, j])
            i, j = (i, j + 1) if m == "r" else (i + 1, j)
        return p

    out = []
    while len(out) < count:
        length = rng.randint(0, max_length)
        nr = rng.randint(max(0, length - (n - 1)), min(n - 1, length))
        nd = length - nr
        i, j = rng.randint(0, n - 1 - nd), rng.randint(0, n - 1 - nr)
        moves = ["r"] * nr + ["d"] * nd
        rng.shuffle(moves)
        p = walk(i, j, moves)
        rng.shuffle(moves)
        out.append((p, walk(i, j, moves)))
    return out


def brute_equal(S: Schema, p, q, max_length: int, max_words: int) -> bool | None:
    """The baseline: BFS over equation steps from p; True, or None when it gives up.

    Equation sides are indexed by their first arrow, so each position of a word only
    tries the sides that can start there (a scan of all 1,682 sides per position would
    make the baseline a strawman)."""
    index: dict = {}
    for e in S.equations:
        for old, new in ((e.lhs.arrows, e.rhs.arrows), (e.rhs.arrows, e.lhs.arrows)):
            index.setdefault(old[0], []).append((old, new))  # no identity sides here
    seen = {p.arrows}
    todo = deque([p.arrows])
    goal = q.arrows
    while todo:
        w = todo.popleft()
        if w == goal:
            return True
        for pos, a in enumerate(w):
            for old, new in index.get(a, ()):
                k = len(old)
                if w[pos:pos + k] == old and len(w) - k + len(new) <= max_length:
                    v = w[:pos] + new + w[pos + k:]
                    if v not in seen:
                        seen.add(v)
                        todo.append(v)
                        if len(seen) > max_words:
                            return None
    return None


def scan_reduce(rules: list[tuple[str, str]], word: str) -> str:
    """The same rules without an index: every rewrite step scans every rule."""
    while True:
        for lhs, rhs in rules:
            i = word.find(lhs)
            if i >= 0:
                word = word[:i] + rhs + word[i + len(lhs):]
                break
        else:
            return word


def gap_script(n: int) -> str:
    """GAP: the same Coxeter presentation as a finitely presented monoid; times
    KnuthBendixRewritingSystem + MakeConfluent, then Size."""
    rels = [f"[g[{i + 1}]^2, One(F)]" for i in range(n - 1)]
    for i in range(n - 1):
        for j in range(i + 1, n - 1):
            a, b = f"g[{i + 1}]", f"g[{j + 1}]"
            rels.append(f"[{a}*{b}*{a}, {b}*{a}*{b}]" if j == i + 1 else f"[{a}*{b}, {b}*{a}]")
    names = ", ".join(f'"s{i}"' for i in range(1, n))
    return (f"F := FreeMonoid({names});; g := GeneratorsOfMonoid(F);;\n"
            f"M := F / [{', '.join(rels)}];;\n"
            "t0 := NanosecondsSinceEpoch();; rws := KnuthBendixRewritingSystem(M);;\n"
            "MakeConfluent(rws);; t1 := NanosecondsSinceEpoch();; s := Size(M);;\n"
            "t2 := NanosecondsSinceEpoch();;\n"
            'Print(Length(Rules(rws)), " ", (t1-t0)/1000, " ", s, " ", (t2-t1)/1000, "\\n");\n'
            "QUIT;\n")


def run_gap(n: int, timeout: float) -> tuple[int, float, int, float] | None:
    """(rules, completion s, size, Size s) from GAP, or None if it timed out."""
    import subprocess
    import tempfile

    with tempfile.NamedTemporaryFile("w", suffix=".g", delete=False) as fh:
        fh.write(gap_script(n))
    try:
        out = subprocess.run(["gap", "-q", "-b", fh.name], capture_output=True, text=True,
                             timeout=timeout).stdout.split()
    except subprocess.TimeoutExpired:
        return None
    rules, t_kb, size, t_size = out[-4:]
    return int(rules), int(t_kb) / 1e6, int(size), int(t_size) / 1e6


def median_time(fn, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


BASELINE = "605693f"  # the last commit before issue 10: the old completion and proofs


def monoid_text(letters: str, relations) -> str:
    """A one-object monoid presentation as schema text ("" is the identity)."""
    def word(w: str) -> str:
        return ".".join(w) if w else "id(X)"

    lines = ["object X", f"{', '.join(letters)} : X -> X"]
    lines += [f"{word(u)} = {word(v)}" for u, v in relations]
    return "\n".join(lines) + "\n"


KB_CASES = {  # name -> (letters, relations)
    **{f"a^{n}": ("a", [("a" * n, "")]) for n in (200, 400, 800, 1600)},
    "abbb": ("ab", [("abbb", "aabba"), ("baaa", "b")]),
    "ababbab": ("ab", [("ababbab", "aaaab"), ("baaaaaaa", "aabaa")]),
    "braid": ("ab", [("aba", "bab")]),
    "trivial": ("abc", [("bbab", ""), ("c", "bacba"), ("aa", "bcbac"), ("bc", "ccbcc")]),
}
# Rows on a presentation of KB_CASES under another name: a proof on the trivial monoid.
CASE_OF = {"prove": "trivial"}
KB_ROWS = [*KB_CASES, "prove"]

# One workload, timed on a fresh schema; the same code runs the baseline (old checkout)
# in a subprocess. Returns (seconds, result).
KB_DRIVER = """
import json, sys, time
sys.path.insert(0, sys.argv[1])
from category import Schema, Undecided, check_proof

def run(kind, text, max_seconds):
    S = Schema.parse(text)
    start, cpu = time.perf_counter(), time.process_time()
    if kind == "size":
        try:
            size = S.size(max_seconds=max_seconds)
            out = f"size {size}, {len(S.completion(max_seconds=max_seconds))} rules"
        except Undecided as err:
            out = f"Undecided after {max_seconds:g} s: {len(err.system)} rules"
    elif kind == "complete":
        try:
            out = f"{len(S.completion(max_seconds=max_seconds))} rules, confluent"
        except Undecided as err:
            out = f"Undecided after {max_seconds:g} s: {len(err.system)} rules"
    elif kind == "braid":
        try:
            S.completion(max_seconds=max_seconds)
            out = "confluent?!"
        except Undecided as err:
            out = f"{len(err.system)} rules"
    else:  # prove
        try:
            proof = S.prove("c.b.b", "b.a")
            check_proof(S, proof)
            out = f"{len(proof):,} steps unfolded, {getattr(proof, 'size', len(proof))} held"
        except Exception as err:
            out = f"{type(err).__name__}: {err}"
    return time.perf_counter() - start, time.process_time() - cpu, out

if __name__ == "__main__":
    print(json.dumps(run(sys.argv[2], sys.argv[3], float(sys.argv[4]))))
"""


def kb_kind(name: str) -> str:
    if name.startswith("a^"):
        return "size"
    return {"braid": "braid", "prove": "prove"}.get(name, "complete")


def kb_cdl(name: str, repeat: int) -> tuple[float, str]:
    """This checkout's median over ``repeat`` fresh schemas."""
    namespace: dict = {}
    exec(KB_DRIVER, namespace)
    letters, rels = KB_CASES[CASE_OF.get(name, name)]
    bound = 2.0 if name == "braid" else 20.0
    runs = [namespace["run"](kb_kind(name), monoid_text(letters, rels), bound)
            for _ in range(1 if name == "braid" else repeat)]
    return (statistics.median(t for t, _, _ in runs), statistics.median(c for _, c, _ in runs),
            runs[0][2])


def kb_baseline(root: str, name: str, timeout: float) -> tuple[float | None, str]:
    """The old implementation (checked out under ``root``), one run in a subprocess."""
    letters, rels = KB_CASES[CASE_OF.get(name, name)]
    bound = {"braid": 2.0, "prove": 2.0}.get(name, 10.0)
    try:
        done = subprocess.run([sys.executable, "-c", KB_DRIVER, root, kb_kind(name),
                               monoid_text(letters, rels), str(bound)],
                              capture_output=True, text=True, timeout=timeout, check=True)
    except subprocess.TimeoutExpired:
        return None, f"killed after {timeout:g} s"
    t, _, out = json.loads(done.stdout.splitlines()[-1])
    return t, out


def kb_libsemigroups(name: str, repeat: int) -> tuple[float, str] | None:
    """libsemigroups' Knuth–Bendix (+ number of classes) on the same presentation."""
    if name == "prove":
        return None  # libsemigroups gives no proofs
    try:
        import libsemigroups_pybind11 as ls
    except ImportError:
        return None
    from datetime import timedelta

    guard = ls.ReportGuard(False)  # noqa: F841 (silences its progress report)
    letters, rels = KB_CASES[name]
    times, out = [], ""
    for _ in range(1 if name == "braid" else repeat):
        p = ls.Presentation(letters)
        p.contains_empty_word(True)
        for u, v in rels:
            ls.presentation.add_rule(p, u, v)
        start = time.perf_counter()
        kb = ls.KnuthBendix(ls.congruence_kind.twosided, p)
        if name == "braid":
            kb.run_for(timedelta(seconds=2))
            out = f"{kb.number_of_active_rules()} rules"
        else:
            kb.run()
            n = kb.number_of_classes()
            out = f"{kb.number_of_active_rules()} rules" + (
                f", size {n}" if name.startswith("a^") else "")
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def braid_sound(seconds: float = 2.0) -> str:
    """Every rule of cdl's partial braid system, proved and checked by the equations."""
    S = Schema.parse(monoid_text(*KB_CASES["braid"]))
    try:
        S.completion(max_seconds=seconds)
    except Undecided as err:
        rules = err.system.rules
    ok = sum(check_proof(S, S.prove(r.lhs, r.rhs, max_seconds=seconds)) for r in rules)
    return f"a second 2 s run: all its {ok} rules proved by check_proof"


def times(ratio: float) -> str:
    """A speed-up as a factor: a decimal below 10 (0.6× is a slow-down, not 1×)."""
    return f"{ratio:,.1f}×" if ratio < 10 else f"{ratio:,.0f}×"


def kb_table(repeat: int, baseline: str | None) -> list[str]:
    targets = {**{f"a^{n}": 0.02 for n in (200, 400, 800, 1600)}, "abbb": 0.3,
               "ababbab": 0.3, "prove": 1.0}
    label = {**{f"a^{n}": f"⟨a \\| a^{n} = 1⟩: completion + size()" for n in (200, 400, 800, 1600)},
             "abbb": "⟨a,b \\| abbb = aabba, baaa = b⟩: completion",
             "ababbab": "⟨a,b \\| ababbab = aaaab, baaaaaaa = aabaa⟩: completion",
             "braid": "braid monoid B3 ⟨a,b \\| aba = bab⟩: rules in 2 s",
             "trivial": "trivial monoid ⟨a,b,c \\| bbab = 1, c = bacba, aa = bcbac, "
                        "bc = ccbcc⟩: completion",
             "prove": "the same: prove(c.b.b, b.a) + check_proof"}
    root = None
    if baseline:
        root = tempfile.mkdtemp(prefix="cdl-baseline-")
        repo = Path(__file__).resolve().parent.parent
        archive = subprocess.run(["git", "-C", str(repo), "archive", baseline, "category"],
                                 capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", root], input=archive, check=True)
    rows = []
    for name in KB_ROWS:
        t, cpu, out = kb_cdl(name, repeat)
        target = targets.get(name)
        met = "" if target is None else ("yes" if t < target else "**no**")
        shown_target = "" if target is None else f"< {target * 1e3:g} ms"
        if name == "braid":
            out += f" ({braid_sound()})"
        if root:
            tb, outb = kb_baseline(root, name, timeout=60)
            base = (f"{tb * 1e3:,.1f} ms — {outb}" if tb is not None else outb)
            if tb is None or name == "braid":
                speed = ""
            elif "Undecided" in outb:  # stopped at its bound: a lower bound on the speed-up
                speed = f"> {times(tb / t)}"
            elif "Error" in outb:
                speed = "no proof"
            else:
                speed = times(tb / t)
        else:
            base, speed = "", ""
        ls = kb_libsemigroups(name, repeat)
        if name == "prove":
            lib, ratio = "(gives no proofs)", ""
        elif ls is None:
            lib, ratio = "not installed", ""
        else:
            tl, outl = ls
            lib = f"{tl * 1e3:,.1f} ms — {outl}"
            ratio = f"{t / tl:,.1f}" if name != "braid" else ""
        rows.append(f"| {label[name]} | {t * 1e3:,.1f} ms (CPU {cpu * 1e3:,.1f} ms) — {out} "
                    f"| {shown_target} | {met} | "
                    f"{base} | {speed} | {lib} | {ratio} |")
    head = [f"| workload | cdl | target | met | baseline {baseline or '(skipped)'} | speed-up "
            "| libsemigroups | cdl time / libsemigroups |",
            "|---|---|---|---|---|---:|---|---:|"]
    return head + rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--gap", action="store_true",
                    help="also time GAP's Knuth-Bendix and Size on S6, S7, S8 (needs `gap`)")
    ap.add_argument("--baseline", default=BASELINE,
                    help="git revision of the old implementation for the issue 10 table "
                         "('' to skip)")
    ap.add_argument("--only", choices=["kb"], help="run only the issue 10 table")
    args = ap.parse_args()
    kb = kb_table(args.repeat, args.baseline or None)
    if args.only == "kb":
        print("\n".join(kb))
        return
    rows = []

    def row(workload, result, seconds, target, extra=""):
        ok = "yes" if seconds < target else "**no**"
        rows.append(f"| {workload} | {result} | {seconds * 1e3:.1f} ms | < {target:g} s | {ok} "
                    f"| {extra} |")

    def coxeter_size(n: int):
        S = coxeter(n)  # fresh each run: completion is cached per schema
        return S.size(), len(S.completion())

    for n, target in ((6, 0.1), (8, 0.5)):
        t, (size, rules) = median_time(lambda n=n: coxeter_size(n), args.repeat)
        row(f"S{n} (Coxeter): completion + size()", f"{size:,} morphisms, {rules} rules",
            t, target)

    S8 = coxeter(8)
    S8.completion()
    t, listed = median_time(lambda: sum(1 for _ in S8.hom("X", "X")), args.repeat)
    row("S8: list hom(X, X) (completed)", f"{listed:,} paths", t, 1.0,
        f"{listed / t / 1e6:.2f} M paths/s")

    n = 30
    parts = grid(n)
    queries = grid_queries(n, 10_000, 30, seed=0, parts=parts)

    def grid_run(shuffle=None, queries=queries):
        S, *_ = grid(n, shuffle)  # fresh: the completion is part of the timing
        start = time.perf_counter()
        S.completion()
        done = time.perf_counter()
        answers = [S.equal(p, q) for p, q in queries]
        end = time.perf_counter()
        return end - start, done - start, answers, S

    runs = [grid_run() for _ in range(args.repeat)]
    t = statistics.median(r[0] for r in runs)
    t_complete = statistics.median(r[1] for r in runs)
    answers, S30 = runs[0][2], runs[0][3]
    assert all(answers)
    qps = len(queries) / (t - t_complete)
    row("30x30 grid: completion + 10,000 equal (length <= 30)",
        f"{sum(answers):,} equal, {len(S30.completion())} rules", t, 1.0,
        f"completion {t_complete * 1e3:.0f} ms; {qps / 1e3:.1f} k queries/s")

    # The same workload with the arrows declared in a random order.
    shuffled = grid_queries(n, 10_000, 30, seed=0, parts=grid(n, shuffle=1))
    runs = [grid_run(1, shuffled) for _ in range(args.repeat)]
    t = statistics.median(r[0] for r in runs)
    t_complete = statistics.median(r[1] for r in runs)
    assert all(runs[0][2])
    row("30x30 grid, arrows declared in random order: completion + 10,000 equal",
        f"{sum(runs[0][2]):,} equal, {len(runs[0][3].completion())} rules", t, 1.0,
        f"completion {t_complete * 1e3:.0f} ms; "
        f"{len(shuffled) / (t - t_complete) / 1e3:.1f} k queries/s")

    # The index's worth: the same completed rules, reduction by scanning all of them.
    system = S30.completion()
    rules = [(system.alphabet.encode(r.lhs), system.alphabet.encode(r.rhs))
             for r in system.rules]
    enc = system.alphabet.encode
    some = queries[:1_000]
    t_scan, _ = median_time(lambda: [scan_reduce(rules, enc(p)) == scan_reduce(rules, enc(q))
                                     for p, q in some], 1)
    t_auto, _ = median_time(lambda: [S30.equal(p, q) for p, q in some], args.repeat)
    rows.append(f"| same rules, no index: scan every rule per rewrite, first 1,000 queries | "
                f"all equal | {t_scan * 1e3:.0f} ms | | | {len(some) / t_scan:,.0f} queries/s "
                f"(cdl's automaton: {len(some) / t_auto:,.0f} queries/s, "
                f"{t_scan / t_auto:.0f}x) |")

    # Baseline on short queries it can finish, and on a sample of the real ones.
    short = grid_queries(n, 300, 8, seed=1, parts=parts)
    t_brute, found = median_time(lambda: [brute_equal(S30, p, q, len(p) + 2, 10**6)
                                          for p, q in short], 1)
    t_cdl, mine = median_time(lambda: [S30.equal(p, q) for p, q in short], args.repeat)
    assert all(found) and all(mine)
    rows.append(f"| baseline: brute-force BFS, 300 grid queries of length <= 8 | all equal | "
                f"{t_brute * 1e3:.1f} ms | | | {len(short) / t_brute:,.0f} queries/s "
                f"(cdl on the same: {len(short) / t_cdl:,.0f} queries/s, "
                f"{t_brute / t_cdl:.0f}x) |")
    sample = queries[:40]
    start = time.perf_counter()
    long_found = [brute_equal(S30, p, q, len(p) + 2, 20_000) for p, q in sample]
    t_long = time.perf_counter() - start
    settled = sum(1 for x in long_found if x)
    rows.append(f"| baseline: brute-force BFS, first 40 of the 10,000 queries, 20,000 words "
                f"each | {settled}/40 decided | {t_long * 1e3:.0f} ms | | | "
                f"{len(sample) / t_long:,.1f} queries/s, {40 - settled} given up |")

    if args.gap:
        for k in (6, 7, 8):
            t_cdl, _ = median_time(lambda k=k: coxeter(k).size(), args.repeat)
            got = run_gap(k, timeout=600)
            if got is None:
                rows.append(f"| GAP 4.12: S{k} KnuthBendix + Size | timed out | > 600 s | | | |")
                continue
            rules, t_kb, size, t_size = got
            rows.append(f"| GAP 4.12: S{k} KnuthBendix + Size | {size:,} ({rules} rules) | "
                        f"{(t_kb + t_size) * 1e3:.1f} ms | | | completion {t_kb * 1e3:.1f} ms, "
                        f"Size {t_size * 1e3:.0f} ms; cdl completion + size() "
                        f"{t_cdl * 1e3:.1f} ms: {(t_kb + t_size) / t_cdl:,.0f}x faster |")

    print("| workload | result | time (median) | target | met | notes |")
    print("|---|---|---:|---|---|---|")
    print("\n".join(rows))
    print()
    print("\n".join(kb))


if __name__ == "__main__":
    main()
