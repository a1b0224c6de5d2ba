"""On-disk cache of per-layer schedules, shared safely by concurrent compiler runs.

An entry is the scheduling table a strategy found for one layer, plus the search's bookkeeping
(evaluations, whether it finished, the wall time it took). Its key covers everything that
determines that result: the layer signature, the target content (its sha256), the objective, the
strategy name and its settings (seed, budget and any strategy-specific token), the tool version
and this module's entry format. A cached table is re-evaluated by the cost model when it is read,
so a compile served from the cache writes exactly the files a cold compile writes.

Location: ``$RLSCHED_CACHE_DIR`` if set, else ``$XDG_CACHE_HOME/rlsched_compile``, else
``~/.cache/rlsched_compile``. Each entry is one JSON file ``<dir>/<key[:2]>/<key>.json``, written
to a temporary file in the same directory and renamed into place, so readers see either nothing
or a complete entry; an unreadable or corrupt entry counts as a miss and is replaced.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import numpy as np

logger = logging.getLogger(__name__)

#: Version of the entry layout; part of every key.
CACHE_FORMAT: int = 1
#: Environment variable that overrides the cache directory (tests use it to isolate runs).
CACHE_DIR_ENV: str = "RLSCHED_CACHE_DIR"


def default_cache_dir() -> Path:
    """The cache directory for this process (see the module doc for the lookup order)."""
    override = os.environ.get(CACHE_DIR_ENV)
    if override:
        return Path(override).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "rlsched_compile"


def cache_key(*, layer_signature: tuple[int, ...], target_sha256: str, objective: str, strategy: str,
              settings: Mapping[str, Any], tool_version: str) -> str:
    """The hex sha256 key of one layer's schedule.

    Args:
        layer_signature: :meth:`Layer.signature` of the layer.
        target_sha256: :attr:`Target.sha256` (content hash, so editing a target file invalidates).
        objective: ``energy``, ``cycles`` or ``edp``.
        strategy: registered strategy name.
        settings: JSON-serializable strategy settings (seed, budget, strategy token...).
        tool_version: the package version.
    """
    blob = json.dumps({
        "format": CACHE_FORMAT, "layer": list(layer_signature), "target": target_sha256,
        "objective": objective, "strategy": strategy, "settings": dict(settings),
        "tool": tool_version,
    }, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


@dataclass(frozen=True)
class CachedSchedule:
    """One cache entry.

    Attributes:
        table: the scheduling table, (10, 8) int64.
        strategy: the strategy that produced it.
        evaluations: cost-model evaluations the search spent.
        finished: whether the search finished (False: stopped by its budget).
        search_time_s: wall time of the original search, seconds.
    """

    table: np.ndarray
    strategy: str
    evaluations: int
    finished: bool
    search_time_s: float
    dataflows: tuple[str | None, str | None] | None = None
    fixed_table: np.ndarray | None = None


#: Values a cached dataflow may hold (anything else makes the entry corrupt).
_DATAFLOW_VALUES = (None, "IS", "WS", "OS")


def _cached_dataflows(doc: Mapping[str, Any]) -> tuple[tuple[str | None, str | None] | None, np.ndarray | None]:
    """The flexible-mode fields of an entry (both None for a fixed-mode entry); ValueError if bad."""
    if "dataflows" not in doc:
        return None, None
    flows = doc["dataflows"]
    if not isinstance(flows, list) or len(flows) != 2 or any(f not in _DATAFLOW_VALUES for f in flows):
        raise ValueError(f"bad dataflows {flows!r}")
    fixed = np.asarray(doc["fixed_table"], dtype=np.int64)
    if fixed.shape != (10, 8) or (fixed < 1).any():
        raise ValueError(f"bad fixed table shape {fixed.shape}")
    return (flows[0], flows[1]), fixed


class ScheduleCache:
    """Read/write access to a cache directory.

    Args:
        directory: the cache directory (created on the first write); default
            :func:`default_cache_dir`.
    """

    def __init__(self, directory: str | os.PathLike[str] | None = None) -> None:
        self.directory = Path(directory) if directory is not None else default_cache_dir()
        self._write_warned = False

    def path(self, key: str) -> Path:
        """File of the entry with this key."""
        return self.directory / key[:2] / f"{key}.json"

    def get(self, key: str) -> CachedSchedule | None:
        """The entry for ``key``, or None when absent, unreadable or corrupt (never raises)."""
        path = self.path(key)
        try:
            with open(path, encoding="utf-8") as f:
                doc = json.load(f)
            if doc.get("key") != key or doc.get("format") != CACHE_FORMAT:
                raise ValueError("key or format mismatch")
            table = np.asarray(doc["table"], dtype=np.int64)
            if table.shape != (10, 8) or (table < 1).any():
                raise ValueError(f"bad table shape {table.shape}")
            flows, fixed = _cached_dataflows(doc)
            return CachedSchedule(table=table, strategy=str(doc["strategy"]),
                                  evaluations=int(doc["evaluations"]), finished=bool(doc["finished"]),
                                  search_time_s=float(doc["search_time_s"]), dataflows=flows, fixed_table=fixed)
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            logger.warning("ignoring corrupt cache entry %s (%s); it will be recomputed", path, exc)
            return None

    def put(self, key: str, entry: CachedSchedule) -> bool:
        """Store an entry atomically. Returns False (and logs) when the cache is not writable."""
        path = self.path(key)
        doc = {"format": CACHE_FORMAT, "key": key, "strategy": entry.strategy,
               "evaluations": int(entry.evaluations), "finished": bool(entry.finished),
               "search_time_s": float(entry.search_time_s),
               "table": np.asarray(entry.table, dtype=np.int64).tolist()}
        if entry.dataflows is not None and entry.fixed_table is not None:
            doc["dataflows"] = list(entry.dataflows)
            doc["fixed_table"] = np.asarray(entry.fixed_table, dtype=np.int64).tolist()
        tmp_name = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp_name = tempfile.mkstemp(prefix=f".{key[:16]}.", suffix=".tmp", dir=path.parent)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(doc, f, sort_keys=True)
            os.replace(tmp_name, path)
            return True
        except OSError as exc:
            if not self._write_warned:  # once per cache: every later entry would fail the same way
                logger.warning("cannot write to the schedule cache %s (%s); continuing without it (set "
                               "RLSCHED_CACHE_DIR to a writable directory)", self.directory, exc)
                self._write_warned = True
            if tmp_name is not None:
                try:
                    os.unlink(tmp_name)
                except OSError:
                    pass
            return False
