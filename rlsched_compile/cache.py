"""On-disk cache of per-layer schedules, shared safely by concurrent compiler runs.

An entry is one :class:`~rlsched_compile.solved.SolvedLayer` (the record the compile pass makes
for a solved layer) on disk: the scheduling table a strategy found for one layer, plus the
search's bookkeeping (evaluations, whether it finished, the wall time it took). Its key covers everything that
determines that result: the layer signature, the target content (its sha256), the objective, the
strategy name and its settings (seed, budget and any strategy-specific token), the tool version
and this module's entry format.

Location: ``$RLSCHED_CACHE_DIR`` if set, else ``$XDG_CACHE_HOME/rlsched_compile``, else
``~/.cache/rlsched_compile``. Each entry is one JSON file ``<dir>/<key[:2]>/<key>.json``, written
to a temporary file in the same directory and renamed into place, so readers see either nothing
or a complete entry.

Threat model: the cache is **untrusted input**. It may be shared between CI jobs, restored from
an artifact store, or written by another user or a buggy older version, and anyone with write
access can plant or edit entries. What the compiler guarantees whatever an entry holds:

* **No crash, hang or unbounded work.** Only regular files are opened (``O_NOFOLLOW |
  O_NONBLOCK`` and ``fstat``: a symlink, FIFO or device is a miss and never blocks), at most
  :data:`ENTRY_MAX_BYTES` bytes are read, and every parse or range error (``2**70``, ``1e400``,
  NaN, deep nesting, wrong types) is a miss, logged at debug level.
* **Nothing from an entry reaches the outputs unchecked.** Every field is checked: exactly the
  expected keys; the layer signature, target sha256, objective and strategy it says it is for
  must be the ones asked for; table entries are integers in ``[1, 2**31)``; counts and times
  finite and in range. The ``strategy`` written to the outputs is the one asked for, never a
  string from the entry.
* **No forged figures.** The table is re-evaluated with the cost model (microseconds) and must be
  valid for this layer on this target; its energy and cycles must equal the figures stored with
  it, and a sha256 digest over the whole entry must match. The outputs always carry the
  recomputed figures, never stored ones.

What it does not guarantee: the digest is not a secret (no HMAC; the cache has no key to keep),
so someone with write access who edits a table *and* recomputes the stored figures and digest
can make a run use a valid but worse schedule. Its true (worse) cost is then what is reported,
not forged figures. An edit of the table alone, of the figures alone, or of the bookkeeping
fields, is detected (figure or digest mismatch) and the layer is solved again. Where other
people can write the cache and that matters, give each pipeline a private cache
(``$RLSCHED_CACHE_DIR``) or pass ``--no-cache``.
"""
from __future__ import annotations

import hashlib
import json
import logging
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

import numpy as np

from ._io import read_regular_file, write_bytes_atomic
from .solved import SolvedLayer
from .table import N_COLS, N_ROWS, SchedulingTable

if TYPE_CHECKING:
    from .layer import Layer
    from .objective import Objective
    from .targets.model import Target

logger = logging.getLogger(__name__)

#: Version of the entry layout; part of every key.
CACHE_FORMAT: int = 2
#: Environment variable that overrides the cache directory (tests use it to isolate runs).
CACHE_DIR_ENV: str = "RLSCHED_CACHE_DIR"
#: Largest entry read (bytes); a real entry is about 600 bytes.
ENTRY_MAX_BYTES: int = 16 << 10
#: Table entries are loop factors of a layer dimension: positive and below 2**31.
_MAX_FACTOR = 2**31 - 1
#: Bounds of the bookkeeping fields (an evaluation count, a wall time in seconds).
_MAX_EVALUATIONS = 10**15
_MAX_SEARCH_TIME_S = 1e9
#: Keys of an entry, exactly.
_FIELDS = frozenset({"format", "key", "layer", "target_sha256", "objective", "strategy", "table", "evaluations",
                     "finished", "search_time_s", "energy_pj", "cycles", "digest"})
#: Extra keys of a ``--dataflow flexible`` entry: the chosen dataflows and the fixed-mode table.
_FLEXIBLE_FIELDS = frozenset({"dataflows", "fixed_table"})


def default_cache_dir() -> Path:
    """The cache directory for this process (see the module doc for the lookup order)."""
    override = os.environ.get(CACHE_DIR_ENV)
    if override:
        return Path(override).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "rlsched_compile"


def cache_key(*, layer_signature: tuple[int, ...], target_sha256: str, objective: Objective | str, strategy: str,
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
        "objective": str(objective), "strategy": strategy, "settings": dict(settings),
        "tool": tool_version,
    }, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


@dataclass(frozen=True)
class CacheSubject:
    """What an entry is for; an entry that says otherwise is a miss.

    Attributes:
        target: the target (its sha256 is checked, and the table is re-evaluated on it).
        layer: the layer (its signature is checked).
        objective: the objective.
        strategy: the strategy name (the only strategy string a hit can carry).
        dataflow: ``fixed`` or ``flexible``: a flexible entry also carries the chosen dataflows
            (one of the target's allowed combinations) and the fixed-mode table, both checked.
    """

    target: Target
    layer: Layer
    objective: Objective
    strategy: str
    dataflow: str = "fixed"


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

    def get(self, key: str, subject: CacheSubject) -> SolvedLayer | None:
        """The entry for ``key`` if it checks out for ``subject``, else None (never raises).

        See the module doc for every check; a failed one is logged at debug level. A hit is the
        record with ``cached`` True, the recomputed evaluations and ``subject``'s layer,
        objective and strategy.
        """
        path = self.path(key)
        try:
            data = read_regular_file(path, max_bytes=ENTRY_MAX_BYTES)
        except FileNotFoundError:
            return None
        except OSError as exc:
            logger.debug("cache entry %s ignored (%s); the layer is solved again", path, exc)
            return None
        try:
            return _checked_entry(data, key, subject)
        except Exception as exc:  # anything wrong with an untrusted entry is a miss, never a failure
            logger.debug("cache entry %s ignored (%s); the layer is solved again", path, exc)
            return None

    def put(self, key: str, entry: SolvedLayer, subject: CacheSubject) -> bool:
        """Store a solved layer atomically (its table and bookkeeping, the figures recomputed for
        ``subject``, and a digest). Returns False (and logs) when the cache is not writable or the
        table is not valid for ``subject``."""
        from .native.costmodel import evaluate_table

        path = self.path(key)
        table = np.asarray(entry.table, dtype=np.int64)
        flexible = subject.dataflow == "flexible"
        if flexible and (entry.dataflows is None or entry.fixed_table is None):
            return False
        used = subject.target.with_dataflows(entry.dataflows) if flexible else subject.target  # type: ignore[arg-type]
        ev = evaluate_table(used, subject.layer, table, strict=False)
        if not ev.valid:
            logger.debug("not caching an invalid table for layer %s", subject.layer.name)
            return False
        doc = _entry_fields(key, subject, table.tolist(), entry.evaluations, entry.finished,
                            entry.search_time_s, ev.energy_pj, ev.cycles)
        if flexible:
            doc["dataflows"] = list(entry.dataflows)  # type: ignore[arg-type]
            doc["fixed_table"] = np.asarray(entry.fixed_table, dtype=np.int64).tolist()
        doc["digest"] = _digest(doc)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_bytes_atomic(path, json.dumps(doc, sort_keys=True).encode("utf-8"))
            return True
        except OSError as exc:
            if not self._write_warned:  # once per cache: every later entry would fail the same way
                logger.warning("cannot write to the schedule cache %s (%s); continuing without it (set "
                               "RLSCHED_CACHE_DIR to a writable directory)", self.directory, exc)
                self._write_warned = True
            return False


def _entry_fields(key: str, subject: CacheSubject, table: list[list[int]], evaluations: int, finished: bool,
                  search_time_s: float, energy_pj: float, cycles: float) -> dict[str, Any]:
    return {"format": CACHE_FORMAT, "key": key, "layer": list(subject.layer.signature()),
            "target_sha256": subject.target.sha256, "objective": str(subject.objective),
            "strategy": subject.strategy, "table": table, "evaluations": int(evaluations),
            "finished": bool(finished), "search_time_s": float(search_time_s),
            "energy_pj": float(energy_pj), "cycles": float(cycles)}


def _digest(fields: Mapping[str, Any]) -> str:
    """sha256 over the entry's fields (the digest itself excluded), in canonical JSON."""
    body = {k: v for k, v in fields.items() if k != "digest"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _no_constant(name: str) -> Any:
    raise ValueError(f"non-finite number {name}")


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > 19:
        raise ValueError(f"integer {text[:24]}... out of range")
    return int(text)


def _is_int(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _is_real(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _checked_entry(data: bytes, key: str, subject: CacheSubject) -> SolvedLayer:
    """Parse and check one entry (see the module doc). Raises ValueError on the first problem."""
    from .native.costmodel import evaluate_table

    doc = json.loads(data.decode("utf-8"), parse_constant=_no_constant, parse_int=_bounded_int)
    flexible = subject.dataflow == "flexible"
    if not isinstance(doc, dict) or set(doc) != (_FIELDS | _FLEXIBLE_FIELDS if flexible else _FIELDS):
        raise ValueError("not an entry of this format (keys)")
    expected = _entry_fields(key, subject, [], 0, False, 0.0, 0.0, 0.0)
    for k in ("format", "key", "layer", "target_sha256", "objective", "strategy"):
        if doc[k] != expected[k] or type(doc[k]) is not type(expected[k]):
            raise ValueError(f"{k} does not match the entry asked for")
    table = doc["table"]
    if not _is_table(table):
        raise ValueError("table is not 10 rows of 8 integers in [1, 2**31)")
    evaluations, finished, search_time_s = doc["evaluations"], doc["finished"], doc["search_time_s"]
    if not (_is_int(evaluations) and 0 <= evaluations <= _MAX_EVALUATIONS):
        raise ValueError("evaluations out of range")
    if not isinstance(finished, bool):
        raise ValueError("finished is not a boolean")
    if not (_is_real(search_time_s) and 0 <= search_time_s <= _MAX_SEARCH_TIME_S):
        raise ValueError("search_time_s out of range")
    if not (_is_real(doc["energy_pj"]) and _is_real(doc["cycles"])):
        raise ValueError("stored figures are not finite numbers")
    if not isinstance(doc["digest"], str) or doc["digest"] != _digest(doc):
        raise ValueError("digest mismatch (the entry was edited)")
    arr = np.asarray(table, dtype=np.int64)
    used, flows, fixed_arr = subject.target, None, None
    if flexible:
        flows, fixed_arr, used = _checked_flexible(doc, subject)
    ev = evaluate_table(used, subject.layer, arr, strict=False)
    if not ev.valid:
        raise ValueError(f"table is not valid for this layer and target ({ev.invalid_reason})")
    if ev.energy_pj != doc["energy_pj"] or ev.cycles != doc["cycles"]:
        raise ValueError(f"stored figures ({doc['energy_pj']} pJ, {doc['cycles']} cycles) are not the table's "
                         f"({ev.energy_pj} pJ, {ev.cycles} cycles)")
    fixed = None
    if fixed_arr is not None:
        fixed = evaluate_table(subject.target, subject.layer, fixed_arr, strict=False)
        if not fixed.valid or ev.objective(subject.objective) > fixed.objective(subject.objective):
            raise ValueError("the fixed-dataflow table is not valid, or better than the flexible one")
    return SolvedLayer(layer=subject.layer, table=SchedulingTable.from_array(arr), evaluation=ev, objective=subject.objective,
                       strategy=subject.strategy, evaluations=evaluations, finished=finished,
                       search_time_s=float(search_time_s), dataflows=flows,
                       fixed_table=None if fixed_arr is None else SchedulingTable.from_array(fixed_arr), fixed_evaluation=fixed,
                       cached=True)


def _is_table(table: Any) -> bool:
    return isinstance(table, list) and len(table) == N_ROWS and all(
        isinstance(row, list) and len(row) == N_COLS and all(_is_int(v) and 1 <= v <= _MAX_FACTOR for v in row)
        for row in table)


def _checked_flexible(doc: Mapping[str, Any], subject: CacheSubject) -> tuple[Any, np.ndarray, Target]:
    """The dataflows, fixed table and dataflow-applied target of a flexible entry (ValueError if bad)."""
    flows = doc["dataflows"]
    if not (isinstance(flows, list) and len(flows) == 2 and all(f is None or isinstance(f, str) for f in flows)):
        raise ValueError("dataflows is not a pair")
    choice = (flows[0], flows[1])
    if choice not in subject.target.flexible_combinations():
        raise ValueError(f"dataflows {choice} are not allowed on this target")
    if not _is_table(doc["fixed_table"]):
        raise ValueError("fixed_table is not 10 rows of 8 integers in [1, 2**31)")
    return choice, np.asarray(doc["fixed_table"], dtype=np.int64), subject.target.with_dataflows(choice)
