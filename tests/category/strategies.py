"""Hypothesis strategies for random presentations (shared by the category tests)."""

from __future__ import annotations

from hypothesis import strategies as st

from category import Schema


@st.composite
def multigraph_schemas(draw, max_objects: int = 5, max_arrows: int = 9) -> Schema:
    """A random schema: objects O0…, arrows a0… between random objects (loops and
    parallel arrows included), no equations."""
    n = draw(st.integers(1, max_objects))
    m = draw(st.integers(0, max_arrows))
    S = Schema("Random")
    obs = S.objects(*[f"O{i}" for i in range(n)])
    for j in range(m):
        S.arrow(f"a{j}", obs[draw(st.integers(0, n - 1))], obs[draw(st.integers(0, n - 1))])
    return S


@st.composite
def schemas_with_equations(draw, max_objects: int = 4, max_arrows: int = 7) -> Schema:
    """A random schema with a few equations between random parallel paths."""
    S = draw(multigraph_schemas(max_objects, max_arrows))
    paths = list(S.paths(2))
    k = draw(st.integers(0, 3))
    for _ in range(k):
        p = draw(st.sampled_from(paths))
        parallel = [q for q in paths if q.dom == p.dom and q.cod == p.cod]
        S.equate(p, draw(st.sampled_from(parallel)))
    return S
