"""``search_rows`` equals a plain-Python enumeration of the same rows (tiny cases), keeps the
other rows, the column products, and never returns something worse than its start."""
from __future__ import annotations

import itertools
import math
from typing import Iterator

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rlsched_compile import Layer, SearchError, evaluate_batch
from rlsched_compile.native.search import bottom_up, search_rows
from rlsched_compile.targets import Target


def divisors(v: int) -> list[int]:
    return [d for d in range(1, v + 1) if v % d == 0]


def ordered_factorizations(v: int, n: int) -> Iterator[tuple[int, ...]]:
    if n == 1:
        yield (v,)
        return
    for d in divisors(v):
        for rest in ordered_factorizations(v // d, n - 1):
            yield (d, *rest)


def python_search_rows(target: Target, layer: Layer, table: np.ndarray, rows: tuple[int, ...],
                       objective: str) -> tuple[np.ndarray, int]:
    """Every candidate, evaluated by the cost model; best by (objective, DRAM-row product,
    lexicographic table). Returns the best table and the number of valid candidates."""
    rows = tuple(sorted(rows))
    products = [math.prod(int(table[r, c]) for r in rows) for c in range(8)]
    per_column = [list(ordered_factorizations(p, len(rows))) for p in products]
    candidates = []
    for choice in itertools.product(*per_column):
        t = table.copy()
        for c, f in enumerate(choice):
            t[list(rows), c] = f
        candidates.append(t)
    batch = evaluate_batch(target, layer, np.stack(candidates))
    values = batch.objective(objective)
    best = None
    for i in np.flatnonzero(batch.valid):
        key = (values[i], int(np.prod(candidates[i][9])), tuple(candidates[i].reshape(-1)))
        if best is None or key < best[0]:
            best = (key, candidates[i])
    assert best is not None
    return best[1], int(batch.valid.sum())


TINY_LAYERS = [
    Layer("t1", K=4, B=1, P=4, Q=2, C=2, R=3, S=1),
    Layer("t2", K=8, B=2, P=2, Q=2, C=4, R=1, S=1),
    Layer("t3", K=6, B=1, P=3, Q=3, C=6, R=3, S=3, G=3),
]


@pytest.mark.parametrize("layer", TINY_LAYERS, ids=lambda ly: ly.name)
@pytest.mark.parametrize("rows", [(3, 9), (3, 6, 9), (4, 5, 6), (3, 4, 5, 9)])
@pytest.mark.parametrize("objective", ["energy", "cycles", "edp"])
def test_equals_python_enumeration(eyeriss: Target, layer: Layer, rows: tuple[int, ...], objective: str) -> None:
    start = bottom_up(eyeriss, layer, objective).table
    expected, n_valid = python_search_rows(eyeriss, layer, start, rows, objective)
    got = search_rows(eyeriss, layer, start, rows, objective)
    np.testing.assert_array_equal(got.table, expected)
    # pruning is exact: the C search evaluates exactly the valid candidates
    assert got.candidates == n_valid


def test_row_names_and_errors(eyeriss: Target) -> None:
    layer = TINY_LAYERS[0]
    start = bottom_up(eyeriss, layer).table
    by_name = search_rows(eyeriss, layer, start, ("LocalBuffer", "DRAM"))
    by_index = search_rows(eyeriss, layer, start, (3, 9))
    np.testing.assert_array_equal(by_name.table, by_index.table)
    with pytest.raises(Exception, match="2 to 4 distinct rows"):
        search_rows(eyeriss, layer, start, (3,))
    with pytest.raises(Exception, match="2 to 4 distinct rows"):
        search_rows(eyeriss, layer, start, (3, 3))
    with pytest.raises(Exception, match="unknown row 'Cache'"):
        search_rows(eyeriss, layer, start, ("Cache", "DRAM"))
    with pytest.raises(Exception, match="unknown objective 'power'"):
        search_rows(eyeriss, layer, start, (3, 9), "power")


def test_no_candidate_valid_raises(eyeriss: Target) -> None:
    # PE rows alone cannot hold the whole layer: every candidate over-fills the array
    layer = Layer("big", K=64, B=1, P=56, Q=56, C=64, R=1, S=1)
    table = np.ones((10, 8), dtype=np.int64)
    table[4] = layer.per_group()
    with pytest.raises(SearchError, match="no valid table found"):
        search_rows(eyeriss, layer, table, (4, 5))


@settings(max_examples=25, deadline=None)
@given(k=st.sampled_from([1, 2, 4, 8, 16]), p=st.sampled_from([1, 2, 3, 4, 7, 14]),
       c=st.sampled_from([1, 2, 3, 4, 8]), r=st.sampled_from([1, 3]),
       rows=st.sampled_from([(3, 9), (3, 6), (4, 5, 6), (3, 6, 9), (3, 4, 5, 6)]),
       objective=st.sampled_from(["energy", "cycles", "edp"]), target=st.sampled_from(["eyeriss", "simba", "eyeriss_v2"]))
def test_never_worse_and_keeps_column_products(shipped: dict[str, Target], k: int, p: int, c: int, r: int,
                                               rows: tuple[int, ...], objective: str, target: str) -> None:
    tgt = shipped[target]
    layer = Layer("h", K=k, B=1, P=p, Q=p, C=c, R=r, S=r)
    start = bottom_up(tgt, layer, objective)
    got = search_rows(tgt, layer, start.table, rows, objective)
    assert got.objective(objective) <= start.objective(objective)
    np.testing.assert_array_equal(np.prod(got.table, axis=0), layer.per_group())
    others = [i for i in range(10) if i not in rows]
    np.testing.assert_array_equal(got.table[others], start.table[others])
    assert evaluate_batch(tgt, layer, got.table[None]).valid[0]


def test_shared_target_from_many_threads(shipped: dict[str, Target]) -> None:
    from concurrent.futures import ThreadPoolExecutor

    target = shipped["simba"]
    layer = Layer("t", K=64, B=1, P=14, Q=14, C=64, R=3, S=3)
    start = bottom_up(target, layer).table
    expected = search_rows(target, layer, start, (3, 6, 9))
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: search_rows(target, layer, start, (3, 6, 9)), range(8)))
    for r in results:
        np.testing.assert_array_equal(r.table, expected.table)
        assert r.candidates == expected.candidates
