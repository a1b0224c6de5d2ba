"""Where the sweep's layer tasks run: the local process pool (default) or Ray tasks.

A task is one unique (layer, derived target, objective) under the sweep's search settings; it is
solved by the compile pass's own per-layer solver (:func:`rlsched_compile.stages.solve_layer`, the
function a plain compile runs in its worker processes), and only the resulting record comes back. Workers never touch the schedule cache or the output folder: the driver
stores every result, so a Ray cluster needs no shared file system.
"""
from __future__ import annotations

import concurrent.futures
import concurrent.futures.process
import logging
import time
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from .._version import __version__
from .._workers import capped_jobs, process_pool, usable_cores
from ..errors import NativeError, RlschedError
from ..layer import Layer
from ..objective import Objective
from ..solved import SolvedLayer, UnsolvedLayer
from ..stages import SolveSettings, solve_layer
from ..targets.model import Target

logger = logging.getLogger(__name__)

#: Names accepted by ``--executor``.
EXECUTORS: tuple[str, ...] = ("local", "ray")
#: How to get Ray, in the error message when it is missing.
RAY_INSTALL_HINT = 'pip install "rlsched_compile[ray]" (or pip install "ray>=2.9")'

#: ``on_done(task_index, solved)``, called in the driver once per task, in completion order.
DoneCallback = Callable[[int, SolvedLayer | UnsolvedLayer], None]


@dataclass(frozen=True)
class LayerTask:
    """One unit of work: a layer on a derived target for one objective.

    Attributes:
        key: the schedule-cache key (identical tasks share it and run once).
        target: the derived target.
        layer: the layer.
        objective: ``energy``, ``cycles`` or ``edp``.
    """

    key: str
    target: Target
    layer: Layer
    objective: Objective


@dataclass(frozen=True)
class SearchSettings:
    """The search settings every task of a sweep shares."""

    strategy: str
    seed: int
    budget: int | None


def solve_task(index: int, target: Target, layer: Layer, objective: Objective,
               settings: SearchSettings) -> tuple[str, int, SolvedLayer | UnsolvedLayer, float]:
    """Solve one task (in a pool worker, a Ray worker or in-process).

    Returns:
        The worker's tool version (a driver refuses results of another version), ``index``, the
        result, and the CPU seconds the worker process spent on it.
    """
    t0 = time.process_time()
    res = solve_layer(target, layer, SolveSettings(objective=objective, strategy=settings.strategy,
                                                   seed=settings.seed, budget=settings.budget))
    return __version__, index, res, time.process_time() - t0


def _check_version(version: str) -> None:
    if version != __version__:
        raise RlschedError(f"a worker runs rlsched_compile {version}, the driver {__version__}; install the same "
                           "version on every node of the cluster")


class LocalExecutor:
    """Tasks in this process (``jobs == 1``) or in a pool of ``jobs`` forked worker processes."""

    name = "local"

    def __init__(self, jobs: int | None) -> None:
        self.jobs = capped_jobs(jobs)
        self.task_cpu_s = 0.0

    def describe(self) -> dict[str, Any]:
        """Executor settings and the CPU seconds its tasks took (for ``timings.json``)."""
        return {"executor": self.name, "jobs": self.jobs, "task_cpu_s": round(self.task_cpu_s, 6)}

    def run(self, tasks: Sequence[LayerTask], settings: SearchSettings, on_done: DoneCallback) -> None:
        """Solve every task, calling ``on_done`` as each finishes (submission in task order)."""
        if not tasks:
            return
        if self.jobs <= 1 or len(tasks) == 1:
            for i, t in enumerate(tasks):
                _, _, res, cpu = solve_task(i, t.target, t.layer, t.objective, settings)
                self.task_cpu_s += cpu
                on_done(i, res)
            return
        window = 4 * self.jobs
        try:
            with process_pool(min(self.jobs, len(tasks))) as pool:  # workers die with this process
                pending: set[concurrent.futures.Future[tuple[str, int, SolvedLayer | UnsolvedLayer, float]]] = set()
                nxt = 0
                try:
                    while nxt < len(tasks) or pending:
                        while nxt < len(tasks) and len(pending) < window:
                            t = tasks[nxt]
                            pending.add(pool.submit(solve_task, nxt, t.target, t.layer, t.objective, settings))
                            nxt += 1
                        done, pending = concurrent.futures.wait(pending, return_when=concurrent.futures.FIRST_COMPLETED)
                        for fut in done:
                            version, index, res, cpu = fut.result()
                            self.task_cpu_s += cpu
                            on_done(index, res)
                except BaseException:
                    for fut in pending:
                        fut.cancel()
                    raise
        except concurrent.futures.process.BrokenProcessPool as exc:
            raise NativeError(f"a worker process died during the sweep ({exc}); finished points are stored: "
                              "re-run the same command to resume (with --jobs 1 -v to see the failing layer)") from exc

    def close(self) -> None:
        """Nothing to release (the pool lives only inside :meth:`run`)."""


class RayExecutor:
    """Tasks as Ray tasks: on the cluster at ``address``, or on a local Ray instance started (with
    ``jobs`` CPUs) and stopped by this executor.

    Raises:
        RlschedError: Ray is not installed, or the cluster cannot be reached.
    """

    name = "ray"

    def __init__(self, jobs: int | None, address: str | None) -> None:
        try:
            import ray
        except ImportError:
            raise RlschedError(f"--executor ray needs Ray, which is not installed; install it with "
                               f"{RAY_INSTALL_HINT}") from None
        self.ray = ray
        self.address = address
        t0 = time.perf_counter()
        kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False,
                                  "logging_level": logging.WARNING}
        try:
            if address:
                ray.init(address=address, **kwargs)
            else:
                # "local": always a new instance, even where `ray start` left a cluster running
                ray.init(address="local", num_cpus=jobs or usable_cores(), **kwargs)
        except Exception as exc:  # ConnectionError, ValueError, RuntimeError from ray.init
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            where = f"the Ray cluster at {address}" if address else "a local Ray instance"
            hint = ("check --ray-address, and for a cluster with Ray's token authentication set RAY_AUTH_MODE=token "
                    "and its token on this machine" if address else "check that Ray works here (`ray start --head`)")
            raise RlschedError(f"cannot start or reach {where} ({first}); {hint}") from None
        self.cpus = max(1, int(ray.cluster_resources().get("CPU", 1)))
        self.start_time_s = time.perf_counter() - t0
        self.task_cpu_s = 0.0
        self._remote = ray.remote(num_cpus=1, max_retries=2)(solve_task)

    def describe(self) -> dict[str, Any]:
        """Executor settings, Ray's start time and the CPU seconds its tasks took (``timings.json``)."""
        return {"executor": self.name, "cluster": "address" if self.address else "local", "cpus": self.cpus,
                "ray_start_time_s": round(self.start_time_s, 6), "task_cpu_s": round(self.task_cpu_s, 6)}

    def run(self, tasks: Sequence[LayerTask], settings: SearchSettings, on_done: DoneCallback) -> None:
        """Solve every task as a Ray task (at most 4 per cluster CPU in flight, submitted in task
        order); each derived target is put into the object store once."""
        ray = self.ray
        target_refs: dict[int, Any] = {}
        settings_ref = ray.put(settings)
        pending: list[Any] = []
        nxt = 0
        window = 4 * self.cpus
        try:
            while nxt < len(tasks) or pending:
                while nxt < len(tasks) and len(pending) < window:
                    t = tasks[nxt]
                    ref = target_refs.get(id(t.target))
                    if ref is None:
                        ref = target_refs[id(t.target)] = ray.put(t.target)
                    pending.append(self._remote.remote(nxt, ref, t.layer, t.objective, settings_ref))
                    nxt += 1
                done, pending = ray.wait(pending, num_returns=1)
                for ref in done:
                    try:
                        version, index, res, cpu = ray.get(ref)
                    except ray.exceptions.RayTaskError as exc:
                        cause = exc.cause if isinstance(getattr(exc, "cause", None), BaseException) else None
                        if isinstance(cause, RlschedError):
                            raise cause from None
                        raise NativeError(f"a Ray task failed during the sweep ({str(exc).splitlines()[0]}); "
                                          "finished points are stored: re-run the same command to resume") from None
                    _check_version(version)
                    self.task_cpu_s += cpu
                    on_done(index, res)
        except BaseException:
            for ref in pending:
                try:
                    ray.cancel(ref)
                except Exception:
                    pass
            raise

    def close(self) -> None:
        """Disconnect (and stop the local instance this executor started)."""
        try:
            self.ray.shutdown()
        except Exception as exc:  # shutting down must not hide the sweep's own result
            logger.warning("stopping Ray failed: %s", exc)


def make_executor(name: str, *, jobs: int | None, ray_address: str | None) -> LocalExecutor | RayExecutor:
    """The executor called ``name`` (``local`` or ``ray``).

    Raises:
        RlschedError: unknown name, ``--ray-address`` without Ray, or Ray unavailable.
    """
    if name == "local":
        if ray_address:
            raise RlschedError("--ray-address needs --executor ray")
        return LocalExecutor(jobs)
    if name == "ray":
        return RayExecutor(jobs, ray_address)
    raise RlschedError(f"unknown executor {name!r}; choose one of {', '.join(EXECUTORS)}")
