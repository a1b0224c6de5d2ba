"""The on-disk schedule cache: location, keys, atomic writes, corrupt entries, concurrency."""
from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
import pytest

from rlsched_compile.cache import CachedSchedule, ScheduleCache, cache_key, default_cache_dir

KEY_ARGS = dict(layer_signature=(64, 1, 56, 56, 64, 3, 3, 1, 1, 1, 1, 1), target_sha256="ab" * 32,
                objective="energy", strategy="bottom-up", settings={"seed": 0, "budget": None, "token": None},
                tool_version="0.1.0")


def entry(k: int = 2) -> CachedSchedule:
    table = np.ones((10, 8), dtype=np.int64)
    table[9, 0] = k
    return CachedSchedule(table=table, strategy="bottom-up", evaluations=42, finished=True, search_time_s=0.5)


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
    key = cache_key(**KEY_ARGS)
    assert cache.get(key) is None
    assert cache.put(key, entry())
    got = cache.get(key)
    assert got is not None
    assert np.array_equal(got.table, entry().table) and got.table.dtype == np.int64
    assert (got.strategy, got.evaluations, got.finished, got.search_time_s) == ("bottom-up", 42, True, 0.5)
    assert cache.path(key) == tmp_path / "c" / key[:2] / f"{key}.json"
    assert not list((tmp_path / "c").rglob("*.tmp"))


@pytest.mark.parametrize("content", [
    "", "{", "[]", '{"format": 1}', '{"format": 99, "key": "K"}',
    '{"format": 1, "key": "K", "strategy": "s", "evaluations": 1, "finished": true, "search_time_s": 0, '
    '"table": [[1, 2], [3, 4]]}',
    '{"format": 1, "key": "K", "strategy": "s", "evaluations": 1, "finished": true, "search_time_s": 0, '
    '"table": ' + json.dumps([[0] * 8] * 10) + "}",
])
def test_corrupt_entries_are_misses(tmp_path: Path, content: str, caplog: pytest.LogCaptureFixture) -> None:
    cache = ScheduleCache(tmp_path)
    key = cache_key(**KEY_ARGS)
    path = cache.path(key)
    path.parent.mkdir(parents=True)
    path.write_text(content.replace('"K"', json.dumps(key)))
    assert cache.get(key) is None
    assert "ignoring corrupt cache entry" in caplog.text
    assert cache.put(key, entry()) and cache.get(key) is not None


def test_unwritable_cache_is_not_fatal(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    cache = ScheduleCache(blocker / "cache")
    assert cache.put(cache_key(**KEY_ARGS), entry()) is False
    assert cache.put(cache_key(**{**KEY_ARGS, "objective": "cycles"}), entry()) is False
    assert cache.get(cache_key(**KEY_ARGS)) is None
    assert caplog.text.count("cannot write to the schedule cache") == 1


def test_concurrent_writers_and_readers_see_whole_entries(tmp_path: Path) -> None:
    """Many threads write the same keys while others read: a reader sees a miss or a whole entry."""
    cache = ScheduleCache(tmp_path)
    keys = [cache_key(**{**KEY_ARGS, "objective": f"o{i}"}) for i in range(4)]
    seen: list[object] = []
    errors: list[BaseException] = []

    def writer(w: int) -> None:
        try:
            for n in range(40):
                key = keys[n % len(keys)]
                assert cache.put(key, entry(k=1 + keys.index(key)))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    def reader() -> None:
        try:
            for n in range(200):
                key = keys[n % len(keys)]
                got = cache.get(key)
                if got is not None:
                    assert int(got.table[9, 0]) == 1 + keys.index(key)
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
    assert all(cache.get(k) is not None for k in keys)
    assert not list(tmp_path.rglob("*.tmp"))
