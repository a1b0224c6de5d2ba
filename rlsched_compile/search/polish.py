"""Cheap extra polishes for ``rl-hybrid`` (issue 14, the 1% bar): quadruples of rows and random starts.

The default's pair-and-triple polish stops at local optima that a heavier search escapes in two
ways: re-factorizing four rows at once, or polishing from a different (random valid) start. Both
are too costly in full on every layer (every quadruple on every layer made ResNet-50 on eyeriss
4x slower), so the default runs cheap, deterministic slices of them:

* :func:`quadruples_cheapest_first`: the quadruples of writable rows ordered by an upper bound on
  the tables their exact re-factorization visits (the number of ordered factorizations of each
  dimension's product over the four rows), so that a candidate budget proportional to what the
  layer's search already cost spends it on the cheap quadruples first.
* :func:`sample_starts`: seeded random valid tables (``sample_valid``) to polish like the others,
  each polish capped by :func:`sample_budget`: a fixed floor, or a share of what bottom-up visited
  on the layer, whichever is larger. On mid-sized layers (bottom-up visits 2-8 M candidates, e.g.
  UNet's 3x3 convolutions on simba) a random start needs some 100-330 k candidates to polish down
  to the best-known table that the default missed by up to 8.7% with a fixed 50 k
  (``bench/results/best_known.md``), so the cap grows with the layer and the extra time stays a
  bounded share of the layer's search.

Everything is a function of the inputs and the seed (never of time), so results are reproducible.
"""
from __future__ import annotations

import itertools
from math import comb

import numpy as np

from ..errors import SearchError
from ..layer import Layer
from ..native import search as native_search
from ..table import writable_rows
from ..targets.model import Target


def _prime_exponents(n: int) -> list[int]:
    exps: list[int] = []
    p = 2
    while p * p <= n:
        e = 0
        while n % p == 0:
            n //= p
            e += 1
        if e:
            exps.append(e)
        p += 1 if p == 2 else 2
    if n > 1:
        exps.append(1)
    return exps


def ordered_factorizations(n: int, parts: int) -> int:
    """Ways to write ``n`` as an ordered product of ``parts`` positive integers (d_parts(n))."""
    out = 1
    for e in _prime_exponents(n):
        out *= comb(e + parts - 1, parts - 1)
    return out


def group_candidates(table: np.ndarray, group: tuple[int, ...]) -> int:
    """Upper bound on the tables an exact re-factorization of ``group``'s rows visits from ``table``."""
    out = 1
    for col in range(table.shape[1]):
        product = 1
        for row in group:
            product *= int(table[row, col])
        out *= ordered_factorizations(product, len(group))
    return out


def quadruples_cheapest_first(table: np.ndarray, rows: tuple[int, ...],
                              max_estimate: int | None = None) -> list[tuple[int, ...]]:
    """The quadruples of ``rows`` by :func:`group_candidates` from ``table`` ascending (ties: the
    group), leaving out those whose bound exceeds ``max_estimate`` (None: none left out)."""
    scored = [(group_candidates(table, g), g) for g in itertools.combinations(rows, 4)]
    return [g for cost, g in sorted(scored) if max_estimate is None or cost <= max_estimate]


#: The sampler lists every ordered factorization of each layer dimension over the writable rows;
#: above this many for one dimension (e.g. C = 2^31) no random start is drawn (bounded memory).
MAX_FACTORIZATIONS = 500_000


#: :func:`sample_budget`: the floor (candidates per random start) and the share of bottom-up's
#: candidates (one tenth each, so four starts cost at most 40% of bottom-up's count).
SAMPLE_MIN_CANDIDATES = 50_000
SAMPLE_BOTTOM_UP_DIVISOR = 10


def sample_budget(bottom_up_candidates: int) -> int:
    """Candidate cap of one random start's polish: the larger of :data:`SAMPLE_MIN_CANDIDATES` and
    ``bottom_up_candidates // SAMPLE_BOTTOM_UP_DIVISOR`` (a count, never time: deterministic)."""
    return max(SAMPLE_MIN_CANDIDATES, bottom_up_candidates // SAMPLE_BOTTOM_UP_DIVISOR)


def sample_starts(target: Target, layer: Layer, *, seed: int, count: int) -> list[np.ndarray]:
    """``count`` seeded random valid tables (fewer when none can be drawn, none when a dimension has
    more than :data:`MAX_FACTORIZATIONS` ways over the writable rows); deterministic in ``seed``."""
    n_rows = len(writable_rows(target))
    if any(ordered_factorizations(v, n_rows) > MAX_FACTORIZATIONS for v in layer.per_group()):
        return []
    # The C generator adds 0x9E3779B97F4A7C15 per draw: a multiple of it would only shift one
    # stream, so seeds are spread with another odd constant.
    state = (seed * 0xD1B54A32D192ED03 + 0x632BE59BD9B4E019) & 0xFFFFFFFFFFFFFFFF
    out: list[np.ndarray] = []
    for _ in range(count):
        try:
            table, state = native_search.sample_valid(target, layer, rng_state=state)
        except SearchError:
            break
        out.append(np.array(table))
    return out
