"""Known presentations and the bounded brute-force baseline (shared by tests and benchmarks)."""

from __future__ import annotations

from collections import deque

from hypothesis import strategies as st

from category import Path, ProofStep, Schema

from .strategies import schemas_with_equations


def coxeter(n: int) -> Schema:
    """The symmetric group S_n on one object: s_i.s_i = id, braid and commutation relations."""
    S = Schema(f"S{n}")
    X = S.object("X")
    s = [S.arrow(f"s{i}", X, X) for i in range(1, n)]
    for i in range(n - 1):
        S.equate(s[i] >> s[i], X.id)
    for i in range(n - 1):
        for j in range(i + 1, n - 1):
            if j == i + 1:
                S.equate(s[i] >> s[j] >> s[i], s[j] >> s[i] >> s[j])
            else:
                S.equate(s[i] >> s[j], s[j] >> s[i])
    return S


def grid(n: int) -> Schema:
    """An n x n grid of objects o{i}_{j}, arrows right r and down d, every square commuting."""
    S = Schema(f"Grid{n}")
    ob = {(i, j): S.object(f"o{i}_{j}") for i in range(n) for j in range(n)}
    r, d = {}, {}
    for i in range(n):
        for j in range(n):
            if j + 1 < n:
                r[i, j] = S.arrow(f"r{i}_{j}", ob[i, j], ob[i, j + 1])
            if i + 1 < n:
                d[i, j] = S.arrow(f"d{i}_{j}", ob[i, j], ob[i + 1, j])
    for i in range(n - 1):
        for j in range(n - 1):
            S.equate(r[i, j] >> d[i, j + 1], d[i, j] >> r[i + 1, j])
    return S


def grid_path(S: Schema, i: int, j: int, moves: str) -> Path:
    """The path from o{i}_{j} following moves like 'rrdr' (right, down)."""
    p = S[f"o{i}_{j}"].id
    for m in moves:
        p = p >> S[f"{m}{i}_{j}"]
        i, j = (i, j + 1) if m == "r" else (i + 1, j)
    return p


DIHEDRAL8 = "schema D8\nobject X\nr, s : X -> X\nr.r.r.r = id(X)\ns.s = id(X)\ns.r.s = r.r.r\n"
QUATERNION = "schema Q8\nobject X\ni, j : X -> X\ni.i.i.i = id(X)\ni.i = j.j\nj.i.j = i\n"
BRAID = "schema Braid\nobject X\na, b : X -> X\na.b.a = b.a.b\n"
FREE_LOOP = "schema Loop\nobject X\nf : X -> X\n"


def neighbours(S: Schema, word: tuple, dom, max_length: int):
    """Every word one equation step (either direction, any position) away, within a length."""
    for eq in S.equations:
        for old, new in ((eq.lhs, eq.rhs), (eq.rhs, eq.lhs)):
            k = len(old)
            if len(word) - k + len(new) > max_length:
                continue
            for pos in range(len(word) - k + 1):
                here = dom if pos == 0 else word[pos - 1].cod
                if here == old.dom and word[pos:pos + k] == old.arrows:
                    step = ProofStep(eq, pos, old is eq.lhs)
                    yield word[:pos] + new.arrows + word[pos + k:], step


def brute_force(S: Schema, p: Path, q: Path, max_length: int, max_words: int = 200_000):
    """Breadth-first search over equation steps from p, words up to max_length; the steps
    of a shortest chain to q, or None. The baseline: no rules, no orientation."""
    start, goal = p.arrows, q.arrows
    parent = {start: None}
    todo = deque([start])
    while todo:
        w = todo.popleft()
        if w == goal:
            steps = []
            while parent[w] is not None:
                w, step = parent[w]
                steps.append(step)
            return steps[::-1]
        for v, step in neighbours(S, w, p.dom, max_length):
            if v not in parent:
                parent[v] = (w, step)
                todo.append(v)
                if len(parent) > max_words:
                    return None
    return None


def presentations(max_objects: int = 3, max_arrows: int = 4, max_equations: int = 3):
    """A random small presentation: a multigraph plus equations between parallel paths of
    length up to 3 (so completion may or may not finish)."""
    return schemas_with_equations(max_objects, max_arrows, max_equations, max_path=3,
                                  min_arrows=1)


@st.composite
def presentation_and_paths(draw, max_length: int = 3):
    """A random presentation and two parallel paths of it (often related by its equations)."""
    S = draw(presentations())
    paths = list(S.paths(max_length))
    p = draw(st.sampled_from(paths))
    if draw(st.booleans()):
        parallel = [q for q in paths if q.dom == p.dom and q.cod == p.cod]
        return S, p, draw(st.sampled_from(parallel))
    # A random walk of equation steps: a pair that is equal, often non-trivially.
    word = p.arrows
    for _ in range(draw(st.integers(1, 4))):
        options = [w for w, _ in neighbours(S, word, p.dom, max_length + 3)]
        if not options:
            break
        word = draw(st.sampled_from(options))
    return S, p, Path(p.dom, p.cod, word)


def monoid(letters: str, *relations: tuple[str, str], name: str = "M") -> Schema:
    """A one-object monoid presentation from words like ("abbb", "aabba"); "" is id."""
    S = Schema(name)
    X = S.object("X")
    gens = {c: S.arrow(c, X, X) for c in letters}

    def path(word):
        p = X.id
        for c in word:
            p = p >> gens[c]
        return p

    for u, v in relations:
        S.equate(path(u), path(v))
    return S


# Issue 10's presentations: infinite two-generator monoids with finite complete systems,
# and a trivial monoid whose proofs unfold into tens of millions of equation steps.
TWO_GENERATOR = {
    "abbb": (("abbb", "aabba"), ("baaa", "b")),            # 186 rules
    "ababbab": (("ababbab", "aaaab"), ("baaaaaaa", "aabaa")),  # 118 rules
}
TRIVIAL = (("bbab", ""), ("c", "bacba"), ("aa", "bcbac"), ("bc", "ccbcc"))
