"""``exhaustive``: complete enumeration of the table with pruning, within a budget."""
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
DEFAULT_BUDGET: int = 2_000_000


class Exhaustive(PlainStrategy):
    """Every ordered factorization of every column over the writable rows, pruned as soon as a
    partial table cannot become valid. ``finished`` is True when the whole space was covered
    within ``budget`` evaluations: the result is then the optimum of the cost model (ground
    truth); otherwise it is the best of the part enumerated."""

    name = "exhaustive"

    def search(self, target: Target, layer: Layer, *, objective: Objective, budget: int | None,
               seed: int) -> SearchResult:
        started = time.perf_counter()
        n = DEFAULT_BUDGET if budget is None else budget
        r = native_search.exhaustive(target, layer, objective, budget=n)
        if not r.finished:
            logger.info("exhaustive search of layer %s stopped at its budget of %d evaluations",
                        layer.name, n)
        return make_result(target, layer, r.table, evaluations=r.candidates, started_s=started,
                           finished=r.finished, strategy=self.name, objective=objective)

