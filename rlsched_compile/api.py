"""The compiler pass as a Python call: :func:`compile_model` schedules every layer of a model on a
target and returns a :class:`CompileResult`, whose :meth:`CompileResult.write` writes the outputs.

:func:`compile_model` checks the arguments, then runs the stages of :mod:`rlsched_compile.stages`
in order: load (frontend, targets) -> unique layers -> solve (cache, worker processes, search) ->
place (every layer's record, in network order); :meth:`CompileResult.write` is the emit stage
(:mod:`rlsched_compile.emit.outputs`). The CLI is a thin layer over it.
"""
from __future__ import annotations

import dataclasses
import logging
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

from . import stages
from .cache import ScheduleCache
from .emit.schedule import LayerFailure, LayerSchedule
from .emit.report import NetworkTotals, build_report, compute_totals
from .errors import RlschedError
from .objective import DEFAULT_OBJECTIVE, Objective
from .search.base import StrategyOptions
from .solved import SolvedLayer
from .stages import ProgressCallback
from .targets.model import Target

if TYPE_CHECKING:  # networkx is imported with the frontend, not with the package
    from .network import Network

logger = logging.getLogger(__name__)

__all__ = ["CompileResult", "CompileSettings", "ProgressCallback", "available_strategies", "compile_model",
           "ensure_writable_dir", "resolve_strategy"]


@dataclass(frozen=True)
class CompileSettings:
    """Everything besides the model and target that decides the result.

    Attributes:
        objective: ``energy``, ``cycles`` or ``edp``.
        strategy: the search strategy's declared name.
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
        """Write every output into ``out_dir``, the whole set at once: the emit stage,
        :func:`rlsched_compile.emit.outputs.write_outputs`, which owns the folder's layout.

        Returns:
            The output directory.

        Raises:
            OutputFolderError: the folder is in use by another run or holds foreign files.
            RlschedError: the directory cannot be created or written.
        """
        from .emit.outputs import write_outputs

        return write_outputs(out_dir, network=self.network, target=self.target, schedules=self.layers,
                             totals=self.totals, report=self.report(), model=self.model, timing=self.timing)


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
    """Declared strategy names (sorted) and the default one (:mod:`rlsched_compile.search.registry`)."""
    from .search.registry import DEFAULT_STRATEGY, strategy_names

    return strategy_names(), DEFAULT_STRATEGY


def resolve_strategy(search_name: str | None) -> str:
    """The strategy name to use (``None``: the default).

    Raises:
        RlschedError: unknown name (with a suggestion).
    """
    from .search.registry import DEFAULT_STRATEGY, check_strategy_name

    return DEFAULT_STRATEGY if search_name is None else check_strategy_name(search_name)


# ---- the pass ------------------------------------------------------------------------------

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
        search: strategy name (see :data:`rlsched_compile.search.registry.STRATEGIES`); None for the default.
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
    strategy = resolve_strategy(search)

    loaded = stages.load(model, target, batch=batch, strict=strict)                          # 1. load
    net, tgt = loaded.network, loaded.target
    t_loaded = time.perf_counter()
    unique = stages.unique_layers(net)                                                       # 2. unique layers
    logger.info("%s: %d layers, %d unique; target %s; strategy %s, objective %s", net.name,
                len(net.layers), len(unique), tgt.name, strategy, objective)
    store = ScheduleCache(cache_dir) if cache else None
    solve_settings = stages.SolveSettings(objective=objective, strategy=strategy, seed=seed, budget=budget,
                                          dataflow=dataflow, options=StrategyOptions(), deadline_at=deadline_at)
    if rl_finetune_steps is not None:
        solve_settings = dataclasses.replace(solve_settings, options=stages.finetuned_options(
            solve_settings, tgt, [u.layer for u in unique], steps=rl_finetune_steps, store=store))
    solved = stages.solve(unique, tgt, solve_settings, store=store, jobs=jobs,     # 3. solve (cache, workers)
                          network_name=net.name, progress=progress)
    placed = stages.place(net, unique, solved)                                               # 4. place
    totals = compute_totals(placed.schedules, tgt, layers=len(net.layers), unique_layers=len(unique))
    t_end = time.perf_counter()
    timing = {
        "compile_time_s": round(t_end - t_start, 6), "load_time_s": round(t_loaded - t_start, 6),
        "search_wall_time_s": round(solved.search_wall_time_s, 6), "jobs": solved.jobs,
        "cache": {"enabled": store is not None, "directory": str(store.directory) if store else None,
                  "hits": solved.hits, "misses": solved.misses},
        "layers": [{"group": u.group, "name": u.layer.name, "cached": isinstance(r, SolvedLayer) and r.cached,
                    "search_time_s": round(r.search_time_s, 6)} for u, r in zip(unique, solved.results)],
    }
    logger.info("compiled %s on %s in %.2f s (%d cache hits, %d solved)", net.name, tgt.name,
                t_end - t_start, solved.hits, solved.misses)
    settings = CompileSettings(objective=objective, strategy=strategy, seed=seed, budget=budget,
                               batch=net.batch, strict=strict, rl_finetune_steps=rl_finetune_steps,
                               dataflow=dataflow)
    # 5. emit: CompileResult.write (emit/outputs.py)
    return CompileResult(network=net, target=tgt, settings=settings, layers=placed.schedules,
                         failures=placed.failures, totals=totals, timing=timing, model=loaded.model)
