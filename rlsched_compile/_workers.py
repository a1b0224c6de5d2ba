"""Worker processes of a compile (``--jobs``): how many, and that they never outlive the run.

* :func:`capped_jobs` caps a requested worker count at the CPUs this process may use (the
  affinity mask): more workers than cores only cost memory (``--jobs 64`` on 2 cores once started
  43 processes, 2.4 GB) and never finish sooner.
* :func:`process_pool` is a ``ProcessPoolExecutor`` whose workers die with the run:

  - each worker asks the kernel for SIGKILL when its parent dies (Linux ``prctl(PR_SET_PDEATHSIG)``
    through ctypes), and a watchdog thread in each worker exits when its parent process id changes
    (every platform; within half a second), so ``kill -9`` of the compiler leaves no orphan;
  - workers ignore SIGINT (a Ctrl-C on the terminal reaches the whole process group: the parent
    handles it) and take SIGTERM's default action;
  - when the ``with`` block is left by an exception (Ctrl-C, SIGTERM turned into an exception by
    the CLI, an error), the workers are killed at once instead of finishing their layers.
"""
from __future__ import annotations

import concurrent.futures
import contextlib
import logging
import multiprocessing
import os
import signal
import sys
import threading
import time
from typing import Any, Iterator

logger = logging.getLogger(__name__)

#: Seconds between two checks of a worker's watchdog.
WATCHDOG_PERIOD_S = 0.5
_PR_SET_PDEATHSIG = 1


def usable_cores() -> int:
    """CPU cores this process may run on (the affinity mask where the OS has one)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


def capped_jobs(jobs: int | None) -> int:
    """The number of workers to start for a requested ``jobs`` (None: all usable cores).

    A request above the usable cores is capped, with one log line saying so.
    """
    cores = usable_cores()
    if jobs is None:
        return cores
    if jobs > cores:
        logger.warning("--jobs %d capped at %d, the CPU cores this process may use", jobs, cores)
        return cores
    return jobs


def _pool_context() -> Any:
    # fork starts workers in milliseconds and inherits the built C targets; elsewhere spawn.
    if sys.platform.startswith("linux"):
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def _die_with_parent(parent_pid: int) -> None:
    """Worker initializer: never outlive ``parent_pid``."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if sys.platform.startswith("linux"):
        import ctypes

        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
        except (OSError, AttributeError):  # pragma: no cover - the watchdog still covers it
            pass
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(1)

    def watchdog() -> None:
        while True:
            time.sleep(WATCHDOG_PERIOD_S)
            if os.getppid() != parent_pid:
                os._exit(1)

    threading.Thread(target=watchdog, name="rlsched-parent-watchdog", daemon=True).start()


def _kill_workers(pool: concurrent.futures.ProcessPoolExecutor) -> None:
    processes = dict(getattr(pool, "_processes", None) or {})
    for p in processes.values():
        with contextlib.suppress(Exception):
            p.kill()
    pool.shutdown(wait=False, cancel_futures=True)
    for p in processes.values():
        with contextlib.suppress(Exception):
            p.join(timeout=2)


@contextlib.contextmanager
def process_pool(workers: int) -> Iterator[concurrent.futures.ProcessPoolExecutor]:
    """A process pool of ``workers`` workers that die with this process (see the module doc).

    Leaving the block normally waits for submitted work; leaving it by an exception kills the
    workers and cancels what is pending.
    """
    pool = concurrent.futures.ProcessPoolExecutor(max_workers=workers, mp_context=_pool_context(),
                                                  initializer=_die_with_parent, initargs=(os.getpid(),))
    try:
        yield pool
    except BaseException:
        _kill_workers(pool)
        raise
    pool.shutdown(wait=True)
