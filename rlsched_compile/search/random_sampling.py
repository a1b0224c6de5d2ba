"""``random``: Timeloop-mapper-like random sampling of valid tables, run in C."""
from __future__ import annotations

import logging
import time

from ..layer import Layer
from ..native import search as native_search
from ..objective import Objective
from ..targets.model import Target
from .base import PlainStrategy, SearchResult, make_result

logger = logging.getLogger(__name__)

#: Evaluations when no budget is given.
DEFAULT_BUDGET: int = 2000


class RandomSampling(PlainStrategy):
    """Draws ``budget`` valid tables (per column a uniformly drawn ordered factorization over the
    writable rows, redrawn while the partial table cannot be valid) and keeps the best. The same
    seed gives the same result."""

    name = "random"

    def search(self, target: Target, layer: Layer, *, objective: Objective, budget: int | None,
               seed: int) -> SearchResult:
        started = time.perf_counter()
        n = DEFAULT_BUDGET if budget is None else budget
        r = native_search.random_search(target, layer, objective, seed=seed, budget=n)
        return make_result(target, layer, r.table, evaluations=r.candidates, started_s=started,
                           finished=True, strategy=self.name, objective=objective)

