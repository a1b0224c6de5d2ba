"""``row-sweep``: repeated brute force over row pairs and triples (no learning).

Starts from the ``bottom-up`` table, then sweeps every pair and every triple of writable rows
with the C row search (:func:`rlsched_compile.native.search.search_rows`), adopting each strict
improvement at once, until a full sweep improves nothing.
"""
from __future__ import annotations

import itertools
import logging
import time

from ..layer import Layer
from ..native import search as native_search
from ..objective import Objective
from ..table import writable_rows
from ..targets.model import Target
from .base import PlainStrategy, SearchResult, make_result

logger = logging.getLogger(__name__)

class RowSweep(PlainStrategy):
    """Local search by exact re-factorization of row pairs and triples.

    ``budget``: the most candidates to evaluate (None: no limit). A quarter of it caps each
    level-pair search of the starting bottom-up run, the sweeps stop once the total is reached (a
    row search that has started always completes). ``finished`` is False when the budget cut the
    start or the sweeps short.
    """

    name = "row-sweep"

    def search(self, target: Target, layer: Layer, *, objective: Objective, budget: int | None,
               seed: int) -> SearchResult:
        started = time.perf_counter()
        start = native_search.bottom_up(target, layer, objective,
                                        budget=None if budget is None else max(1, budget // 4))
        table, best = start.table, start.objective(objective)
        evaluations = start.candidates
        rows = writable_rows(target)
        groups = list(itertools.combinations(rows, 2)) + list(itertools.combinations(rows, 3))
        finished = False
        sweeps = 0
        while not finished:
            sweeps += 1
            improved = False
            for group in groups:
                if budget is not None and evaluations >= budget:
                    break
                r = native_search.search_rows(target, layer, table, group, objective)
                evaluations += r.candidates
                value = r.objective(objective)
                if objective.improves(value, best):
                    table, best, improved = r.table, value, True
            else:
                finished = not improved
                continue
            break  # budget exhausted mid-sweep
        finished = finished and start.finished
        logger.debug("row-sweep on %s: %d sweeps, %d evaluations", layer.name, sweeps, evaluations)
        return make_result(target, layer, table, evaluations=evaluations, started_s=started,
                           finished=finished, strategy=self.name, objective=objective)

