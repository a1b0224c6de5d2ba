"""The compile pass's stages (:mod:`rlsched_compile.stages`, :mod:`rlsched_compile.emit.outputs`):
what each takes and gives, checked on a small hand-built network with repeated layers."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import networkx as nx
import pytest

from rlsched_compile import Layer, evaluate_table, load_target
from rlsched_compile._version import __version__
from rlsched_compile.api import compile_model
from rlsched_compile.cache import ScheduleCache, cache_key
from rlsched_compile.emit.outputs import write_outputs
from rlsched_compile.network import Network
from rlsched_compile.search import StrategyOptions, make_strategy
from rlsched_compile.solved import SolvedLayer, UnsolvedLayer
from rlsched_compile.stages import (Loaded, Solved, SolveSettings, UniqueLayer, layer_cache_key, load, place, solve,
                                    solve_layer, unique_layers)

TARGET = load_target("eyeriss")
A = Layer("a", K=16, B=1, P=7, Q=7, C=8, R=3, S=3)
B = Layer("b", K=8, B=1, P=4, Q=4, C=8, R=1, S=1)
BOTTOM_UP = SolveSettings(objective="energy", strategy="bottom-up", seed=0, budget=None)


def network() -> Network:
    """Five layers, two distinct signatures: a, b, a (renamed), b (renamed), a (renamed)."""
    layers = (A, B, Layer("a2", **{k: getattr(A, k) for k in "KBPQCRS"}),
              Layer("b2", **{k: getattr(B, k) for k in "KBPQCRS"}), Layer("a3", **{k: getattr(A, k) for k in "KBPQCRS"}))
    return Network(name="stages_net", source=None, sha256=hashlib.sha256(b"stages").hexdigest(), batch=1,
                   layers=layers, graph=nx.DiGraph())


def test_load_reads_the_target_and_keeps_a_given_network() -> None:
    net = network()
    loaded = load(net, "eyeriss", batch=None, strict=False)
    assert isinstance(loaded, Loaded)
    assert loaded.network is net and loaded.target == TARGET and loaded.model is None


def test_unique_layers_cover_every_layer_once_in_order_of_first_occurrence() -> None:
    net = network()
    unique = unique_layers(net)
    assert [u.group for u in unique] == [0, 1]
    assert [u.indices for u in unique] == [(0, 2, 4), (1, 3)]
    assert [u.layer.name for u in unique] == ["a", "b"]
    assert sorted(i for u in unique for i in u.indices) == list(range(len(net.layers)))
    assert all(net.layers[i].signature() == u.layer.signature() for u in unique for i in u.indices)


def test_solve_layer_gives_the_one_record_with_its_evaluation() -> None:
    rec = solve_layer(TARGET, A, BOTTOM_UP)
    assert isinstance(rec, SolvedLayer)
    assert rec.layer == A and rec.strategy == "bottom-up" and rec.objective == "energy"
    assert not rec.cached and not rec.timed_out and rec.dataflows is None and rec.fixed_table is None
    assert len(rec.table) == 10 and all(len(row) == 8 and all(type(v) is int for v in row) for row in rec.table)
    ev = evaluate_table(TARGET, A, [list(r) for r in rec.table])
    assert ev.valid and (ev.energy_pj, ev.cycles) == (rec.evaluation.energy_pj, rec.evaluation.cycles)


def test_solve_layer_flexible_carries_the_fixed_table_and_its_evaluation() -> None:
    settings = SolveSettings(objective="energy", strategy="bottom-up", seed=0, budget=None, dataflow="flexible")
    rec = solve_layer(TARGET, B, settings)
    assert isinstance(rec, SolvedLayer) and rec.dataflows is not None and rec.fixed_table is not None
    fixed = evaluate_table(TARGET, B, [list(r) for r in rec.fixed_table])
    assert rec.fixed_evaluation is not None and rec.fixed_evaluation.energy_pj == fixed.energy_pj
    assert rec.evaluation.energy_pj <= fixed.energy_pj


def test_solve_layer_after_the_deadline_gives_the_quick_table_marked_timed_out() -> None:
    settings = SolveSettings(objective="energy", strategy="bottom-up", seed=0, budget=None, deadline_at=0.0)
    rec = solve_layer(TARGET, A, settings)
    assert isinstance(rec, SolvedLayer) and rec.timed_out and not rec.finished
    assert rec.strategy == "bottom-up (time limit)" and rec.evaluations == 1


def test_solve_writes_then_serves_the_same_records_from_the_cache(tmp_path: Path) -> None:
    unique = unique_layers(network())
    store = ScheduleCache(tmp_path / "cache")
    calls: list[tuple[int, int, str]] = []
    first = solve(unique, TARGET, BOTTOM_UP, store=store, jobs=1, network_name="n",
                  progress=lambda d, t, n: calls.append((d, t, n)))
    assert isinstance(first, Solved) and (first.hits, first.misses, first.jobs) == (0, 2, 1)
    assert calls == [(0, 2, "a"), (1, 2, "a"), (2, 2, "b")]
    assert all(isinstance(r, SolvedLayer) and not r.cached for r in first.results)
    again = solve(unique, TARGET, BOTTOM_UP, store=store, jobs=1, network_name="n")
    assert (again.hits, again.misses, again.jobs) == (2, 0, 0)
    for a, b in zip(first.results, again.results):
        assert isinstance(a, SolvedLayer) and isinstance(b, SolvedLayer) and b.cached
        assert (b.table, b.strategy, b.evaluations, b.finished, b.search_time_s) == \
            (a.table, a.strategy, a.evaluations, a.finished, a.search_time_s)
        assert (b.evaluation.energy_pj, b.evaluation.cycles) == (a.evaluation.energy_pj, a.evaluation.cycles)
    # the file the cache wrote for a unique layer sits under the key of layer_cache_key
    key = layer_cache_key(A, TARGET, BOTTOM_UP, None)
    assert json.loads(store.path(key).read_text())["table"] == [list(r) for r in first.results[0].table]


def test_timed_out_records_are_not_cached(tmp_path: Path) -> None:
    unique = unique_layers(network())
    store = ScheduleCache(tmp_path / "cache")
    late = SolveSettings(objective="energy", strategy="bottom-up", seed=0, budget=None, deadline_at=0.0)
    solve(unique, TARGET, late, store=store, jobs=1, network_name="n")
    assert not (tmp_path / "cache").exists() or not list((tmp_path / "cache").rglob("*.json"))


def test_place_shares_one_record_per_unique_layer_and_lists_failures() -> None:
    net = network()
    unique = unique_layers(net)
    rec = solve_layer(TARGET, A, BOTTOM_UP)
    assert isinstance(rec, SolvedLayer)
    solved = Solved(results=(rec, UnsolvedLayer(B, "layer b: no valid table", 0.1)), hits=0, misses=2, jobs=1,
                    search_wall_time_s=0.1)
    placed = place(net, unique, solved)
    assert [(s.index, s.layer.name, s.group) for s in placed.schedules] == [(0, "a", 0), (2, "a2", 0), (4, "a3", 0)]
    assert all(s.solved is rec for s in placed.schedules)
    assert all(s.table == rec.table and s.evaluation is rec.evaluation for s in placed.schedules)
    assert [(f.index, f.layer.name, f.group, f.message) for f in placed.failures] == \
        [(1, "b", 1, "layer b: no valid table"), (3, "b2", 1, "layer b: no valid table")]


def test_layer_cache_key_is_the_key_of_before_the_stages() -> None:
    """An existing cache must still hit: the key is composed as the compile always composed it."""
    hybrid = SolveSettings(objective="cycles", strategy="rl-hybrid", seed=3, budget=7)
    token = hybrid.cache_token()
    assert token == make_strategy("rl-hybrid").cache_token()
    assert layer_cache_key(A, TARGET, hybrid, token) == cache_key(
        layer_signature=A.signature(), target_sha256=TARGET.sha256, objective="cycles", strategy="rl-hybrid",
        settings={"seed": 3, "budget": 7, "token": token}, tool_version=__version__)
    flexible = SolveSettings(objective="energy", strategy="bottom-up", seed=0, budget=None, dataflow="flexible")
    assert layer_cache_key(A, TARGET, flexible, None) == cache_key(
        layer_signature=A.signature(), target_sha256=TARGET.sha256, objective="energy", strategy="bottom-up",
        settings={"seed": 0, "budget": None, "token": None, "dataflow": "flexible"}, tool_version=__version__)


def test_the_options_reach_the_token_without_changing_a_shared_object(tmp_path: Path) -> None:
    from rlsched_compile.rl.policy import SHIPPED_POLICY

    copy = tmp_path / "policy.npz"
    copy.write_bytes(SHIPPED_POLICY.read_bytes())
    other = SolveSettings(objective="energy", strategy="rl", seed=0, budget=None,
                          options=StrategyOptions(policy_path=copy))
    # same bytes, same token: the token is the file's content, not its path
    assert other.cache_token() == SolveSettings(objective="energy", strategy="rl", seed=0, budget=None).cache_token()
    copy.write_bytes(SHIPPED_POLICY.read_bytes() + b"\0")
    assert other.cache_token() != make_strategy("rl").cache_token()


def test_emit_stage_owns_the_folder_layout(tmp_path: Path) -> None:
    result = compile_model(network(), TARGET, search="bottom-up", jobs=1, cache=False)
    out = write_outputs(tmp_path / "out", network=result.network, target=result.target, schedules=result.layers,
                        totals=result.totals, report=result.report(), model=None, timing=result.timing)
    names = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    assert names == [".rlsched-manifest.json", "report.html", "report.json", "report.md",
                     "schedules/000_a.json", "schedules/000_a.txt", "schedules/001_b.json", "schedules/001_b.txt",
                     "schedules/002_a2.json", "schedules/002_a2.txt", "schedules/003_b2.json",
                     "schedules/003_b2.txt", "schedules/004_a3.json", "schedules/004_a3.txt", "timing.json"]
    again = result.write(tmp_path / "again")
    for name in names:
        if name not in ("timing.json", ".rlsched-manifest.json"):
            assert (again / name).read_bytes() == (out / name).read_bytes(), name


def test_unique_layer_is_a_frozen_value() -> None:
    u = unique_layers(network())[0]
    assert isinstance(u, UniqueLayer)
    with pytest.raises(AttributeError):
        u.group = 3  # type: ignore[misc]
