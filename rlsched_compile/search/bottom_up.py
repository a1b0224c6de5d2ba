"""``bottom-up``: the reference's heuristic (NeuroSpector v1.5, spec §12), run in C."""
from __future__ import annotations

import logging
import time

from ..layer import Layer
from ..native import search as native_search
from ..objective import Objective
from ..targets.model import Target
from .base import PlainStrategy, SearchResult, make_result

logger = logging.getLogger(__name__)


class BottomUp(PlainStrategy):
    """Greedy walk from DRAM inward over level pairs with PM/SP survivors (fixed dataflows).

    ``budget`` None (the default) runs the reference's heuristic as is; a number caps the options
    each level-pair search evaluates (``finished`` False when it cut one short). The seed is
    ignored: the heuristic is deterministic.
    """

    name = "bottom-up"

    def search(self, target: Target, layer: Layer, *, objective: Objective, budget: int | None,
               seed: int) -> SearchResult:
        started = time.perf_counter()
        r = native_search.bottom_up(target, layer, objective, budget=budget)
        return make_result(target, layer, r.table, evaluations=r.candidates, started_s=started,
                           finished=r.finished, strategy=self.name, objective=objective)

