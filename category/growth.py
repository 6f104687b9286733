"""How much a schema says: its morphisms counted by length, beside the free category's paths.

The free category on a schema's graph has as many paths of length ``k`` as the sum of
the entries of ``M^k``, ``M`` the adjacency matrix (arrows counted with multiplicity).
The presented category has fewer morphisms: each equation glues paths together. With a
confluent rewriting system every morphism has exactly one irreducible word (its normal
form, shortlex), and the irreducible words are the paths of the automaton's
non-matching states (:mod:`category.morphisms`), so both are counted by one vector step
per length — nothing is listed.

The ratio ``morphisms[k] / paths[k]`` is what is left of length ``k`` once the
equations are imposed; the *entropy* (``log`` of the spectral radius of each graph, the
exponential growth rate of the counts; ``0`` when they stay bounded or polynomial) says
the same in one number per category, and their difference is how much, per arrow, the
equations constrain.

>>> from category import Schema
>>> S = Schema.parse(open("examples/cyclegan.schema").read())
>>> g = S.growth(4)
>>> g.morphisms, g.paths
((2, 2, 0, 0, 0), (2, 2, 2, 2, 2))
>>> e = S.entropy()
>>> e.paths, e.morphisms, e.difference          # finite: 4 morphisms, infinitely many paths
(0.0, 0.0, 0.0)
>>> F = Schema.parse("object X\\na, b : X -> X\\na.b = b.a")   # commuting: k+1 of 2^k
>>> F.growth(4).morphisms, F.growth(4).paths
((1, 2, 3, 4, 5), (1, 2, 4, 8, 16))
>>> round(F.entropy().paths, 6), F.entropy().morphisms     # log 2 per arrow, constrained away
(0.693147, 0.0)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from . import messages
from .errors import BoundError

# Power iteration stops when the Collatz–Wielandt bounds agree to this relative width,
# or after this many steps (the bounds are then reported as they are).
_TOLERANCE = 1e-12
_MAX_STEPS = 20_000


@dataclass(frozen=True)
class Growth:
    """``morphisms[k]``: the morphisms whose normal form has ``k`` arrows; ``paths[k]``:
    the free category's paths of ``k`` arrows (``k = 0`` counts the identities)."""

    morphisms: tuple[int, ...]
    paths: tuple[int, ...]

    @property
    def ratios(self) -> tuple[float | None, ...]:
        """The constraint ratio ``morphisms[k] / paths[k]`` per length (``None`` where
        the graph has no path of that length)."""
        return tuple(m / p if p else None for m, p in zip(self.morphisms, self.paths))

    def __str__(self) -> str:
        cells = [("length", [str(k) for k in range(len(self.paths))]),
                 ("morphisms", [str(m) for m in self.morphisms]),
                 ("paths", [str(p) for p in self.paths]),
                 ("ratio", ["-" if r is None else f"{r:.3g}" for r in self.ratios])]
        width = [max(len(row[k]) for _, row in cells) for k in range(len(self.paths))]
        head = max(len(name) for name, _ in cells)
        return "\n".join(f"{name:<{head}}  " + "  ".join(f"{c:>{w}}" for c, w in zip(row, width))
                         for name, row in cells)


@dataclass(frozen=True)
class Entropy:
    """Exponential growth rates, in nats per arrow: ``paths`` of the free category (log of
    the adjacency matrix's spectral radius), ``morphisms`` of the presented category (log
    of the spectral radius of its irreducible-word automaton); 0 for bounded or
    polynomial growth (a finite category, a commutative monoid)."""

    paths: float
    morphisms: float
    paths_radius: float
    morphisms_radius: float

    @property
    def difference(self) -> float:
        """``paths - morphisms``: what the equations take away, per arrow (≥ 0)."""
        return max(0.0, self.paths - self.morphisms)

    def __str__(self) -> str:
        return (f"paths {self.paths:.4g} (ρ {self.paths_radius:.4g}), morphisms "
                f"{self.morphisms:.4g} (ρ {self.morphisms_radius:.4g}), difference "
                f"{self.difference:.4g} nats per arrow")


def _check(n: object) -> int:
    if not isinstance(n, int) or isinstance(n, bool) or n < 0:
        raise BoundError(messages.bad_path_length(n))
    return n


def path_counts(schema, n: int) -> tuple[int, ...]:
    """The free category's paths of each length ``0..n`` (adjacency-matrix steps)."""
    _check(n)
    objects = schema.objects()
    index = {o: i for i, o in enumerate(objects)}
    out: list[list[int]] = [[] for _ in objects]
    for a in schema.arrows:
        out[index[a.dom]].append(index[a.cod])
    row = [1] * len(objects)  # paths of the current length ending at each object
    counts = [sum(row)]
    for _ in range(n):
        nxt = [0] * len(objects)
        for i, x in enumerate(row):
            if x:
                for j in out[i]:
                    nxt[j] += x
        row = nxt
        counts.append(sum(row))
    return tuple(counts)


def morphism_counts(schema, n: int, **bounds) -> tuple[int, ...]:
    """The morphisms whose normal form has each length ``0..n``, counted on the
    automaton of irreducible words (one vector step per length)."""
    from .morphisms import _graph

    _check(n)
    g = _graph(schema, bounds)
    layer: dict[int, int] = {}
    for o in schema.objects():
        for s in g.starts[o]:
            layer[s] = layer.get(s, 0) + 1
    counts = [len(schema.objects())]
    for _ in range(n):
        counts.append(sum(layer.values()))
        nxt: dict[int, int] = {}
        for s, x in layer.items():
            for t in g.succ[s]:
                nxt[t] = nxt.get(t, 0) + x
        layer = nxt
    return tuple(counts)


def growth(schema, n: int, **bounds) -> Growth:
    """:class:`Growth` of ``schema`` up to length ``n``."""
    _check(n)
    return Growth(morphism_counts(schema, n, **bounds), path_counts(schema, n))


def entropy(schema, **bounds) -> Entropy:
    """:class:`Entropy` of ``schema``: both spectral radii, from their graphs' strongly
    connected components (power iteration on each, bracketed by Collatz–Wielandt
    bounds)."""
    from .morphisms import _graph

    objects = schema.objects()
    index = {o: i for i, o in enumerate(objects)}
    adj: list[list[int]] = [[] for _ in objects]
    for a in schema.arrows:
        adj[index[a.dom]].append(index[a.cod])
    rho_paths = spectral_radius(adj, range(len(objects)))
    g = _graph(schema, bounds)
    if g.cyclic:
        rho_morphisms = spectral_radius(g.succ, [t for ts in g.starts.values() for t in ts])
    else:
        rho_morphisms = 0.0
    return Entropy(_log(rho_paths), _log(rho_morphisms), rho_paths, rho_morphisms)


def _log(rho: float) -> float:
    return math.log(rho) if rho > 1 else 0.0


def spectral_radius(succ, roots) -> float:
    """The spectral radius of the graph ``succ`` (state → successors, each edge once per
    listing) restricted to what ``roots`` reach: the largest over its strongly connected
    components (0 when it has no cycle).

    >>> spectral_radius([[0, 0]], [0])      # two loops on one state
    2.0
    >>> round(spectral_radius([[0, 1], [0]], [0]), 9)   # Fibonacci: the golden ratio
    1.618033989
    >>> spectral_radius([[1], []], [0])     # no cycle
    0.0
    """
    best = 0.0
    for comp in _components(succ, roots):
        inside = set(comp)
        local = {s: i for i, s in enumerate(comp)}
        rows = [[local[t] for t in succ[s] if t in inside] for s in comp]
        if not any(rows):
            continue  # one state without a loop
        best = max(best, _perron(rows))
    return best


def _perron(rows: list[list[int]]) -> float:
    """The Perron root of an irreducible non-negative matrix given by rows of column
    indices: power iteration on ``A + I`` (primitive, so it converges), stopped when the
    Collatz–Wielandt bounds ``min (Ax)_i/x_i ≤ ρ ≤ max (Ax)_i/x_i`` meet."""
    n = len(rows)
    if all(len(r) == 1 for r in rows):
        return 1.0  # a simple cycle
    x = [1.0] * n
    lo = hi = 0.0
    for _ in range(_MAX_STEPS):
        y = [sum(x[j] for j in r) for r in rows]
        ratios = [y[i] / x[i] for i in range(n)]
        lo, hi = min(ratios), max(ratios)
        if hi - lo <= _TOLERANCE * hi:
            break
        z = [a + b for a, b in zip(x, y)]
        top = max(z)
        x = [v / top for v in z]
    return (lo + hi) / 2


def _components(succ, roots) -> list[list[int]]:
    """The strongly connected components reachable from ``roots`` (Tarjan, iterative)."""
    index: dict[int, int] = {}
    low: dict[int, int] = {}
    on_stack: set[int] = set()
    stack: list[int] = []
    out: list[list[int]] = []
    counter = 0
    for root in roots:
        if root in index:
            continue
        work = [(root, iter(succ[root]))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            s, it = work[-1]
            advanced = False
            for t in it:
                if t not in index:
                    index[t] = low[t] = counter
                    counter += 1
                    stack.append(t)
                    on_stack.add(t)
                    work.append((t, iter(succ[t])))
                    advanced = True
                    break
                if t in on_stack:
                    low[s] = min(low[s], index[t])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[s])
            if low[s] == index[s]:
                comp = []
                while True:
                    t = stack.pop()
                    on_stack.discard(t)
                    comp.append(t)
                    if t == s:
                        break
                out.append(comp)
    return out
