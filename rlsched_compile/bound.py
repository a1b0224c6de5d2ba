"""Per-layer lower bounds on energy and cycles under the cost model: the optimality certificate.

No valid scheduling table of a layer on a target costs less than :func:`layer_lower_bound`, so
``schedule / bound - 1`` ("gap to lower bound") bounds how far from optimal a schedule can be.

Derivation (``../shared/spec/cost-model.md`` §3-§7; ℓ = the per-group vector (K/G,B,P,Q,C/G,R,S,G),
M = ∏ℓ the MACs, V_L = the product of the temporal rows at L and outward, A = the active units).
Every cost is a sum of non-negative terms; each group of terms below is bounded from below on its
own (a sum of minima is at most the minimum of the sum), every other term is dropped as >= 0, and
every relaxation below *drops* a constraint of validity, so the minimum is over a superset of the
valid tables. The bounds are for the target's own dataflows (a flexible layer's bound is taken on
the target with the dataflows it uses).

* **MAC energy** ``M * mac_energy_pj``.
* **Utilisation** (:func:`max_active_units`): the spatial rows' products multiply to
  ``A_mac A_pe A_chip``, each row within its dimension (a PE row within the divisors of its
  ``allowed`` columns), and all of them divide M; the largest such product U is found row by row
  over the divisors of M. Row 0 is ones, so ``V_LB = M / A``.
* **Local buffer -> MACs** (:func:`mac_interface_bound`, spec §4.3 with d_LB = none, Q3):
  ``n_LB = (V, V, V - V/eta, V)`` (I, W, O reads, O writes) with eta the temporal C R S product,
  and ``E_LB,up = Phi(send_LB, n_LB, e_LB) * A_pe A_chip`` where ``send_LB`` is the MAC rows' tile.
  For every vector m of MAC-row column products (m_c | ℓ_c, ∏m <= the MAC array's size):
  ``V A_pe A_chip = M / ∏m`` exactly, so ``E_LB,up = (M/∏m)(e_I In(m) + e_W Wt(m)) +
  e_O Out(m) (2 rest - a * rest/crs)`` with rest = M/∏m, crs = the C R S of ℓ/m and a = the
  PE/chip rows' C R S product, at most the largest divisor of crs that fits the PE x chip arrays.
  ``Cyc_mac + Cyc_LB = V + comb(ceil(In(m)/bw) c_I V, ceil(Wt(m)/bw) c_W V,
  ceil(Out(m)/bw) c_O (2V - V/eta))`` (comb = sum for a shared LB, max for separate ports;
  ceil per tile, Q11); with a as above and b the PE/chip rows' other product, V = rest/(a b),
  V/eta = (rest/crs)/b, b a divisor of rest/crs with a b <= U(rest): the expression falls with b,
  so each a (a divisor of crs) takes its largest b. The minimum over m (and a) is the bound.
* **Weights and outputs through every port** (spec §4.3-§4.4): at the GB level n_W >= the K C R S G
  product of rows 6 and 9 (1 with read-once, which needs those rows free of weight factors) and
  n_Ow >= their K B P Q G product, raw, read-once (rules 4-6 copy the DRAM counts) or without a
  GB (Q28). The LB fill tile ``alloc_LB`` (rows 0-3) times those counts times ``A_pe A_chip`` (at
  least the PE/chip rows' weight resp. output factors) is therefore at least |W| resp. |O|, so
  ``E_LB,lo >= e_LB,W |W| + e_LB,O |O|``; the same for ``E_GB,up`` with e_GB. GB cycles (not
  multiplied by chips) get ``ceil(|W| / (U_W bw_GB)) c_W`` and the same for outputs, U_W the
  largest chip-row product of weight dimensions (comb as above).
* **Dense windows** (stride <= 1 and dilation 1 on both axes): splitting an input window a ways
  along P and b ways along R leaves at least 1/(a b) of its rows (``(p/a + r/b - 1) a b - (p + r
  - 1) = (b-1)(p-1) + (a-1)(r-b) >= 0``; ``r a >= r`` for stride 0), so a chip-array split of a
  tile keeps at least 1/(chip array size) of its input elements, and ``A_chip In(v) >= In(v x
  chip rows)``. Larger strides or dilations can shrink a window faster (``tests/test_bound.py``).
* **Inputs from the GB to the PEs**, when neither the LB's dataflow (counts at GB) nor the GB's
  (counts at DRAM) is IS, on a target without chips or for a dense window: ``In(pre5) n_GB,I``
  (x A_chip) is at least the compulsory input traffic below (raw counts V_6; GB read-once leaves
  only K factors in row 6, then the DRAM counts apply). Energy ``e_GB,I I_min``, GB cycles
  ``ceil(I_min / (chips x bw_GB)) c_I``.
* **DRAM traffic, every DRAM row** (:func:`dram_row_bound`): the DRAM counts depend on the DRAM
  row d alone (V_9 = ∏d, irr of row 9, read-once by comparing ``X(ℓ/d)`` with ``X(ℓ)``, IS's
  Q4 fallback and OS's zero partial-sum reads included) and ``send_DRAM = X(ℓ/d)``. So for each
  divisor vector d the DRAM traffic ``send x n`` per type is exact, except the GB-bypass
  adjustments of §4.5, which only multiply counts by irr >= 1 and are dropped - but case (b)
  (weights bypass the GB, input does not, so (a) cannot fire first) is kept where it must fire: a
  DRAM row with weights read once and more weights below DRAM than the local buffers' weight
  capacity x PEs x chips can span needs a weight factor in the GB row, so ``n_W = irrW(9)``.
  A row d is kept only if the global buffer can hold its tiles (rule 8; the dedicated part of a
  partially shared GB is not checked): without chips ``alloc_GB = X(ℓ/d)`` exactly; with chips
  the weight and output tiles shrink by at most the chip array's size, the input tile too for a
  dense window, else it is not checked. ``E_DRAM + E_GB,lo`` per d is ``traffic e_DRAM + fill
  e_GB`` (``alloc_GB A_chip`` covers ``send_DRAM`` for weights and outputs, and for inputs
  without chips or for a dense window; else the compulsory input traffic is charged), DRAM
  cycles ``sum ceil(traffic / bw_D) c_D``; the bound is the minimum over the kept rows (at most
  :data:`DRAM_ROW_CANDIDATES_LIMIT` rows, vectorised; above it, the closed form below alone).
* **Closed-form DRAM traffic** (kept as a floor; the row minimum is never below it where it
  applies): weights |W| and outputs |O| at least once, and, when the DRAM-facing dataflow is not
  IS (whose Q4 fallback divides input reads by factors that do index inputs), inputs at least
  ``I_min = B C x_h x_w`` with ``x = min over divisors p_o | P, r_o | R of p_o r_o ((P/p_o - 1)
  stride + (R/r_o - 1) dilation + 1)`` (R for stride 0; the whole input when stride <= kernel
  extent, less when skipped rows are never read), each also charged for filling the GB.
* **Cycles** are the sum of the MAC, LB, GB and DRAM cycles (Q12): the sum of the bounds above.
* **Static energy** is (static power of every instantiated MAC, buffer and DRAM) x cycles (Q13),
  so at least that power x the cycle bound.

The bounds are scaled by ``1 - 1e-9`` to absorb floating-point rounding between this module and
the C model. The C model computes in 64-bit integers (a layer's volume is below 2^52 and an
overflowing table is reported invalid), so the reference's uint32 wrap (Q14) never lowers a cost
this package reports. For the reference analyzer's own figures (uint32, binary32; e.g. the golden
vectors), ``reference_u32=True`` keeps only the wrap-free terms (MAC energy and static energy over
``M / U`` cycles) wherever :func:`reference_may_wrap` finds that some count could wrap, and uses a
1e-5 slack for binary32. Cost: about 1.6 ms of CPU per layer and target (zoo mean, cold
caches, at most 32 ms; ``bench/bench_bound_gap.py --cost-models all``); factorisations and
spatial maxima are cached across layers. ``tests/test_bound.py`` checks with hypothesis and
exhaustive search that no valid table costs less, term by term.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from .layer import PARAMS, Layer
from .targets.model import SpatialLevel, Target

#: One line for reports: how the bound is derived (the module docstring has the full derivation).
DERIVATION = ("MAC energy + local-buffer-to-MAC traffic and MAC/local-buffer cycles at the best MAC-array "
              "factors and utilisation the layer's divisors allow + every weight and output once through "
              "the global-buffer and buffer-fill ports + DRAM traffic minimised over every DRAM row that "
              "fits the global buffer (never below the compulsory traffic) + static power over the fewest "
              "cycles; see rlsched_compile/bound.py")

#: Relative slack for rounding (the bound is a float computation beside the C model's).
ROUNDING_SLACK = 1e-9
#: Relative slack against the reference analyzer's binary32 figures (spec Q15: < 2.2e-7 apart
#: from exact arithmetic on every golden record).
REFERENCE_ROUNDING_SLACK = 1e-5


@dataclass(frozen=True)
class LowerBound:
    """Lower bounds of one layer on one target.

    Attributes:
        energy_pj: no valid table has less total energy, pJ.
        cycles: no valid table takes fewer cycles.
    """

    energy_pj: float
    cycles: float

    def gap(self, energy_pj: float, cycles: float) -> tuple[float, float]:
        """(energy gap, cycles gap) of a schedule as fractions above the bound (0.25 = 25%)."""
        ge = energy_pj / self.energy_pj - 1.0 if self.energy_pj > 0 else 0.0
        gc = cycles / self.cycles - 1.0 if self.cycles > 0 else 0.0
        return ge, gc


def _spatial_size(level: object | None) -> int:
    if level is None:
        return 1
    return int(getattr(level, "x")) * int(getattr(level, "y"))


def _beats(elements: int, bandwidth_bits_per_cycle: float, precision_bits: int) -> float:
    return float(math.ceil(elements * precision_bits / bandwidth_bits_per_cycle))


def _axis_min(extent: int, kernel: int, stride: int, dilation: int) -> int:
    """Fewest input rows along one axis that the DRAM reads of any table can total (see above)."""
    if stride <= 0:
        return kernel
    best: int | None = None
    for p_o in _divisors(extent):
        for r_o in _divisors(kernel):
            rows = p_o * r_o * ((extent // p_o - 1) * stride + (kernel // r_o - 1) * dilation + 1)
            best = rows if best is None else min(best, rows)
    assert best is not None
    return best


_SMALL_PRIMES = [p for p in range(2, 1 << 12) if all(p % q for q in range(2, math.isqrt(p) + 1))]


def _is_prime(n: int) -> bool:
    """Deterministic Miller-Rabin (these bases are exact below 3.3e24, far above 2^52)."""
    if n < 2:
        return False
    for p in _SMALL_PRIMES[:12]:
        if n % p == 0:
            return n == p
    d, s = n - 1, 0
    while d % 2 == 0:
        d, s = d // 2, s + 1
    for a in _SMALL_PRIMES[:12]:
        x = pow(a, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = x * x % n
            if x == n - 1:
                break
        else:
            return False
    return True


def _split(n: int) -> int:
    """A nontrivial factor of the composite ``n`` (Pollard's rho, Brent's variant; deterministic)."""
    for c in range(1, n):
        x = y = 2
        d = 1
        while d == 1:
            x = (x * x + c) % n
            y = (y * y + c) % n
            y = (y * y + c) % n
            d = math.gcd(abs(x - y), n)
        if d != n:
            return d
    raise AssertionError("unreachable: every composite has a rho factor for some c")


@functools.lru_cache(maxsize=4096)
def _factor(n: int) -> tuple[tuple[int, int], ...]:
    """Prime factorisation of ``n`` >= 1 as ((prime, exponent), ...), primes ascending. Exact for
    every size a layer may have (< 2^53): trial division by primes below 4096, then Miller-Rabin
    and Pollard's rho on what is left (at most a few steps), so a huge prime costs no more than a
    small one."""
    out: dict[int, int] = {}
    for p in _SMALL_PRIMES:
        if p * p > n:
            break
        while n % p == 0:
            out[p] = out.get(p, 0) + 1
            n //= p
    stack = [n] if n > 1 else []
    while stack:
        m = stack.pop()
        if _is_prime(m):
            out[m] = out.get(m, 0) + 1
        else:
            f = _split(m)
            stack += [f, m // f]
    return tuple(sorted(out.items()))


def _merge(*factorisations: tuple[tuple[int, int], ...]) -> tuple[tuple[int, int], ...]:
    out: dict[int, int] = {}
    for fac in factorisations:
        for p, e in fac:
            out[p] = out.get(p, 0) + e
    return tuple(sorted(out.items()))


@functools.lru_cache(maxsize=4096)
def _divisors_upto(fac: tuple[tuple[int, int], ...], limit: int) -> tuple[int, ...]:
    """Every divisor <= ``limit`` of the number factorised as ``fac``, ascending."""
    divs = [1]
    for p, e in fac:
        more = []
        for d in divs:
            for _ in range(e):
                d *= p
                if d > limit:
                    break
                more.append(d)
        divs += more
    return tuple(sorted(divs))


def _divisors(n: int) -> tuple[int, ...]:
    return _divisors_upto(_factor(n), n)


# ---- the MAC/local-buffer interface: utilisation and per-MAC local-buffer traffic ------------

def _spatial_rows(level: SpatialLevel | None, dims: tuple[int, ...], honour_allowed: bool) -> list[tuple[int, int]]:
    """(largest row product, a number the row product must divide; 0 = none) per row of a present
    spatial level (none for an absent or 1x1 one, whose rows are ones)."""
    if level is None or level.x * level.y <= 1:
        return []
    rows = []
    for size, allowed in ((level.x, level.allowed_x), (level.y, level.allowed_y)):
        cap = 0
        if honour_allowed and allowed is not None:
            cap = math.prod(dims[PARAMS.index(c)] for c in set(allowed))
        rows.append((size, cap))
    return rows


@functools.lru_cache(maxsize=4096)
def _max_spatial_product(volume: tuple[tuple[int, int], ...], rows: tuple[tuple[int, int], ...]) -> int:
    """The largest product r_1 ... r_n with r_i <= rows[i][0], r_i dividing rows[i][1] (when
    nonzero) and the product dividing the number factorised as ``volume`` (the loop-nest volume
    left for these rows). Every valid table's rows of these levels satisfy all three, so its
    active units there are at most this."""
    total = math.prod(p ** e for p, e in volume)
    reach = {1}
    for size, cap in rows:
        divs = _divisors_upto(volume, size)
        nxt: set[int] = set()
        for s in reach:
            rest = total // s
            for r in divs:
                if rest % r == 0 and (cap == 0 or cap % r == 0):
                    nxt.add(s * r)
        reach = nxt
    return max(reach)


def _largest_divisor_at_most(fac: tuple[tuple[int, int], ...], limit: int) -> int:
    return _divisors_upto(fac, limit)[-1]


def _mac_vectors(dims: tuple[int, ...], limit: int) -> list[tuple[int, ...]]:
    """Every vector m of column factors (m_c divides dims[c]) with product <= limit: a superset of
    the MAC rows' column products (the two rows together) of every valid table."""
    out: list[tuple[int, ...]] = []
    options = [_divisors_upto(_factor(n), limit) for n in dims]

    def walk(c: int, prefix: tuple[int, ...], prod: int) -> None:
        if c == len(dims):
            out.append(prefix)
            return
        for d in options[c]:
            if prod * d > limit:
                break
            walk(c + 1, prefix + (d,), prod * d)

    walk(0, (), 1)
    return out


def compulsory_inputs(target: Target, layer: Layer) -> int:
    """The fewest input elements DRAM must send for any valid table (0 when no bound holds)."""
    dram_facing = target.global_buffer if target.global_buffer is not None else target.local_buffer
    if dram_facing is None or dram_facing.dataflow == "IS":
        return 0
    return (layer.B * layer.C * _axis_min(layer.P, layer.R, layer.stride_h, layer.dilation_h)
            * _axis_min(layer.Q, layer.S, layer.stride_w, layer.dilation_w))


def max_active_units(target: Target, layer: Layer) -> int:
    """The most MAC units any valid table of ``layer`` can keep busy on ``target``: the largest
    product of the spatial rows' products (each within its array dimension, a PE row within its
    ``allowed`` columns) that divides the layer's loop-nest volume."""
    dims = layer.per_group()
    rows = (_spatial_rows(target.mac_array, dims, False) + _spatial_rows(target.pe_array, dims, True)
            + _spatial_rows(target.chip_array, dims, False))
    return _max_spatial_product(_merge(*(_factor(n) for n in dims)), tuple(rows))


@dataclass(frozen=True)
class MacInterfaceBound:
    """Lower bounds on the MAC/local-buffer terms of the model (see the module docstring).

    Attributes:
        lb_upper_energy_pj: no valid table has less ``E_LB,up`` (local buffers -> MACs).
        mac_lb_cycles: no valid table has less ``Cyc_mac + Cyc_LB``.
    """

    lb_upper_energy_pj: float
    mac_lb_cycles: float


def _input_extent(p: int, r: int, stride: int, dilation: int) -> int:
    return (p - 1) * stride + (r - 1) * dilation + 1


def mac_interface_bound(target: Target, layer: Layer) -> MacInterfaceBound:
    """The least local-buffer-to-MAC energy and MAC + local-buffer cycles of any valid table,
    minimised over every possible vector of MAC-array factors (see the module docstring)."""
    dims = layer.per_group()
    kk, bb, pp, qq, cc, rr, ss, gg = dims
    volume = _merge(*(_factor(n) for n in dims))
    macs = math.prod(dims)
    outer_rows = tuple(_spatial_rows(target.pe_array, dims, True) + _spatial_rows(target.chip_array, dims, False))
    outer_size = math.prod(size for size, _ in outer_rows)
    mac_rows = _spatial_rows(target.mac_array, dims, False)
    mac_limit = math.prod(size for size, _ in mac_rows)
    lb = target.local_buffer
    e_i, e_w, e_o = lb.access_energy_pj.as_tuple()
    c_i, c_w, c_o = lb.access_cycles.as_tuple()
    bw = lb.bandwidth_bits_per_cycle / target.precision_bits
    shared = lb.capacity is not None and lb.capacity.form != "separate"
    best_e = best_c = math.inf
    for m in _mac_vectors(dims, mac_limit):
        mk, mb, mp, mq, mc, mr, ms, mg = m
        a_mac = mk * mb * mp * mq * mc * mr * ms * mg
        tile_i = (mb * mc * mg * _input_extent(mp, mr, layer.stride_h, layer.dilation_h)
                  * _input_extent(mq, ms, layer.stride_w, layer.dilation_w))
        tile_w = mk * mc * mr * ms * mg
        tile_o = mk * mb * mp * mq * mg
        rest = macs // a_mac
        rest_fac = _merge(*(_factor(n // f) for n, f in zip(dims, m)))
        units = _max_spatial_product(rest_fac, outer_rows)
        crs_rest = (cc // mc) * (rr // mr) * (ss // ms)
        crs_rest_fac = _merge(_factor(cc // mc), _factor(rr // mr), _factor(ss // ms))
        other_rest = rest // crs_rest
        other_fac = _merge(*(_factor(dims[i] // m[i]) for i in (0, 1, 2, 3, 7)))
        a_max = _largest_divisor_at_most(crs_rest_fac, outer_size)
        energy = (macs / a_mac) * (e_i * tile_i + e_w * tile_w) + e_o * tile_o * (2 * rest - a_max * other_rest)
        best_e = min(best_e, energy)
        per_i, per_w, per_o = math.ceil(tile_i / bw) * c_i, math.ceil(tile_w / bw) * c_w, math.ceil(tile_o / bw) * c_o
        for a in _divisors_upto(crs_rest_fac, units):
            b = _largest_divisor_at_most(other_fac, units // a)
            v_a = rest / a  # = V * b
            x = (per_i * v_a, per_w * v_a, per_o * (2 * v_a - other_rest))
            best_c = min(best_c, (v_a + (sum(x) if shared else max(x))) / b)
    return MacInterfaceBound(lb_upper_energy_pj=best_e, mac_lb_cycles=best_c)


#: Most DRAM-row candidates :func:`dram_row_bound` enumerates; a layer with more falls back to
#: the closed-form compulsory traffic (weaker, as cheap as ever).
DRAM_ROW_CANDIDATES_LIMIT = 200_000


@dataclass(frozen=True)
class DramRowBound:
    """Lower bounds on the DRAM-facing terms, from every DRAM row a valid table may have.

    Attributes:
        energy_pj: no valid table has less ``E_DRAM`` + ``E_GB,lo`` (filling the global buffer).
        cycles: no valid table has fewer DRAM cycles.
    """

    energy_pj: float
    cycles: float


def _tiles(v: list[np.ndarray], layer: Layer) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    k, b, p, q, c, r, s, g = v
    h = (p - 1) * layer.stride_h + (r - 1) * layer.dilation_h + 1
    w = (q - 1) * layer.stride_w + (s - 1) * layer.dilation_w + 1
    return b * c * g * h * w, k * c * r * s * g, k * b * p * q * g


def _weights_below_gb(target: Target) -> float:
    """The most weight elements the rows below the global buffer can span (rows 0-5 and the chip
    rows): the local buffer's weight capacity (elements, with rounding slack; unbounded when it
    bypasses weights) times the PE array and chip array sizes."""
    lb = target.local_buffer
    cap = lb.capacity
    if cap is None or "weight" in lb.bypass:
        return math.inf
    bpe = target.precision_bits // 8
    cap_bytes = cap.per_type_bytes.weight if cap.form == "separate" else cap.shared_bytes
    if cap_bytes is None or bpe == 0:
        return math.inf
    return (cap_bytes / bpe) * (1.0 + 1e-9) * _spatial_size(target.pe_array) * _spatial_size(target.chip_array)


def dram_row_bound(target: Target, layer: Layer) -> DramRowBound | None:
    """The least DRAM energy (+ global-buffer fill) and DRAM cycles over every DRAM row d that a
    valid table may hold (see the module docstring), or None when there are more than
    :data:`DRAM_ROW_CANDIDATES_LIMIT` candidates or a quantity could leave exact int64/float64
    arithmetic (the caller then keeps the closed-form bound)."""
    dims = layer.per_group()
    options = [_divisors(n) for n in dims]
    if math.prod(len(o) for o in options) > DRAM_ROW_CANDIDATES_LIMIT:
        return None
    whole = [np.array([n], dtype=np.int64) for n in dims]
    biggest = max(int(t[0]) for t in _tiles(whole, layer))
    if biggest * math.prod(dims) >= 1 << 52:
        return None
    grids = np.meshgrid(*(np.array(o, dtype=np.int64) for o in options), indexing="ij")
    d = [x.ravel() for x in grids]
    dk, db, dp, dq, dc, dr, ds, dg = d
    send = _tiles([n // x for n, x in zip(dims, d)], layer)
    alloc = _tiles(whole, layer)
    v = dk * db * dp * dq * dc * dr * ds * dg
    irr_w, irr_o = db * dp * dq, dc * dr * ds
    gb = target.global_buffer
    flow = (gb if gb is not None else target.local_buffer).dataflow
    if flow == "IS":
        n_i = v // np.where(dk != 1, dk, np.maximum(irr_w, irr_o))  # spec Q4
    else:
        n_i = v
    n_w = v // irr_w if flow == "WS" else v
    if flow == "OS":
        n_o = v // irr_o
    else:
        n_o = v + dg * dk * irr_w * (irr_o - 1)
    n_i = np.where(send[0] == alloc[0], 1, n_i)
    n_w = np.where(send[1] == alloc[1], 1, n_w)
    n_o = np.where(send[2] == alloc[2], 1, n_o)
    gb_bypass = gb.bypass if gb is not None else ()
    if "weight" in gb_bypass and "input" not in gb_bypass:
        # spec §4.5 (b), the first case that can match: weights read once from DRAM are read
        # irrW(9) times when the GB row holds a weight factor, which it must when the weights
        # left below DRAM exceed what the local buffers (x PEs x chips) can hold
        below = _weights_below_gb(target)
        must_split = send[1] > below
        n_w = np.where((send[1] == alloc[1]) & must_split, irr_w, n_w)
    traffic = (send[0] * n_i, send[1] * n_w, send[2] * n_o)
    fits = np.ones(v.shape, dtype=bool)
    n_chip = _spatial_size(target.chip_array)
    chips = n_chip > 1
    # with strides <= 1 and no dilation, splitting an input window k ways leaves at least 1/k of it
    dense = max(layer.stride_h, layer.stride_w) <= 1 and layer.dilation_h == layer.dilation_w == 1
    if gb is not None and gb.capacity is not None:
        bpe = target.precision_bits // 8
        if chips:  # the chip rows divide the GB's tiles by at most the chip array's size
            low = (send[0] / n_chip if dense else np.zeros(v.shape), send[1] / n_chip, send[2] / n_chip)
        else:  # the GB's allocated tile is the DRAM's sent tile
            low = tuple(t.astype(np.float64) for t in send)
        slack = 1.0 + 1e-9
        cap = gb.capacity
        kinds = ("input", "weight", "output")
        if cap.form == "separate":
            for i, kind in enumerate(kinds):
                if kind not in gb.bypass:
                    fits &= low[i] <= getattr(cap.per_type_bytes, kind) / bpe * slack
        else:
            used = sum(low[i] for i, kind in enumerate(kinds) if kind not in gb.bypass)
            fits &= used <= (cap.shared_bytes or 0) / bpe * slack
    if not fits.any():
        return None
    e_d = target.dram.access_energy_pj.as_tuple()
    e_gb = gb.access_energy_pj.as_tuple() if gb is not None else (0.0, 0.0, 0.0)
    fill_i = traffic[0] if not chips or dense else np.full(v.shape, compulsory_inputs(target, layer))
    energy = (traffic[0] * e_d[0] + traffic[1] * e_d[1] + traffic[2] * e_d[2]
              + fill_i * e_gb[0] + traffic[1] * e_gb[1] + traffic[2] * e_gb[2])
    bw = target.dram.bandwidth_bits_per_cycle / target.precision_bits
    c_d = target.dram.access_cycles.as_tuple()
    cycles = sum(np.ceil(traffic[i] / bw) * c_d[i] for i in range(3))
    return DramRowBound(energy_pj=float(energy[fits].min()), cycles=float(cycles[fits].min()))


def _static_per_cycle(target: Target) -> float:
    """Static energy per cycle of every instantiated MAC, buffer and DRAM, pJ (spec §6, Q13)."""
    tclk_ns = 1000.0 / target.frequency_mhz
    chips = _spatial_size(target.chip_array)
    n_mac = _spatial_size(target.mac_array) * _spatial_size(target.pe_array) * chips
    power = target.mac_static_power_mw * n_mac
    power += sum(target.local_buffer.static_power_mw.as_tuple()) * _spatial_size(target.pe_array) * chips
    if target.global_buffer is not None:
        power += sum(target.global_buffer.static_power_mw.as_tuple()) * chips
    power += sum(target.dram.static_power_mw.as_tuple())
    return power * tclk_ns


def _combine(form_shared: bool, values: tuple[float, float, float]) -> float:
    return sum(values) if form_shared else max(values)


def _is_shared(level: object) -> bool:
    cap = getattr(level, "capacity")
    return cap is not None and cap.form != "separate"


def reference_may_wrap(target: Target, layer: Layer) -> bool:
    """Whether some valid table of ``layer`` on ``target`` could make the reference analyzer's
    uint32 arithmetic wrap (spec Q14); conservative (False only when nothing can wrap).

    With V the loop-nest volume and s_h = max(stride_h, dilation_h, 1) (s_w likewise): every
    count of spec §4.3 is at most V (a partial-sum count n_Or + n_Ow at most 2V); a tile of the
    rows below a level times a count over the rows above it is at most 2V for weights and outputs
    (disjoint rows of the table) and at most 2V s_h s_w for inputs (a window is at most
    P R s_h x Q S s_w); the global-buffer bypass cases of §4.5 multiply an output count by a
    DRAM-row product (at most V, case (a)) or its C R S (case (c)). Below 2^32, nothing wraps.
    """
    dims = layer.per_group()
    volume = math.prod(dims)
    limit = 2 * volume * max(layer.stride_h, layer.dilation_h, 1) * max(layer.stride_w, layer.dilation_w, 1)
    gb = target.global_buffer
    if gb is not None and "input" in gb.bypass:
        limit *= volume
    if gb is not None and "output" in gb.bypass:
        limit *= dims[4] * dims[5] * dims[6]
    return limit >= 1 << 32


def layer_lower_bound(target: Target, layer: Layer, *, reference_u32: bool = False) -> LowerBound:
    """The lower bounds of one run of ``layer`` on ``target`` (see the module docstring for the
    derivation); a layer with ``repeat`` > 1 runs its one table ``repeat`` times.

    Args:
        target: the target, with the dataflows the schedule uses.
        layer: the layer.
        reference_u32: bound the reference analyzer's figures (uint32 counts that may wrap,
            binary32 sums; spec Q14/Q15) instead of this package's 64-bit cost model: where
            :func:`reference_may_wrap` says a count could wrap, only the wrap-free terms are kept
            (MAC energy, and static energy over the MAC cycles at the best utilisation).
    """
    if reference_u32 and reference_may_wrap(target, layer):
        cycles = layer.instance_macs / max_active_units(target, layer)
        energy = layer.instance_macs * target.mac_energy_pj + _static_per_cycle(target) * cycles
        scale = 1.0 - REFERENCE_ROUNDING_SLACK
        return LowerBound(energy_pj=energy * scale, cycles=cycles * scale)
    macs = float(layer.instance_macs)
    g = layer.G
    weights = (layer.K // g) * (layer.C // g) * layer.R * layer.S * g
    outputs = (layer.K // g) * layer.B * layer.P * layer.Q * g
    dram = target.dram
    bits, bw = target.precision_bits, dram.bandwidth_bits_per_cycle
    inputs = compulsory_inputs(target, layer)
    # DRAM and global-buffer fill: the closed form, or the DRAM-row minimum when it is larger
    dram_cycles = (_beats(weights, bw, bits) * dram.access_cycles.weight
                   + _beats(outputs, bw, bits) * dram.access_cycles.output
                   + _beats(inputs, bw, bits) * dram.access_cycles.input)
    dram_energy = (weights * dram.access_energy_pj.weight + outputs * dram.access_energy_pj.output
                   + inputs * dram.access_energy_pj.input)
    gb = target.global_buffer
    if gb is not None:
        dram_energy += (weights * gb.access_energy_pj.weight + outputs * gb.access_energy_pj.output
                        + inputs * gb.access_energy_pj.input)
    rows = dram_row_bound(target, layer)
    if rows is not None:
        dram_energy, dram_cycles = max(dram_energy, rows.energy_pj), max(dram_cycles, rows.cycles)
    # every weight and output passes the global buffer -> PE and (its fill) -> local buffer ports once
    lb = target.local_buffer
    inner_energy = weights * lb.access_energy_pj.weight + outputs * lb.access_energy_pj.output
    gb_cycles = 0.0
    if gb is not None:
        # with neither the GB's nor the LB's dataflow IS, the inputs sent from the GB to the PEs
        # total at least the DRAM's compulsory input traffic: per chip without a chip array, over
        # all chips (A_chip x the chip tile covers the chips' tiles) for dense windows
        n_chip = _spatial_size(target.chip_array)
        dense = max(layer.stride_h, layer.stride_w) <= 1 and layer.dilation_h == layer.dilation_w == 1
        inputs_up = compulsory_inputs(target, layer) if lb.dataflow != "IS" and (n_chip == 1 or dense) else 0
        inner_energy += (inputs_up * gb.access_energy_pj.input + weights * gb.access_energy_pj.weight
                         + outputs * gb.access_energy_pj.output)
        dims = layer.per_group()
        chip_rows = tuple(_spatial_rows(target.chip_array, dims, False))
        w_fac = _merge(*(_factor(dims[i]) for i in (0, 4, 5, 6, 7)))
        o_fac = _merge(*(_factor(dims[i]) for i in (0, 1, 2, 3, 7)))
        per_chip_w = weights / _max_spatial_product(w_fac, chip_rows)
        per_chip_o = outputs / _max_spatial_product(o_fac, chip_rows)
        gb_bw = gb.bandwidth_bits_per_cycle
        gb_terms = (_beats(math.ceil(inputs_up / n_chip), gb_bw, bits) * gb.access_cycles.input,
                    _beats(math.ceil(per_chip_w), gb_bw, bits) * gb.access_cycles.weight,
                    _beats(math.ceil(per_chip_o), gb_bw, bits) * gb.access_cycles.output)
        gb_cycles = _combine(_is_shared(gb), gb_terms)
    mac_lb = mac_interface_bound(target, layer)
    cycles = mac_lb.mac_lb_cycles + gb_cycles + dram_cycles
    energy = (macs * target.mac_energy_pj + mac_lb.lb_upper_energy_pj + inner_energy + dram_energy
              + _static_per_cycle(target) * cycles)
    scale = 1.0 - (REFERENCE_ROUNDING_SLACK if reference_u32 else ROUNDING_SLACK)
    return LowerBound(energy_pj=energy * scale, cycles=cycles * scale)
