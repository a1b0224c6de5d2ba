"""Run a sweep: expand its points, solve every unique layer task once on an executor, store each
point as soon as its last layer is solved, and write the result files.

Output folder ``DIR``:

* ``points/<key>.json``: one file per finished (model, target point, objective), written
  atomically as it completes; ``key`` hashes everything the row depends on. A re-run reads the
  files whose key and shape match and recomputes the rest (layers already solved come from the
  schedule cache), so a killed sweep continues where it stopped.
* ``results.csv``, ``results.json``, ``sweep.html``: written at the end, byte-identical for any
  executor, ``--jobs`` or resume.
* ``timings.json``: wall and search times, cache and resume statistics.

Solved layers go to the schedule cache (:mod:`rlsched_compile.cache`) of this machine, written by
this process only; a point's figures are then computed by :func:`rlsched_compile.api.compile_model`
served from that cache, so a sweep row equals a plain compile of that model on that target.
"""
from __future__ import annotations

import contextlib
import datetime
import hashlib
import json
import logging
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from .._version import __version__
from .._io import write_text_atomic
from ..api import compile_model, ensure_writable_dir
from ..cache import CacheSubject, ScheduleCache
from ..solved import SolvedLayer
from ..stages import SolveSettings, layer_cache_key
from ..errors import RlschedError
from ..objective import DEFAULT_OBJECTIVE, Objective
from .executors import LayerTask, LocalExecutor, RayExecutor, SearchSettings
from .html import render_sweep_html
from .points import TargetPoint, cell, expand_points
from .results import columns, error_row, ok_row, render_csv, render_json, valid_row
from .spec import SweepSpec

logger = logging.getLogger(__name__)

#: Version of the per-point file layout (part of every point key).
POINT_FORMAT: int = 1
_POINT_FILE = re.compile(r"[0-9a-f]{64}\.json")

#: ``progress(points_done, points_total, layers_done, layers_total)``.
SweepProgress = Callable[[int, int, int, int], None]


@dataclass
class _Row:
    """One (model, point, objective) being computed."""

    index: int
    model: int
    point: TargetPoint
    objective: Objective
    key: str
    identity: dict[str, Any]
    pending: set[int] = field(default_factory=set)
    failure: str | None = None
    row: dict[str, Any] | None = None
    resumed: bool = False
    compile_time_s: float | None = None


@dataclass(frozen=True)
class SweepOutcome:
    """What :func:`run_sweep` did.

    Attributes:
        rows: the result rows, in sweep order.
        out_dir: the output folder.
        timings: the ``timings.json`` document.
    """

    rows: tuple[dict[str, Any], ...]
    out_dir: Path
    timings: dict[str, Any]


@contextlib.contextmanager
def _quiet_api() -> Iterator[None]:
    """Per-point compiles served from the cache log nothing at info level (one line per point
    would drown the progress); debug logging (-v) still shows them."""
    loggers = [logging.getLogger(name) for name in ("rlsched_compile.api", "rlsched_compile.stages")]
    previous = [lg.level for lg in loggers]
    for lg in loggers:
        if lg.getEffectiveLevel() == logging.INFO:
            lg.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for lg, level in zip(loggers, previous):
            lg.setLevel(level)


def _point_key(spec: SweepSpec, model: int, point: TargetPoint, objective: Objective, token: Any) -> str:
    net = spec.models[model].network
    blob = json.dumps({
        "format": POINT_FORMAT, "tool": __version__,
        "model": {"name": spec.models[model].name, "sha256": net.sha256, "batch": net.batch},
        "base": point.base,
        "parameters": [[p.name, p.level, p.field, v] for p, v in zip(spec.parameters, point.values)],
        "target": point.target.sha256 if point.target is not None else {"error": point.error},
        "objective": str(objective), "strategy": spec.strategy, "seed": spec.seed, "budget": spec.budget,
        "token": token,
    }, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def _read_point(path: Path, key: str, cols: Sequence[str], identity: dict[str, Any]) -> dict[str, Any] | None:
    """A stored row, or None when absent or not exactly what this sweep would write (format, key,
    columns, identity columns, finite non-negative figures)."""
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        logger.warning("ignoring unreadable point file %s (%s); it is recomputed", path, exc)
        return None
    if not isinstance(doc, dict) or doc.get("format") != POINT_FORMAT or doc.get("key") != key \
            or not valid_row(doc.get("row"), cols) \
            or any(doc["row"][k] != v or type(doc["row"][k]) is not type(v) for k, v in identity.items()):
        logger.warning("ignoring point file %s (not this sweep's point); it is recomputed", path)
        return None
    return doc["row"]


def run_sweep(spec: SweepSpec, out_dir: str | os.PathLike[str], *, executor: LocalExecutor | RayExecutor,
              cache_dir: str | os.PathLike[str] | None = None,
              progress: SweepProgress | None = None) -> SweepOutcome:
    """Run ``spec`` on ``executor``, writing into ``out_dir`` (see the module doc).

    Args:
        spec: the validated sweep.
        out_dir: output folder (created if needed).
        executor: where layer tasks run (:func:`~rlsched_compile.sweep.executors.make_executor`).
        cache_dir: schedule cache folder (default: the user's cache, see :mod:`rlsched_compile.cache`).
        progress: optional callback over points and layer tasks.

    Returns:
        The rows, the folder and the timings.

    Raises:
        RlschedError: the output folder or the cache cannot be written; a worker failed.
    """
    t_start = time.perf_counter()
    out = ensure_writable_dir(out_dir)
    points_dir = ensure_writable_dir(out / "points")
    store = ScheduleCache(cache_dir)
    try:
        ensure_writable_dir(store.directory)
    except RlschedError:
        raise RlschedError(f"the schedule cache {store.directory} is not writable; a sweep stores every solved "
                           "layer there: set RLSCHED_CACHE_DIR to a writable folder") from None
    token = SolveSettings(objective=DEFAULT_OBJECTIVE, strategy=spec.strategy, seed=spec.seed,
                          budget=spec.budget).cache_token()
    settings = SearchSettings(spec.strategy, spec.seed, spec.budget)
    cols = columns(spec)
    points = expand_points(spec)
    groups = [m.network.unique_layers() for m in spec.models]

    rows: list[_Row] = []
    for mi, m in enumerate(spec.models):
        for pt in points:
            for obj in spec.objectives:
                ident = {"model": m.name, "target": pt.base,
                         **{p.name: v for p, v in zip(spec.parameters, pt.values)}, "objective": str(obj)}
                rows.append(_Row(len(rows), mi, pt, obj, _point_key(spec, mi, pt, obj, token), ident))

    tasks: list[LayerTask] = []
    task_of: dict[str, int] = {}
    waiting: dict[int, list[_Row]] = {}
    instances = cache_hits = resumed = 0
    for r in rows:
        stored = _read_point(points_dir / f"{r.key}.json", r.key, cols, r.identity)
        if stored is not None:
            r.row, r.resumed = stored, True
            resumed += 1
            continue
        if r.point.target is None:
            continue
        for g in groups[r.model]:
            instances += 1
            key = layer_cache_key(g.layer, r.point.target, SolveSettings(objective=r.objective, strategy=spec.strategy,
                                                                         seed=spec.seed, budget=spec.budget), token)
            ti = task_of.get(key)
            if ti is None:
                if store.get(key, CacheSubject(r.point.target, g.layer, r.objective, spec.strategy)) is not None:
                    cache_hits += 1
                    continue
                ti = task_of[key] = len(tasks)
                tasks.append(LayerTask(key, r.point.target, g.layer, r.objective))
            r.pending.add(ti)
            waiting.setdefault(ti, []).append(r)
    logger.info("sweep: %d models x %d target points x %d objectives = %d results; %d stored earlier, "
                "%d layer tasks to solve (%d layer instances, %d in the cache)", len(spec.models), len(points),
                len(spec.objectives), len(rows), resumed, len(tasks), instances, cache_hits)

    done_rows = resumed
    done_tasks = 0
    t_run = time.perf_counter()
    if progress:
        progress(done_rows, len(rows), 0, len(tasks))

    def finish_row(r: _Row) -> None:
        nonlocal done_rows
        t0 = time.perf_counter()
        if r.point.target is None:
            r.row = error_row(r.identity, f"invalid target: {r.point.error}")
        elif r.failure is not None:
            r.row = error_row(r.identity, r.failure)
        else:
            net = spec.models[r.model].network
            with _quiet_api():
                res = compile_model(net, r.point.target, objective=r.objective, search=spec.strategy,
                                    seed=spec.seed, budget=spec.budget, jobs=1, cache=True,
                                    cache_dir=store.directory)
            if res.ok:
                r.row = ok_row(r.identity, res.totals.to_dict())
                r.compile_time_s = sum(ly["search_time_s"] for ly in res.timing["layers"]) \
                    + float(res.timing["compile_time_s"])
            else:
                f = res.failures[0]
                r.row = error_row(r.identity, f"layer {f.layer.name}: {f.message}")
        if r.compile_time_s is None:
            r.compile_time_s = time.perf_counter() - t0
        write_text_atomic(points_dir / f"{r.key}.json",
                          json.dumps({"format": POINT_FORMAT, "key": r.key, "row": r.row}, indent=1) + "\n")
        done_rows += 1
        logger.debug("point done: %s", ", ".join(f"{k}={cell(v)}" for k, v in r.identity.items()))
        if progress:
            progress(done_rows, len(rows), done_tasks, len(tasks))

    for r in rows:  # points needing no new solve: fully cached layers, invalid targets
        if r.row is None and not r.pending:
            finish_row(r)

    def on_done(ti: int, res: Any) -> None:
        nonlocal done_tasks
        done_tasks += 1
        task = tasks[ti]
        failure = None
        if isinstance(res, SolvedLayer):
            store.put(task.key, res, CacheSubject(task.target, task.layer, task.objective, spec.strategy))
        else:
            failure = res.message or f"layer {task.layer.name}: no valid schedule"  # the search's message names the layer
        if progress:
            progress(done_rows, len(rows), done_tasks, len(tasks))
        for r in waiting.pop(ti, []):
            r.pending.discard(ti)
            if failure is not None and r.failure is None:
                r.failure = failure
            if not r.pending:
                finish_row(r)

    t_exec = time.perf_counter()
    executor.run(tasks, settings, on_done)
    t_solved = time.perf_counter()
    missing = [r for r in rows if r.row is None]
    if missing:  # a bug, never expected: every row is finished by its last task
        raise RlschedError(f"{len(missing)} sweep points were not finished; re-run to resume")

    final = [r.row for r in rows if r.row is not None]
    write_text_atomic(out / "results.csv", render_csv(final, cols))
    write_text_atomic(out / "results.json", render_json(spec, final))
    write_text_atomic(out / "sweep.html", render_sweep_html(spec, final))
    keep = {f"{r.key}.json" for r in rows}
    for old in points_dir.iterdir():
        if _POINT_FILE.fullmatch(old.name) and old.name not in keep:
            old.unlink()
    t_end = time.perf_counter()
    timings = {
        **executor.describe(),
        "wall_time_s": round(t_end - t_start, 6), "setup_time_s": round(t_run - t_start, 6),
        "solve_wall_time_s": round(t_solved - t_exec, 6),
        "results": {"total": len(rows), "resumed": resumed, "computed": len(rows) - resumed,
                    "ok": sum(r.row is not None and r.row["status"] == "ok" for r in rows)},
        "layer_tasks": {"solved": len(tasks), "instances": instances, "cache_hits": cache_hits,
                        "deduplicated": instances - cache_hits - len(tasks)},
        "cache_directory": str(store.directory),
        "rows": [{**{k: cell(v) for k, v in r.identity.items()}, "resumed": r.resumed,
                  "compile_time_s": None if r.compile_time_s is None else round(r.compile_time_s, 6)}
                 for r in rows],
        "written_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
    write_text_atomic(out / "timings.json", json.dumps(timings, indent=1) + "\n")
    return SweepOutcome(rows=tuple(final), out_dir=out, timings=timings)
