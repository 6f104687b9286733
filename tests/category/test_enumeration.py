import tracemalloc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from category import BoundError, Schema
from category.enumeration import free_paths

from .strategies import multigraph_schemas


def test_order_is_length_then_names():
    S = Schema.parse("object A, B\ng : A -> B\nf : A -> B\nh : B -> A\nl : A -> A")
    got = [str(p) for p in S.paths(2)]
    assert got == ["id(A)", "id(B)", "f", "g", "h", "l",
                   "f.h", "g.h", "h.f", "h.g", "h.l", "l.f", "l.g", "l.l"]


def test_paths_compose_and_filters_apply():
    S = Schema.parse("object A, B, C\nf : A -> B\ng : B -> C\nk : C -> A\nl : B -> B")
    for p in S.paths(5):
        assert p.dom == (p.arrows[0].dom if p.arrows else p.dom)
        for a, b in zip(p.arrows, p.arrows[1:]):
            assert a.cod == b.dom
    from_b_to_a = list(S.paths(4, dom="B", cod="A"))
    assert [str(p) for p in from_b_to_a] == ["g.k", "l.g.k", "l.l.g.k"]
    assert [str(p) for p in S.paths(0, dom="C")] == ["id(C)"]


def test_is_lazy_and_memory_does_not_grow_with_the_number_of_paths():
    S = Schema("Loops")
    (X,) = S.objects("X")
    for i in range(4):
        S.arrow(f"a{i}", X, X)
    gen = S.paths(12)  # 4**12 = 16.7 M paths at the last length alone
    assert next(gen) == X.id
    tracemalloc.start()
    n = sum(1 for _, p in zip(range(200_000), gen))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert n == 200_000
    assert peak < 1 << 20, peak


def test_bad_max_length_is_refused_at_the_call():
    S = Schema.parse("object A")
    for bad in (-1, 1.5, "2", True):
        with pytest.raises(BoundError, match=f"max_length must be an int >= 0, got {bad!r}"):
            S.paths(bad)  # not iterated: the call raises, not the first next()
        with pytest.raises(BoundError, match=f"max_length must be an int >= 0, got {bad!r}"):
            free_paths(S, bad)


def adjacency(S: Schema) -> np.ndarray:
    index = {o: i for i, o in enumerate(S.objects())}
    M = np.zeros((len(index), len(index)), dtype=np.int64)
    for a in S.arrows:
        M[index[a.dom], index[a.cod]] += 1
    return M


@settings(max_examples=80, deadline=None)
@given(multigraph_schemas())
def test_counts_match_adjacency_matrix_powers(S):
    k_max = 4
    M = adjacency(S)
    counts = np.zeros((k_max + 1, *M.shape), dtype=np.int64)
    index = {o: i for i, o in enumerate(S.objects())}
    seen = set()
    for p in S.paths(k_max):
        counts[len(p), index[p.dom], index[p.cod]] += 1
        seen.add(p)
    for k in range(k_max + 1):
        assert (counts[k] == np.linalg.matrix_power(M, k)).all(), k
    assert len(seen) == counts.sum()  # no duplicates
    # the dom/cod filters select exactly the matching subset
    A, B = S.objects()[0], S.objects()[-1]
    filtered = list(S.paths(3, dom=A, cod=B))
    assert filtered == [p for p in S.paths(3) if p.dom == A and p.cod == B]


def test_benchmark_enumerators_agree(capsys):
    from benchmarks import bench_paths

    bench_paths.main(["--objects", "20", "--arrows", "60", "--max-length", "3",
                      "--repeats", "1"])  # asserts both enumerators count the same paths
    out = capsys.readouterr().out
    assert "| cdl Schema.paths |" in out


# ------------------------------------------------------ counting without listing
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_count_paths_equals_the_length_of_the_listing(data):
    from category.enumeration import count_free_paths

    n = data.draw(st.integers(1, 4))
    S = Schema("R")
    obs = [S.object(f"O{i}") for i in range(n)]
    for k in range(data.draw(st.integers(0, 6))):
        S.arrow(f"a{k}", data.draw(st.sampled_from(obs)), data.draw(st.sampled_from(obs)))
    length = data.draw(st.integers(0, 6))
    dom, cod = (data.draw(st.sampled_from([None, *obs])) for _ in range(2))
    listed = len(list(S.paths(length, dom, cod)))
    assert S.count_paths(length, dom, cod) == listed
    for method in ["steps", "squaring"]:
        assert count_free_paths(S, length, dom, cod, 1 << 20, method) == listed
        assert count_free_paths(S, 3 * length + 40, dom, cod, 1 << 20, method) == \
            count_free_paths(S, 3 * length + 40, dom, cod, 1 << 20, "steps")


def test_count_paths_of_huge_lengths_is_exact_or_a_bounded_refusal():
    from category import CountTooLarge

    S = Schema.parse("object Horse, Zebra\nf : Horse -> Zebra\ng : Zebra -> Horse")
    assert S.count_paths(10**9) == 2 * (10**9 + 1)
    assert S.count_paths(10**9, dom="Horse", cod="Horse") == 10**9 // 2 + 1
    T = Schema.parse("object A\nf, g : A -> A")
    assert T.count_paths(100) == 2**101 - 1
    with pytest.raises(CountTooLarge, match="more than 1000 bits") as err:
        T.count_paths(10**9, max_bits=1000)
    assert 0 < err.value.at_least <= 2 ** (err.value.reached + 1)
