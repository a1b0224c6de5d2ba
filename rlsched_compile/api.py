"""The compiler pass as a Python call: :func:`compile_model` schedules every layer of a model on a
target and returns a :class:`CompileResult`, whose :meth:`CompileResult.write` writes the outputs.

This is the one orchestrator: read the model (frontend), load the target (targets), solve each
unique layer once (search; in parallel processes, through the on-disk cache), then hand the
results to the writers (emit). The CLI is a thin layer over it.
"""
from __future__ import annotations

import concurrent.futures
import concurrent.futures.process
import contextlib
import datetime
import difflib
import hashlib
import json
import logging
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator, Mapping

import numpy as np

from ._version import __version__
from .cache import CachedSchedule, CacheSubject, ScheduleCache, cache_key
from ._io import staged_output_dir
from ._workers import capped_jobs, process_pool
from .emit._files import dumps_json, write_bytes_atomic, write_text_atomic
from .emit.schedule import (LayerFailure, LayerSchedule, file_stem, render_schedule_text, schedule_to_dict,
                            scheduled_onnx_name)
from .emit.report import NetworkTotals, build_report, compute_totals, render_markdown
from .errors import NativeError, RlschedError, SearchError
from .layer import Layer
from .native.costmodel import evaluate_table
from .objective import DEFAULT_OBJECTIVE, Objective
from .targets.model import Target

if TYPE_CHECKING:  # networkx is imported with the frontend, not with the package
    from .network import Network

logger = logging.getLogger(__name__)

#: ``progress(done, total, layer_name)``: called once before solving (done = 0) and after each
#: unique layer is solved or read from the cache.
ProgressCallback = Callable[[int, int, str], None]


@dataclass(frozen=True)
class CompileSettings:
    """Everything besides the model and target that decides the result.

    Attributes:
        objective: ``energy``, ``cycles`` or ``edp``.
        strategy: the search strategy's registered name.
        seed: random seed of the search.
        budget: evaluation budget of the search (None: the strategy's default).
        batch: the batch size the model was read with.
        strict: whether operators with MACs that cannot be scheduled were errors.
        rl_finetune_steps: environment steps the agent was fine-tuned on this model's layers
            before scheduling (None: the shipped policy as is).
        dataflow: ``fixed`` (each buffer's declared dataflow) or ``flexible`` (chosen per layer).
    """

    objective: Objective
    strategy: str
    seed: int
    budget: int | None
    batch: int
    strict: bool
    rl_finetune_steps: int | None = None
    dataflow: str = "fixed"

    def to_dict(self) -> dict[str, Any]:
        d = {"objective": self.objective.value, "strategy": self.strategy, "seed": self.seed,
             "budget": self.budget, "batch": self.batch, "strict": self.strict}
        if self.rl_finetune_steps is not None:
            d["rl_finetune_steps"] = self.rl_finetune_steps
        if self.dataflow != "fixed":  # fixed mode keeps the report of before the option existed
            d["dataflow"] = self.dataflow
        return d


@dataclass(frozen=True)
class CompileResult:
    """The schedules of every layer of a network on one target.

    Attributes:
        network: the network that was compiled.
        target: the target.
        settings: objective, strategy, seed, ...
        layers: one :class:`LayerSchedule` per scheduled layer, in network order.
        failures: layers without a valid schedule (empty when the compile succeeded).
        totals: network totals over ``layers``.
        timing: wall times (seconds) and cache statistics; never part of the deterministic files.
    """

    network: Network
    target: Target
    settings: CompileSettings
    layers: tuple[LayerSchedule, ...]
    failures: tuple[LayerFailure, ...]
    totals: NetworkTotals
    timing: Mapping[str, Any] = field(compare=False)
    model: Any = field(default=None, compare=False, repr=False)

    @property
    def ok(self) -> bool:
        """True when every layer got a valid schedule."""
        return not self.failures

    def report(self) -> dict[str, Any]:
        """The ``report.json`` document."""
        return build_report(network=self.network, target=self.target, settings=self.settings.to_dict(),
                            schedules=self.layers, failures=self.failures, totals=self.totals)

    def write(self, out_dir: str | os.PathLike[str]) -> Path:
        """Write every output into ``out_dir``, the whole set at once (see :mod:`rlsched_compile._io`).

        Files: ``schedules/NNN_<layer>.json`` and ``.txt``, ``report.json``, ``report.md``,
        ``report.html``, ``<model>.scheduled.onnx`` (when the model is available), ``timing.json``
        and the manifest ``.rlsched-manifest.json``. They are built in a temporary folder beside
        ``out_dir`` and swapped in when complete: the folder holds the old set or the new set, never
        a mix. A folder holding files this tool did not write is refused (nothing is deleted), and
        so is a folder another run is writing.

        Returns:
            The output directory.

        Raises:
            OutputFolderError: the folder is in use by another run or holds foreign files.
            RlschedError: the directory cannot be created or written.
        """
        from .emit.external_data import place_beside
        from .emit.html import render_html
        from .emit.onnx_annotate import annotate_model

        out = Path(out_dir)
        try:
            with staged_output_dir(out) as stage:
                sched_dir = stage / "schedules"
                sched_dir.mkdir()
                for s in self.layers:
                    stem = file_stem(s.index, s.layer.name)
                    text = dumps_json(schedule_to_dict(s, self.target))
                    write_text_atomic(sched_dir / f"{stem}.json", text)
                    write_text_atomic(sched_dir / f"{stem}.txt", render_schedule_text(s, self.target))
                report = self.report()
                write_text_atomic(stage / "report.json", dumps_json(report))
                write_text_atomic(stage / "report.md", render_markdown(report))
                write_text_atomic(stage / "report.html", render_html(report))
                model, external = self._model_proto()
                if model is not None:
                    annotated = annotate_model(model, self.layers, target=self.target,
                                               node_index=self.network.onnx_node,
                                               totals_energy_pj=self.totals.energy_pj,
                                               totals_cycles=self.totals.cycles)
                    place_beside(external, stage)
                    write_bytes_atomic(stage / scheduled_onnx_name(self.network.name),
                                       annotated.SerializeToString(deterministic=True))
                timing = dict(self.timing)
                timing["written_utc"] = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
                write_text_atomic(stage / "timing.json", dumps_json(timing))
        except OSError as exc:
            raise RlschedError(f"cannot write outputs to {out}: {exc.strerror or exc}; "
                               "choose another directory with --out") from exc
        logger.info("wrote %s", out)
        return out

    def _model_proto(self) -> tuple[Any, dict[str, Path]]:
        """The model to annotate and its external data files (location -> file); ``None`` when
        there is no model or its external data cannot be followed (then with a warning)."""
        import onnx

        from .emit.external_data import external_locations, resolve_locations

        if isinstance(self.model, onnx.ModelProto):
            return self.model, {}
        if self.network.source is None:
            return None, {}
        model = onnx.load(self.network.source, load_external_data=False)
        locations = external_locations(model)
        if not locations:
            return model, {}
        files = resolve_locations(self.network.source, locations)
        if isinstance(files, str):
            logger.warning("%s: %s; %s.scheduled.onnx is not written", self.network.source, files,
                           self.network.name)
            return None, {}
        return model, files


def ensure_writable_dir(path: str | os.PathLike[str]) -> Path:
    """Create ``path`` (and parents) and check a file can be created in it.

    Raises:
        RlschedError: it cannot (permission, read-only file system, a file in the way, ...).
    """
    out = Path(path)
    try:
        out.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".probe.", dir=out)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise RlschedError(f"output directory {out} is not writable ({exc.strerror or exc}); "
                           "choose another with --out") from None
    return out


# ---- strategies ----------------------------------------------------------------------------

def available_strategies() -> tuple[list[str], str]:
    """Registered strategy names (sorted) and the default one, read from the search package."""
    from . import search

    from .search import base

    names = sorted(search.STRATEGIES)
    # Read it from where schedule_layer reads it, so a strategy that changes the default wins.
    default = getattr(base, "DEFAULT_STRATEGY", None) or search.DEFAULT_STRATEGY
    return names, str(default)


def _strategy_token(name: str) -> Any:
    """Strategy-specific cache token (e.g. a policy checkpoint hash) when the strategy has one."""
    from . import search

    strat = search.STRATEGIES[name]
    token = getattr(strat, "cache_token", None)
    if callable(token):
        token = token()
    return token


def resolve_strategy(search_name: str | None) -> str:
    """The strategy name to use (``None``: the search package's default).

    Raises:
        RlschedError: unknown name (with a suggestion).
    """
    names, default = available_strategies()
    if search_name is None:
        return default
    if search_name not in names:
        close = difflib.get_close_matches(search_name, names, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise RlschedError(f"unknown search strategy {search_name!r}; {hint}choose one of {', '.join(names)}")
    return search_name


# ---- solving -------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Solved:
    group: int
    table: list[list[int]] | None
    strategy: str
    evaluations: int
    finished: bool
    search_time_s: float
    error: str | None = None
    timed_out: bool = False
    dataflows: tuple[str | None, str | None] | None = None
    fixed_table: list[list[int]] | None = None


@contextlib.contextmanager
def _policy_override(strategy: str, policy_path: str | None) -> Iterator[None]:
    """Let an agent strategy use another policy file for the duration (restored afterwards)."""
    if policy_path is None:
        yield
        return
    from . import search

    strat = search.STRATEGIES[strategy]
    previous = strat.policy_path
    strat.policy_path = Path(policy_path)
    try:
        yield
    finally:
        strat.policy_path = previous


def _finetuned_policy(strategy: str, target: Target, layers: list[Layer], *, steps: int, objective: Objective,
                      seed: int, store: Any) -> str:
    """``--rl-finetune STEPS``: fine-tune the agent on this model's unique layers, once.

    The fine-tuned policy is kept under the schedule cache (keyed by the layers, target, objective,
    steps, seed and the starting policy), so a re-run reuses it; without a cache it goes to a
    temporary folder for this run only. Returns the policy file's path.
    """
    from . import search

    strat = search.STRATEGIES[strategy]
    if not hasattr(strat, "policy_path"):
        agents = sorted(n for n, st in search.STRATEGIES.items() if hasattr(st, "policy_path"))
        raise RlschedError(f"--rl-finetune fine-tunes the scheduling agent, but strategy {strategy!r} has none; "
                           f"use --search {' or '.join(agents)}")
    if steps < 1:
        raise RlschedError(f"--rl-finetune needs a number of steps >= 1, got {steps}")
    key = hashlib.sha256(json.dumps({
        "layers": [list(ly.signature()) for ly in layers], "target": target.sha256, "objective": objective.value,
        "steps": steps, "seed": seed, "policy": _strategy_token(strategy), "tool": __version__,
    }, sort_keys=True).encode()).hexdigest()[:24]
    root = Path(store.directory) / "finetuned" if store is not None else Path(tempfile.mkdtemp(prefix="rlsched_ft_"))
    out_dir = root / key
    if (out_dir / "policy.npz").is_file():
        logger.info("--rl-finetune: reusing the policy fine-tuned earlier (%s)", out_dir)
        return str(out_dir / "policy.npz")
    try:
        from .rl.train import finetune_policy
    except ImportError as exc:
        raise RlschedError(f"--rl-finetune trains with torch, which is not installed ({exc}); install it with "
                           "`pip install torch==2.13.0` or drop --rl-finetune") from None
    logger.info("--rl-finetune: fine-tuning the agent for %d steps on %d layers", steps, len(layers))
    finetune_policy(strat.policy(), [(target, ly) for ly in layers], steps=steps, out_dir=out_dir, seed=seed,
                    objective=objective)
    return str(out_dir / "policy.npz")


def _solve(group: int, target: Target, layer: Layer, strategy: str, objective: Objective, seed: int,
           budget: int | None, policy_path: str | None = None, deadline_at: float | None = None,
           dataflow: str = "fixed") -> _Solved:
    """Schedule one layer (runs in a worker process or in-process).

    ``deadline_at`` (``time.time()`` seconds, --time-limit): a layer started after it gets the
    quickest valid table (the paper's all-in-DRAM start, else a seeded valid sample); an anytime
    strategy running when it passes returns its best table so far. Either is marked timed out.
    ``dataflow`` ``flexible``: the joint dataflow search (:mod:`rlsched_compile.search.dataflow`).
    """
    from .search import deadline, schedule_layer

    t0 = time.perf_counter()
    if deadline_at is not None and time.time() >= deadline_at:
        return _quick_table(group, target, layer, strategy, seed, t0)
    flows = fixed_table = None
    try:
        with _policy_override(strategy, policy_path), deadline.deadline(deadline_at):
            if dataflow == "flexible":
                from .search.dataflow import schedule_layer_flexible

                flex = schedule_layer_flexible(target, layer, search=strategy, objective=objective, seed=seed,
                                               budget=budget)
                res, flows = flex.result, flex.dataflows
                fixed_table = np.asarray(flex.fixed.table, dtype=np.int64).tolist()
            else:
                res = schedule_layer(target, layer, search=strategy, objective=objective, seed=seed, budget=budget)
            timed_out = deadline.was_hit()
    except SearchError as exc:
        return _Solved(group, None, strategy, 0, False, time.perf_counter() - t0, str(exc))
    wall = time.perf_counter() - t0
    return _Solved(group, np.asarray(res.table, dtype=np.int64).tolist(), str(getattr(res, "strategy", strategy)),
                   int(res.evaluations), bool(res.finished) and not timed_out,
                   float(getattr(res, "wall_time_s", wall) or wall), timed_out=timed_out,
                   dataflows=flows, fixed_table=fixed_table)


def _quick_table(group: int, target: Target, layer: Layer, strategy: str, seed: int, t0: float) -> _Solved:
    """The --time-limit fallback for a layer not started in time: the first valid table at hand."""
    from .native import search as native_search
    from .search.diagnose import smallest_table

    table, why = smallest_table(target, layer)
    if table is None or not evaluate_table(target, layer, table).valid:
        try:
            table, _ = native_search.sample_valid(target, layer, rng_state=seed)
        except SearchError as exc:
            return _Solved(group, None, strategy, 0, False, time.perf_counter() - t0, why or str(exc), timed_out=True)
    return _Solved(group, np.asarray(table, dtype=np.int64).tolist(), f"{strategy} (time limit)", 1, False,
                   time.perf_counter() - t0, timed_out=True)


def _load_model(model: Any, *, batch: int | None, strict: bool) -> tuple[Network, Any]:
    from .frontend import load_network
    from .network import Network

    if isinstance(model, Network):
        return model, None

    net = load_network(model, batch=batch, strict=strict)
    return net, (model if not isinstance(model, (str, os.PathLike)) else None)


def compile_model(model: str | os.PathLike[str] | Any, target: str | os.PathLike[str] | Target, *,
                  objective: Objective | str = DEFAULT_OBJECTIVE, search: str | None = None, batch: int | None = None,
                  seed: int = 0, budget: int | None = None, jobs: int | None = None, cache: bool = True,
                  time_limit_s: float | None = None,
                  cache_dir: str | os.PathLike[str] | None = None, strict: bool = False,
                  rl_finetune_steps: int | None = None,
                  progress: ProgressCallback | None = None, dataflow: str = "fixed") -> CompileResult:
    """Schedule every layer of a model on a target.

    Args:
        model: path of an ONNX file, an ``onnx.ModelProto``, or a :class:`Network`.
        target: shipped target name, target file path, or a :class:`Target`.
        objective: what the search minimizes: ``energy`` (pJ, static included), ``cycles`` or
            ``edp`` (pJ x cycles).
        search: strategy name (see ``rlsched_compile.search.STRATEGIES``); None for the default.
        batch: batch size for models with a symbolic batch dimension.
        seed: random seed of the search (same seed, same result).
        budget: evaluation budget per layer for budgeted strategies (None: their default).
        time_limit_s: wall-clock cap of the whole compile in seconds (None: none). Anytime: a layer
            keeps the best table found when the limit passes (a layer not started gets the quickest
            valid table); such layers are marked unfinished, and are not cached. A compile that does
            not hit the limit is the same as one without it.
        jobs: worker processes for unique layers (None: all cores; 1: in this process).
        cache: read and write the on-disk schedule cache.
        cache_dir: cache directory (default: see :mod:`rlsched_compile.cache`).
        strict: operators with MACs that cannot be scheduled are an error instead of a warning.
        rl_finetune_steps: fine-tune the agent (strategies ``rl``/``rl-hybrid``) for about this many
            environment steps on the model's unique layers before scheduling (needs torch; the tuned
            policy is cached and reused).
        progress: optional callback ``(done, total, layer_name)`` over unique layers.
        dataflow: ``fixed`` (each buffer's declared, or first declared, dataflow: today's results)
            or ``flexible`` (each layer's buffers take any dataflow the target allows, chosen
            jointly with the table; the report adds the saving against fixed, see
            :mod:`rlsched_compile.search.dataflow`).

    Returns:
        The :class:`CompileResult`; layers without a valid schedule are in ``.failures``.

    Raises:
        ModelError, TargetError, RlschedError: bad input (unknown objective or strategy, ...).
    """
    t_start = time.perf_counter()
    objective = Objective.parse(objective)
    if jobs is not None and jobs < 1:
        raise RlschedError(f"jobs must be >= 1, got {jobs}")
    if budget is not None and budget < 1:
        raise RlschedError(f"budget must be >= 1 evaluations, got {budget}")
    if dataflow not in ("fixed", "flexible"):
        raise RlschedError(f"unknown dataflow mode {dataflow!r}; choose fixed or flexible")
    if time_limit_s is not None and not (time_limit_s > 0 and time_limit_s < 1e9):
        raise RlschedError(f"time limit must be a positive number of seconds, got {time_limit_s}")
    deadline_at = None if time_limit_s is None else time.time() + time_limit_s
    from .targets import load_target

    tgt = load_target(target)
    strategy = resolve_strategy(search)
    net, proto = _load_model(model, batch=batch, strict=strict)
    t_loaded = time.perf_counter()
    settings = CompileSettings(objective=objective, strategy=strategy, seed=seed, budget=budget,
                               batch=net.batch, strict=strict, rl_finetune_steps=rl_finetune_steps,
                               dataflow=dataflow)
    groups = net.unique_layers()
    logger.info("%s: %d layers, %d unique; target %s; strategy %s, objective %s", net.name,
                len(net.layers), len(groups), tgt.name, strategy, objective)

    store = ScheduleCache(cache_dir) if cache else None
    policy_path = None
    if rl_finetune_steps is not None:
        policy_path = _finetuned_policy(strategy, tgt, [g.layer for g in groups], steps=rl_finetune_steps,
                                        objective=objective, seed=seed, store=store)
    with _policy_override(strategy, policy_path):
        token = _strategy_token(strategy)
    target_sha = tgt.sha256
    keys = [cache_key(layer_signature=g.layer.signature(), target_sha256=target_sha, objective=objective,
                      strategy=strategy, settings={"seed": seed, "budget": budget, "token": token,
                                # the mode is in every flexible key; fixed keys stay those of before
                                # the option (the sweep writes them for the compile to read)
                                **({"dataflow": dataflow} if dataflow != "fixed" else {})},
                      tool_version=__version__) for g in groups]
    solved: dict[int, _Solved] = {}
    cached: set[int] = set()
    done = 0
    if progress:
        progress(0, len(groups), groups[0].layer.name if groups else "")
    todo = []
    subjects = [CacheSubject(target=tgt, layer=g.layer, objective=objective, strategy=strategy, dataflow=dataflow)
                for g in groups]
    for gi, g in enumerate(groups):
        hit = store.get(keys[gi], subjects[gi]) if store else None  # checked and re-evaluated
        if hit is not None:
            solved[gi] = _Solved(gi, hit.table.tolist(), hit.strategy, hit.evaluations, hit.finished,
                                 hit.search_time_s, dataflows=hit.dataflows,
                                 fixed_table=None if hit.fixed_table is None else hit.fixed_table.tolist())
            cached.add(gi)
            done += 1
            if progress:
                progress(done, len(groups), g.layer.name)
        else:
            todo.append(gi)
    if cached:
        logger.info("%d of %d unique layers served from the cache", len(cached), len(groups))

    def finish(res: _Solved) -> None:
        nonlocal done
        solved[res.group] = res
        done += 1
        if res.table is not None and store is not None and not res.timed_out:
            store.put(keys[res.group], CachedSchedule(
                np.asarray(res.table, dtype=np.int64), res.strategy, res.evaluations, res.finished,
                res.search_time_s, dataflows=res.dataflows,
                fixed_table=None if res.fixed_table is None else np.asarray(res.fixed_table, dtype=np.int64)),
                subjects[res.group])
        if res.error is not None:
            logger.error("%s", res.error)  # the search names the layer
        else:
            logger.debug("layer %s solved in %.3f s (%d evaluations)", groups[res.group].layer.name,
                         res.search_time_s, res.evaluations)
        if progress:
            progress(done, len(groups), groups[res.group].layer.name)

    n_jobs = min(capped_jobs(jobs), len(todo))
    t_search = time.perf_counter()
    if n_jobs <= 1:
        for gi in todo:
            finish(_solve(gi, tgt, groups[gi].layer, strategy, objective, seed, budget, policy_path, deadline_at,
                          dataflow))
    else:
        try:
            with process_pool(n_jobs) as pool:
                futures = [pool.submit(_solve, gi, tgt, groups[gi].layer, strategy, objective, seed, budget,
                                       policy_path, deadline_at, dataflow) for gi in todo]
                for fut in concurrent.futures.as_completed(futures):
                    finish(fut.result())
        except concurrent.futures.process.BrokenProcessPool as exc:
            raise NativeError(f"a worker process died while scheduling {net.name} ({exc}); the layers solved "
                              "so far are cached: re-run with --jobs 1 -v to see the failing layer") from exc
    t_solved = time.perf_counter()

    # Expand unique results to every layer, in network order.
    group_of = {i: gi for gi, g in enumerate(groups) for i in g.indices}
    evaluations = {}
    fixed_evaluations: dict[int, Any] = {}
    schedules: list[LayerSchedule] = []
    failures: list[LayerFailure] = []
    for i, layer in enumerate(net.layers):
        gi = group_of[i]
        res = solved[gi]
        if res.table is None:
            failures.append(LayerFailure(i, layer, gi, res.error or "no valid schedule"))
            continue
        if gi not in evaluations:
            used = tgt if res.dataflows is None else tgt.with_dataflows(res.dataflows)
            evaluations[gi] = evaluate_table(used, groups[gi].layer, res.table)
            if res.fixed_table is not None:
                fixed_evaluations[gi] = evaluate_table(tgt, groups[gi].layer, res.fixed_table)
        table = tuple(tuple(int(v) for v in row) for row in res.table)
        schedules.append(LayerSchedule(
            index=i, layer=layer, group=gi, table=table, evaluation=evaluations[gi], objective=objective,
            strategy=res.strategy, evaluations=res.evaluations, finished=res.finished,
            search_time_s=res.search_time_s, cached=gi in cached, dataflows=res.dataflows,
            fixed_evaluation=fixed_evaluations.get(gi)))
    totals = compute_totals(schedules, tgt, layers=len(net.layers), unique_layers=len(groups))
    t_end = time.perf_counter()
    timing = {
        "compile_time_s": round(t_end - t_start, 6), "load_time_s": round(t_loaded - t_start, 6),
        "search_wall_time_s": round(t_solved - t_search, 6), "jobs": n_jobs,
        "cache": {"enabled": store is not None, "directory": str(store.directory) if store else None,
                  "hits": len(cached), "misses": len(todo)},
        "layers": [{"group": gi, "name": groups[gi].layer.name, "cached": gi in cached,
                    "search_time_s": round(solved[gi].search_time_s, 6)} for gi in range(len(groups))],
    }
    logger.info("compiled %s on %s in %.2f s (%d cache hits, %d solved)", net.name, tgt.name,
                t_end - t_start, len(cached), len(todo))
    return CompileResult(network=net, target=tgt, settings=settings, layers=tuple(schedules),
                         failures=tuple(failures), totals=totals, timing=timing, model=proto)
