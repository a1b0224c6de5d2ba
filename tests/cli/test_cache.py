"""The on-disk schedule cache: location, keys, atomic writes, concurrency, and (issue 11 item 9)
entries as untrusted input: corrupt, out-of-range, mismatched, forged, non-regular files."""
from __future__ import annotations

import json
import logging
import os
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from rlsched_compile import Layer, load_target
from rlsched_compile.cache import (ENTRY_MAX_BYTES, CacheSubject, ScheduleCache, cache_key,
                                   default_cache_dir)
from rlsched_compile.cache import _digest
from rlsched_compile.native.costmodel import evaluate_table
from rlsched_compile.search import schedule_layer
from rlsched_compile.solved import SolvedLayer

KEY_ARGS = dict(layer_signature=(64, 1, 56, 56, 64, 3, 3, 1, 1, 1, 1, 1), target_sha256="ab" * 32,
                objective="energy", strategy="bottom-up", settings={"seed": 0, "budget": None, "token": None},
                tool_version="0.1.0")

TARGET = load_target("eyeriss")


def subject(k: int = 16) -> CacheSubject:
    return CacheSubject(target=TARGET, layer=Layer(f"conv{k}", K=k, B=1, P=14, Q=14, C=16, R=3, S=3),
                        objective="energy", strategy="bottom-up")


def entry(subj: CacheSubject) -> SolvedLayer:
    res = schedule_layer(subj.target, subj.layer, search="bottom-up", objective="energy")
    return SolvedLayer(layer=subj.layer, table=res.table, evaluation=res.evaluation, objective="energy",
                       strategy="bottom-up", evaluations=42, finished=True, search_time_s=0.5)


def worse_table(subj: CacheSubject) -> list[list[int]]:
    """A valid table that keeps every loop in DRAM: far worse than the bottom-up one."""
    ly = subj.layer
    table = [[1] * 8 for _ in range(10)]
    table[9] = [ly.K, ly.B, ly.P, ly.Q, ly.C, ly.R, ly.S, ly.G]
    assert evaluate_table(subj.target, ly, table).valid
    return table


def stored(cache: ScheduleCache, key: str) -> dict[str, Any]:
    return json.loads(cache.path(key).read_text())


def plant(cache: ScheduleCache, key: str, doc: Any, *, redigest: bool = True) -> None:
    if redigest and isinstance(doc, dict):
        doc["digest"] = _digest(doc)
    cache.path(key).parent.mkdir(parents=True, exist_ok=True)
    cache.path(key).write_text(json.dumps(doc) if not isinstance(doc, str) else doc)


@pytest.fixture()
def filled(tmp_path: Path) -> tuple[ScheduleCache, str, CacheSubject, dict[str, Any]]:
    cache = ScheduleCache(tmp_path / "c")
    subj = subject()
    key = cache_key(**KEY_ARGS)
    assert cache.put(key, entry(subj), subj)
    return cache, key, subj, stored(cache, key)


def test_cache_directory_lookup(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("RLSCHED_CACHE_DIR", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_cache_dir() == tmp_path / "home" / ".cache" / "rlsched_compile"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "rlsched_compile"
    monkeypatch.setenv("RLSCHED_CACHE_DIR", str(tmp_path / "mine"))
    assert default_cache_dir() == tmp_path / "mine"
    assert ScheduleCache().directory == tmp_path / "mine"


def test_every_input_is_part_of_the_key() -> None:
    base = cache_key(**KEY_ARGS)
    assert base == cache_key(**KEY_ARGS) and len(base) == 64
    variants = [
        {"layer_signature": (64, 1, 56, 56, 64, 3, 3, 1, 2, 2, 1, 1)},
        {"target_sha256": "cd" * 32},
        {"objective": "cycles"},
        {"strategy": "random"},
        {"settings": {"seed": 1, "budget": None, "token": None}},
        {"settings": {"seed": 0, "budget": 1000, "token": None}},
        {"settings": {"seed": 0, "budget": None, "token": "policy-v2"}},
        {"tool_version": "0.2.0"},
    ]
    keys = {cache_key(**{**KEY_ARGS, **v}) for v in variants}
    assert len(keys) == len(variants) and base not in keys


def test_round_trip_and_missing(tmp_path: Path) -> None:
    cache = ScheduleCache(tmp_path / "c")
    subj = subject()
    key = cache_key(**KEY_ARGS)
    assert cache.get(key, subj) is None
    assert cache.put(key, entry(subj), subj)
    got = cache.get(key, subj)
    assert got is not None
    assert got.table == entry(subj).table and all(type(v) is int for row in got.table for v in row)
    assert (got.strategy, got.evaluations, got.finished, got.search_time_s) == ("bottom-up", 42, True, 0.5)
    assert cache.path(key) == tmp_path / "c" / key[:2] / f"{key}.json"
    assert not list((tmp_path / "c").rglob("*.tmp"))
    doc = stored(cache, key)
    ev = evaluate_table(TARGET, subj.layer, got.table)
    assert (doc["energy_pj"], doc["cycles"]) == (ev.energy_pj, ev.cycles)
    assert doc["layer"] == list(subj.layer.signature()) and doc["target_sha256"] == TARGET.sha256


def _mutations() -> list[tuple[str, Any]]:
    """(name, change) pairs: change(doc) -> the planted document (or text)."""
    def setk(k: str, v: Any) -> Any:
        return lambda d: {**d, k: v}

    deep = "[" * 100_000 + "]" * 100_000
    return [
        ("empty", lambda d: ""),
        ("truncated", lambda d: json.dumps(d)[:-10]),
        ("list", lambda d: []),
        ("deep nesting", lambda d: deep[:ENTRY_MAX_BYTES - 2]),
        ("deep nesting in a field", lambda d: json.dumps(d).replace('"finished": true', '"finished": ' + "[" * 5000
                                                                     + "]" * 5000)),
        ("huge int evaluations", setk("evaluations", 2**70)),
        ("huge int in table", lambda d: {**d, "table": [[2**70] + r[1:] for r in d["table"]]}),
        ("1e400 time", lambda d: json.dumps(d).replace('"search_time_s": 0.5', '"search_time_s": 1e400')),
        ("NaN energy", lambda d: json.dumps(d).replace('"cycles": ', '"cycles": NaN, "x": ')),
        ("negative evaluations", setk("evaluations", -1)),
        ("string evaluations", setk("evaluations", "42 (forged)")),
        ("bool evaluations", setk("evaluations", True)),
        ("string finished", setk("finished", "yes")),
        ("another strategy", setk("strategy", "<script>alert(1)</script>")),
        ("another objective", setk("objective", "cycles")),
        ("another layer", setk("layer", [32, 1, 14, 14, 16, 3, 3, 1, 1, 1, 1, 1])),
        ("another target", setk("target_sha256", "cd" * 32)),
        ("another key", setk("key", "ef" * 32)),
        ("old format", setk("format", 1)),
        ("extra field", setk("note", "x")),
        ("missing field", lambda d: {k: v for k, v in d.items() if k != "finished"}),
        ("table shape", setk("table", [[1, 2], [3, 4]])),
        ("table zeros", setk("table", [[0] * 8] * 10)),
        ("table floats", lambda d: {**d, "table": [[float(v) for v in r] for r in d["table"]]}),
        ("wrong column products", lambda d: {**d, "table": [[1] * 8] * 10}),
        ("oversized", lambda d: {**d, "pad": "x" * ENTRY_MAX_BYTES}),
    ]


@pytest.mark.parametrize("name,change", _mutations(), ids=[m[0] for m in _mutations()])
def test_bad_entries_are_misses_never_errors(filled: Any, name: str, change: Any,
                                             caplog: pytest.LogCaptureFixture) -> None:
    cache, key, subj, doc = filled
    planted = change(dict(doc))
    plant(cache, key, planted)  # the digest is recomputed: each check must stand on its own
    with caplog.at_level(logging.DEBUG, logger="rlsched_compile.cache"):
        assert cache.get(key, subj) is None
    assert "ignored" in caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]  # a miss, logged at debug
    assert cache.put(key, entry(subj), subj) and cache.get(key, subj) is not None  # replaced whole


def test_edited_table_or_figures_are_detected(filled: Any, caplog: pytest.LogCaptureFixture) -> None:
    """The issue's attack: an entry edited to hold a valid but worse table was used silently."""
    cache, key, subj, doc = filled
    worse = worse_table(subj)
    caplog.set_level(logging.DEBUG, logger="rlsched_compile.cache")
    plant(cache, key, {**doc, "table": worse}, redigest=False)  # only the table edited
    assert cache.get(key, subj) is None and "digest mismatch" in caplog.text
    plant(cache, key, {**doc, "table": worse})  # table and digest, figures left as they were
    assert cache.get(key, subj) is None and "are not the table's" in caplog.text
    plant(cache, key, {**doc, "energy_pj": doc["energy_pj"] / 2})  # forged figures for the real table
    assert cache.get(key, subj) is None
    plant(cache, key, {**doc, "evaluations": 1}, redigest=False)  # bookkeeping edited
    assert cache.get(key, subj) is None


def test_fully_reforged_entry_reports_its_true_cost(filled: Any) -> None:
    """The documented limit: without a secret, an entry re-forged consistently (table, figures and
    digest) is used, but what comes back is the table's true cost and the asked-for strategy."""
    cache, key, subj, doc = filled
    worse = worse_table(subj)
    ev = evaluate_table(TARGET, subj.layer, worse)
    plant(cache, key, {**doc, "table": worse, "energy_pj": ev.energy_pj, "cycles": ev.cycles})
    got = cache.get(key, subj)
    assert got is not None and [list(r) for r in got.table] == worse and got.strategy == "bottom-up"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_fifo_symlink_and_folder_entries_are_misses(filled: Any, tmp_path: Path) -> None:
    cache, key, subj, doc = filled
    path = cache.path(key)
    real = tmp_path / "elsewhere.json"
    real.write_text(path.read_text())
    results: list[object] = []

    for make in (lambda: os.mkfifo(path), lambda: path.symlink_to(real), lambda: path.mkdir()):
        if path.is_dir() and not path.is_symlink():
            path.rmdir()
        else:
            path.unlink(missing_ok=True)
        make()
        t = threading.Thread(target=lambda: results.append(cache.get(key, subj)), daemon=True)
        t.start()
        t.join(timeout=10)
        assert not t.is_alive(), "reading a cache entry blocked"
    assert results == [None, None, None]


def test_unwritable_cache_is_not_fatal(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    cache = ScheduleCache(blocker / "cache")
    subj = subject()
    assert cache.put(cache_key(**KEY_ARGS), entry(subj), subj) is False
    assert cache.put(cache_key(**{**KEY_ARGS, "objective": "cycles"}), entry(subj), subj) is False
    assert cache.get(cache_key(**KEY_ARGS), subj) is None
    assert caplog.text.count("cannot write to the schedule cache") == 1


def test_concurrent_writers_and_readers_see_whole_entries(tmp_path: Path) -> None:
    """Many threads write the same keys while others read: a reader sees a miss or a whole entry."""
    cache = ScheduleCache(tmp_path)
    subjects = [subject(k) for k in (8, 16, 24, 32)]
    entries = [entry(s) for s in subjects]
    keys = [cache_key(**{**KEY_ARGS, "layer_signature": s.layer.signature()}) for s in subjects]
    seen: list[object] = []
    errors: list[BaseException] = []

    def writer(w: int) -> None:
        try:
            for n in range(40):
                i = n % len(keys)
                assert cache.put(keys[i], entries[i], subjects[i])
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    def reader() -> None:
        try:
            for n in range(200):
                i = n % len(keys)
                got = cache.get(keys[i], subjects[i])
                if got is not None:
                    assert np.array_equal(got.table, entries[i].table)
                seen.append(got)
        except BaseException as exc:  # pragma: no cover
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(4)] + \
              [threading.Thread(target=reader) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(seen) == 600
    assert all(cache.get(k, s) is not None for k, s in zip(keys, subjects))
    assert not list(tmp_path.rglob("*.tmp"))
