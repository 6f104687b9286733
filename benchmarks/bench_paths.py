"""Free-category path enumeration: cdl's ``Schema.paths`` against a minimal enumerator.

Workload: a random schema with 200 objects and 1,000 arrows (seeded); enumerate every
path of length 0..4 (about 150 k paths). Baseline, in the same run: the minimal
correct thing a user would write — a frozen-dataclass ``Path`` and a depth-first walk
that builds one ``Path`` per word. Throughput is the median of 7 timed runs (each
consumes the whole generator); peak memory is measured in a separate run under
``tracemalloc`` (which slows Python down, so never mixed with the timing).

Run: ``python3 benchmarks/bench_paths.py`` — results in ``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
import tracemalloc
from dataclasses import dataclass

from category import Schema


def random_schema(n_objects: int, n_arrows: int, seed: int = 0) -> Schema:
    rng = random.Random(seed)
    S = Schema("Random")
    obs = S.objects(*[f"O{i}" for i in range(n_objects)])
    for j in range(n_arrows):
        S.arrow(f"a{j}", rng.choice(obs), rng.choice(obs))
    return S


@dataclass(frozen=True)
class MinimalPath:
    dom: object
    cod: object
    arrows: tuple


def minimal_paths(S: Schema, max_length: int):
    """Baseline: depth-first, one frozen dataclass per path, no ordering guarantees."""
    out = {o: S.out_arrows(o) for o in S.objects()}
    for o in S.objects():
        yield MinimalPath(o, o, ())
        stack = [MinimalPath(o, o, ())]
        while stack:
            p = stack.pop()
            if len(p.arrows) == max_length:
                continue
            for a in out[p.cod]:
                q = MinimalPath(p.dom, a.cod, p.arrows + (a,))
                yield q
                stack.append(q)


def cdl_paths(S: Schema, max_length: int):
    return S.paths(max_length)


def count(gen) -> int:
    n = 0
    for _ in gen:
        n += 1
    return n


def measure(fn, S, max_length, repeats):
    times, n = [], 0
    for _ in range(repeats):
        t0 = time.perf_counter()
        n = count(fn(S, max_length))
        times.append(time.perf_counter() - t0)
    tracemalloc.start()
    count(fn(S, max_length))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return n, statistics.median(times), peak


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--objects", type=int, default=200)
    ap.add_argument("--arrows", type=int, default=1000)
    ap.add_argument("--max-length", type=int, default=4)
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args(argv)
    S = random_schema(args.objects, args.arrows)
    rows = []
    # alternate the two so that machine noise hits both alike
    contenders = {"minimal frozen-dataclass DFS (baseline)": minimal_paths,
                  "cdl Schema.paths": cdl_paths}
    results: dict[str, list] = {name: [] for name in contenders}
    for _ in range(2):
        for name, fn in contenders.items():
            results[name].append(measure(fn, S, args.max_length, args.repeats))
    counts = {name: runs[0][0] for name, runs in results.items()}
    assert len(set(counts.values())) == 1, f"enumerators disagree on the count: {counts}"
    base = None
    for name, runs in results.items():
        n = runs[0][0]
        t = min(r[1] for r in runs)
        peak = max(r[2] for r in runs)
        rate = n / t
        base = base or rate
        rows.append((name, n, t, rate, rate / base, peak))
    print(f"schema: {args.objects} objects, {args.arrows} arrows; "
          f"paths of length 0..{args.max_length}")
    print()
    print("| enumerator | paths | time (s) | paths/s | vs baseline | peak memory |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, n, t, rate, ratio, peak in rows:
        print(f"| {name} | {n:,} | {t:.3f} | {rate / 1e6:.2f} M | {ratio:.2f}× | "
              f"{peak / 2**20:.2f} MiB |")


if __name__ == "__main__":
    main()
