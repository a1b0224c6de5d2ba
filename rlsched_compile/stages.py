"""The compile pass as named stages, in the order :func:`rlsched_compile.api.compile_model` runs them:

1. :func:`load` (model, target) -> :class:`Loaded`: the ``Network`` and the ``Target``;
2. :func:`unique_layers` (network) -> :class:`UniqueLayer` tuple: one per distinct layer
   signature, with the network positions it stands for;
3. :func:`solve` (unique layers, target, settings, cache, workers) -> :class:`Solved`: one
   :class:`~rlsched_compile.solved.SolvedLayer` (or :class:`~rlsched_compile.solved.UnsolvedLayer`)
   per unique layer, from the cache or from :func:`solve_layer` in a worker process;
4. :func:`place` (network, unique layers, solved) -> :class:`Placed`: every network layer's
   :class:`~rlsched_compile.emit.schedule.LayerSchedule` (or failure), in network order;
5. emit: :func:`rlsched_compile.emit.outputs.write_outputs` (the output folder's layout).

Strategy options (``--rl-finetune``'s policy) travel in :class:`SolveSettings`; a strategy object
is built from them where it searches (:func:`~rlsched_compile.search.registry.make_strategy`).
"""
from __future__ import annotations

import concurrent.futures
import concurrent.futures.process
import hashlib
import json
import logging
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence

import numpy as np

from ._version import __version__
from ._workers import capped_jobs, process_pool
from .cache import CacheSubject, ScheduleCache, cache_key
from .emit.schedule import LayerFailure, LayerSchedule
from .errors import NativeError, RlschedError, SearchError
from .layer import Layer
from .native.costmodel import evaluate_table
from .objective import Objective
from .search.base import StrategyOptions
from .solved import SolvedLayer, UnsolvedLayer
from .table import SchedulingTable
from .targets.model import Target

if TYPE_CHECKING:  # networkx is imported with the frontend, not with the package
    from .network import Network

logger = logging.getLogger(__name__)

#: ``progress(done, total, layer_name)``: called once before solving (done = 0) and after each
#: unique layer is solved or read from the cache.
ProgressCallback = Callable[[int, int, str], None]


# ---- 1. load -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Loaded:
    """What the load stage read.

    Attributes:
        network: the model's layers and operator graph.
        target: the accelerator.
        model: the ``onnx.ModelProto`` the caller passed (None for a path or a ``Network``: the
            emit stage reads the annotated model from ``network.source``).
    """

    network: Network
    target: Target
    model: Any = None


def load(model: str | os.PathLike[str] | Any, target: str | os.PathLike[str] | Target, *, batch: int | None,
         strict: bool) -> Loaded:
    """Load the target, then the model.

    Args:
        model: path of an ONNX file, an ``onnx.ModelProto``, or a :class:`Network`.
        target: shipped target name, target file path, or a :class:`Target`.
        batch: batch size for models with a symbolic batch dimension.
        strict: operators with MACs that cannot be scheduled are an error.

    Raises:
        ModelError, TargetError: bad input.
    """
    from .frontend import load_network
    from .network import Network
    from .targets import load_target

    tgt = load_target(target)
    if isinstance(model, Network):
        return Loaded(model, tgt)
    net = load_network(model, batch=batch, strict=strict)
    return Loaded(net, tgt, None if isinstance(model, (str, os.PathLike)) else model)


# ---- 2. unique layers ----------------------------------------------------------------------

@dataclass(frozen=True)
class SolveSettings:
    """Everything besides the layer and target that decides a layer's solve.

    Attributes:
        objective: what the search minimizes (a name given is parsed).
        strategy: a declared strategy name.
        seed: random seed of the search.
        budget: evaluation budget of the search (None: the strategy's default).
        dataflow: ``fixed`` or ``flexible``.
        options: what the strategy is built with (the fine-tuned policy of ``--rl-finetune``).
        deadline_at: ``time.time()`` seconds of ``--time-limit`` (None: none).
    """

    objective: Objective
    strategy: str
    seed: int
    budget: int | None
    dataflow: str = "fixed"
    options: StrategyOptions = StrategyOptions()
    deadline_at: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "objective", Objective.parse(self.objective))

    def cache_token(self) -> str | None:
        """The strategy's cache token, built with these options."""
        from .search.registry import make_strategy

        return make_strategy(self.strategy, self.options).cache_token()


@dataclass(frozen=True)
class UniqueLayer:
    """One distinct layer of a network: solved once for every layer with its signature.

    Attributes:
        group: its index among the network's unique layers.
        layer: the first network layer with this signature.
        indices: the network positions of every layer with this signature.
    """

    group: int
    layer: Layer
    indices: tuple[int, ...]


def layer_cache_key(layer: Layer, target: Target, settings: SolveSettings, token: str | None) -> str:
    """The schedule-cache key of ``layer`` on ``target`` under ``settings`` (``token``: the
    strategy's :meth:`~rlsched_compile.search.base.Strategy.cache_token`)."""
    return cache_key(layer_signature=layer.signature(), target_sha256=target.sha256, objective=settings.objective,
                     strategy=settings.strategy, settings={"seed": settings.seed, "budget": settings.budget,
                                                          "token": token,
                                                          # the mode is in every flexible key; fixed keys stay
                                                          # those of before the option (the sweep writes them
                                                          # for the compile to read)
                                                          **({"dataflow": settings.dataflow}
                                                             if settings.dataflow != "fixed" else {})},
                     tool_version=__version__)


def unique_layers(network: Network) -> tuple[UniqueLayer, ...]:
    """The network's distinct layers, in order of first occurrence (:meth:`Network.unique_layers`)."""
    return tuple(UniqueLayer(gi, g.layer, g.indices) for gi, g in enumerate(network.unique_layers()))


def finetuned_options(settings: SolveSettings, target: Target, layers: Sequence[Layer], *, steps: int,
                      store: ScheduleCache | None) -> StrategyOptions:
    """``--rl-finetune STEPS``: fine-tune the agent on ``layers`` once; the options that use it.

    The fine-tuned policy is kept under the schedule cache (keyed by the layers, target, objective,
    steps, seed and the starting policy), so a re-run reuses it; without a cache it goes to a
    temporary folder for this run only.

    Raises:
        RlschedError: the strategy has no agent, ``steps`` < 1, or torch is missing.
    """
    from .search.registry import STRATEGIES, make_strategy

    strat = make_strategy(settings.strategy, settings.options)
    start = strat.policy()
    if start is None:
        agents = sorted(n for n in STRATEGIES if make_strategy(n).policy() is not None)
        raise RlschedError(f"--rl-finetune fine-tunes the scheduling agent, but strategy {settings.strategy!r} has "
                           f"none; use --search {' or '.join(agents)}")
    if steps < 1:
        raise RlschedError(f"--rl-finetune needs a number of steps >= 1, got {steps}")
    key = hashlib.sha256(json.dumps({
        "layers": [list(ly.signature()) for ly in layers], "target": target.sha256,
        "objective": settings.objective.value, "steps": steps, "seed": settings.seed, "policy": strat.cache_token(),
        "tool": __version__,
    }, sort_keys=True).encode()).hexdigest()[:24]
    root = Path(store.directory) / "finetuned" if store is not None else Path(tempfile.mkdtemp(prefix="rlsched_ft_"))
    out_dir = root / key
    if (out_dir / "policy.npz").is_file():
        logger.info("--rl-finetune: reusing the policy fine-tuned earlier (%s)", out_dir)
        return StrategyOptions(policy_path=out_dir / "policy.npz")
    try:
        from .rl.train import finetune_policy
    except ImportError as exc:
        raise RlschedError(f"--rl-finetune trains with torch, which is not installed ({exc}); install it with "
                           "`pip install torch==2.13.0` or drop --rl-finetune") from None
    logger.info("--rl-finetune: fine-tuning the agent for %d steps on %d layers", steps, len(layers))
    finetune_policy(start, [(target, ly) for ly in layers], steps=steps, out_dir=out_dir, seed=settings.seed,
                    objective=settings.objective)
    return StrategyOptions(policy_path=out_dir / "policy.npz")


# ---- 3. solve ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Solved:
    """What the solve stage produced.

    Attributes:
        results: one record per unique layer, by group index.
        hits: unique layers served from the cache.
        misses: unique layers searched.
        jobs: worker processes used (0 when nothing was searched).
        search_wall_time_s: wall time of the searching, seconds.
    """

    results: tuple[SolvedLayer | UnsolvedLayer, ...]
    hits: int
    misses: int
    jobs: int
    search_wall_time_s: float


def solve_layer(target: Target, layer: Layer, settings: SolveSettings) -> SolvedLayer | UnsolvedLayer:
    """Schedule one layer (runs in a worker process or in-process; the sweep's tasks run it too).

    ``settings.deadline_at`` (--time-limit): a layer started after it gets the quickest valid
    table (the paper's all-in-DRAM start, else a seeded valid sample); an anytime strategy running
    when it passes returns its best table so far. Either is marked timed out. ``settings.dataflow``
    ``flexible``: the joint dataflow search (:mod:`rlsched_compile.search.dataflow`).
    """
    from .search import deadline, schedule_layer
    from .search.registry import make_strategy

    t0 = time.perf_counter()
    if settings.deadline_at is not None and time.time() >= settings.deadline_at:
        return _quick_table(target, layer, settings, t0)
    flows = fixed_table = None
    strategy = make_strategy(settings.strategy, settings.options)
    try:
        with deadline.deadline(settings.deadline_at):
            if settings.dataflow == "flexible":
                from .search.dataflow import schedule_layer_flexible

                flex = schedule_layer_flexible(target, layer, search=strategy, objective=settings.objective,
                                               seed=settings.seed, budget=settings.budget)
                res, flows = flex.result, flex.dataflows
                fixed_table = np.asarray(flex.fixed.table, dtype=np.int64).tolist()
            else:
                res = schedule_layer(target, layer, search=strategy, objective=settings.objective,
                                     seed=settings.seed, budget=settings.budget)
            timed_out = deadline.was_hit()
    except SearchError as exc:
        return UnsolvedLayer(layer, str(exc), time.perf_counter() - t0)
    wall = time.perf_counter() - t0
    table = np.asarray(res.table, dtype=np.int64).tolist()
    used = target if flows is None else target.with_dataflows(flows)
    return SolvedLayer(
        layer=layer, table=SchedulingTable.from_array(table), evaluation=evaluate_table(used, layer, table),
        objective=settings.objective, strategy=str(res.strategy), evaluations=int(res.evaluations),
        finished=bool(res.finished) and not timed_out, search_time_s=float(res.wall_time_s or wall),
        dataflows=flows, fixed_table=None if fixed_table is None else SchedulingTable.from_array(fixed_table),
        fixed_evaluation=None if fixed_table is None else evaluate_table(target, layer, fixed_table),
        timed_out=timed_out)


def _quick_table(target: Target, layer: Layer, settings: SolveSettings, t0: float) -> SolvedLayer | UnsolvedLayer:
    """The --time-limit fallback for a layer not started in time: the first valid table at hand."""
    from .native import search as native_search
    from .search.diagnose import smallest_table

    table, why = smallest_table(target, layer)
    if table is None or not evaluate_table(target, layer, table).valid:
        try:
            table, _ = native_search.sample_valid(target, layer, rng_state=settings.seed)
        except SearchError as exc:
            return UnsolvedLayer(layer, why or str(exc), time.perf_counter() - t0, timed_out=True)
    rows = np.asarray(table, dtype=np.int64).tolist()
    return SolvedLayer(layer=layer, table=SchedulingTable.from_array(rows), evaluation=evaluate_table(target, layer, rows),
                       objective=settings.objective, strategy=f"{settings.strategy} (time limit)", evaluations=1,
                       finished=False, search_time_s=time.perf_counter() - t0, timed_out=True)


def solve(layers: Sequence[UniqueLayer], target: Target, settings: SolveSettings, *, store: ScheduleCache | None,
          jobs: int | None, network_name: str, progress: ProgressCallback | None = None) -> Solved:
    """Solve every unique layer: from the cache where it holds a checked entry (keyed by
    :func:`layer_cache_key`), else by :func:`solve_layer` (in ``jobs`` worker processes; 1: in this
    process). A solved layer is cached unless its search timed out.

    Raises:
        NativeError: a worker process died (the layers solved so far are cached).
    """
    token = settings.cache_token()
    keys = {u.group: layer_cache_key(u.layer, target, settings, token) for u in layers}
    subjects = {u.group: CacheSubject(target=target, layer=u.layer, objective=settings.objective,
                                      strategy=settings.strategy, dataflow=settings.dataflow) for u in layers}
    results: dict[int, SolvedLayer | UnsolvedLayer] = {}
    done = 0
    if progress:
        progress(0, len(layers), layers[0].layer.name if layers else "")
    todo = []
    for u in layers:
        hit = store.get(keys[u.group], subjects[u.group]) if store else None  # checked and re-evaluated
        if hit is not None:
            results[u.group] = hit
            done += 1
            if progress:
                progress(done, len(layers), u.layer.name)
        else:
            todo.append(u)
    if results:
        logger.info("%d of %d unique layers served from the cache", len(results), len(layers))

    def finish(u: UniqueLayer, res: SolvedLayer | UnsolvedLayer) -> None:
        nonlocal done
        results[u.group] = res
        done += 1
        if isinstance(res, SolvedLayer):
            if store is not None and not res.timed_out:
                store.put(keys[u.group], res, subjects[u.group])
            logger.debug("layer %s solved in %.3f s (%d evaluations)", u.layer.name, res.search_time_s,
                         res.evaluations)
        else:
            logger.error("%s", res.message)  # the search names the layer
        if progress:
            progress(done, len(layers), u.layer.name)

    n_jobs = min(capped_jobs(jobs), len(todo))
    t_search = time.perf_counter()
    if n_jobs <= 1:
        for u in todo:
            finish(u, solve_layer(target, u.layer, settings))
    else:
        try:
            with process_pool(n_jobs) as pool:
                futures = {pool.submit(solve_layer, target, u.layer, settings): u for u in todo}
                for fut in concurrent.futures.as_completed(futures):
                    finish(futures[fut], fut.result())
        except concurrent.futures.process.BrokenProcessPool as exc:
            raise NativeError(f"a worker process died while scheduling {network_name} ({exc}); the layers solved "
                              "so far are cached: re-run with --jobs 1 -v to see the failing layer") from exc
    return Solved(results=tuple(results[u.group] for u in layers), hits=len(layers) - len(todo), misses=len(todo),
                  jobs=n_jobs, search_wall_time_s=time.perf_counter() - t_search)


# ---- 4. place ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Placed:
    """Every network layer's schedule, in network order.

    Attributes:
        schedules: one per scheduled layer (identical layers share their unique layer's record).
        failures: layers without a valid schedule.
    """

    schedules: tuple[LayerSchedule, ...]
    failures: tuple[LayerFailure, ...]


def place(network: Network, layers: Sequence[UniqueLayer], solved: Solved) -> Placed:
    """Give every layer of ``network`` the record of its unique layer."""
    group_of = {i: u.group for u in layers for i in u.indices}
    schedules: list[LayerSchedule] = []
    failures: list[LayerFailure] = []
    for i, layer in enumerate(network.layers):
        gi = group_of[i]
        res = solved.results[gi]
        if isinstance(res, SolvedLayer):
            schedules.append(LayerSchedule(index=i, layer=layer, group=gi, solved=res))
        else:
            failures.append(LayerFailure(i, layer, gi, res.message or "no valid schedule"))
    return Placed(tuple(schedules), tuple(failures))
