"""Hypothesis strategies for random presentations (shared by the category tests)."""

from __future__ import annotations

from hypothesis import strategies as st

from category import Schema


@st.composite
def multigraph_schemas(draw, max_objects: int = 5, max_arrows: int = 9,
                       min_arrows: int = 0) -> Schema:
    """A random schema: objects O0…, arrows a0… between random objects (loops and
    parallel arrows included), no equations."""
    n = draw(st.integers(1, max_objects))
    m = draw(st.integers(min_arrows, max_arrows))
    S = Schema("Random")
    obs = S.objects(*[f"O{i}" for i in range(n)])
    for j in range(m):
        S.arrow(f"a{j}", obs[draw(st.integers(0, n - 1))], obs[draw(st.integers(0, n - 1))])
    return S


@st.composite
def schemas_with_equations(draw, max_objects: int = 4, max_arrows: int = 7,
                           max_equations: int = 3, max_path: int = 2,
                           min_arrows: int = 0) -> Schema:
    """A random schema with equations between random parallel paths (up to ``max_path``
    arrows a side)."""
    S = draw(multigraph_schemas(max_objects, max_arrows, min_arrows))
    paths = list(S.paths(max_path))
    for _ in range(draw(st.integers(0, max_equations))):
        p = draw(st.sampled_from(paths))
        parallel = [q for q in paths if q.dom == p.dom and q.cod == p.cod]
        S.equate(p, draw(st.sampled_from(parallel)))
    return S
