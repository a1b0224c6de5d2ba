"""Per-layer lower bounds on energy and cycles under the cost model: the optimality certificate.

No valid scheduling table of a layer on a target costs less than :func:`layer_lower_bound`, so
``schedule / bound - 1`` ("gap to lower bound") bounds how far from optimal a schedule can be.

Derivation (``../shared/spec/cost-model.md`` §4-§7; M = the layer's MACs; every term below is a
term of the model's own sum that no valid table can make smaller, all others are dropped as >= 0):

* **MAC energy** is ``M * mac_energy_pj`` for every table.
* **Compute cycles**: ``C_mac = M / (active MACs * active PEs * active chips)`` and every active count
  is at most its array's size, so ``C_mac >= M / N`` with N the instantiated MAC units.
* **Compulsory DRAM traffic** of weights and outputs: the DRAM level sends, per data type, its tile
  (the product of every row below DRAM) times its access count. For weights the count is the DRAM
  row's product (divided by B*P*Q under a WS global buffer, 1 with read-once, multiplied under the
  bypass rule), at least the DRAM row's K*C*R*S*G, so tile x count >= |W| = (K/G)(C/G)RSG. For
  outputs the writes alone are at least the DRAM row's K*B*P*Q*G (divided by C*R*S under OS, 1 with
  read-once, multiplied under the bypass rules), so tile x writes >= |O| = (K/G)BPQG. Hence DRAM
  energy >= ``|W| e_W + |O| e_O`` and DRAM cycles >= ``ceil(|W| / bw) c_W + ceil(|O| / bw) c_O``
  (bw in elements per beat).
* **Compulsory DRAM traffic of inputs** (only when the DRAM-facing dataflow in use - the global
  buffer's, else the local buffer's - is not IS, whose quirk Q4 divides input reads by factors
  that do index inputs; a flexible layer's bound is taken on the target with its own dataflows): with ``d != IS`` the input reads are the DRAM row's product, or
  1 with a tile of the whole layer (read-once), so per spatial axis the traffic is at least
  ``p_o * r_o * ((P/p_o - 1) * stride + (R/r_o - 1) * dilation + 1)`` for some divisors p_o of P
  and r_o of R (the outer factors), times B*C and the same for the other axis. The minimum over
  the divisors is the bound; with stride <= kernel extent it is the whole (dense) input, with a
  larger stride less (skipped rows are never read). Stride 0 (the FC convention) gives R.
  Energy ``I_min e_I`` and DRAM cycles ``ceil(I_min / bw) c_I`` are added like the others.
* **Filling the global buffer** (spec §6 ``E_GB,lo = Phi(alloc_GB, n_DRAM, e_GB) * A_chip``): the
  GB tile times the active chips covers at least the DRAM tile, with the same DRAM counts, so
  this energy is at least ``|W| e_GB,W + |O| e_GB,O`` (+ ``I_min e_GB,I`` under the input
  condition above: the chip rows and the DRAM row are then the outer factors).
* **Cycles** are the sum of the compute, local-buffer, global-buffer and DRAM cycles (spec Q12):
  ``cycles >= M / N + DRAM cycles above``.
* **Static energy** is (static power of every instantiated MAC, buffer and DRAM) x cycles, so at
  least that power x the cycle bound.

The bounds are scaled by ``1 - 1e-9`` to absorb floating-point rounding differences between this
module and the C model. ``tests/test_bound.py`` checks with hypothesis that no valid table (random
valid tables, and the searches' tables) costs less.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from .layer import Layer
from .targets.model import Target

#: Relative slack for rounding (the bound is a float computation beside the C model's).
ROUNDING_SLACK = 1e-9


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


def _divisors(n: int) -> list[int]:
    small = [d for d in range(1, math.isqrt(n) + 1) if n % d == 0]
    return sorted(set(small + [n // d for d in small]))


def compulsory_inputs(target: Target, layer: Layer) -> int:
    """The fewest input elements DRAM must send for any valid table (0 when no bound holds)."""
    dram_facing = target.global_buffer if target.global_buffer is not None else target.local_buffer
    if dram_facing is None or dram_facing.dataflow == "IS":
        return 0
    return (layer.B * layer.C * _axis_min(layer.P, layer.R, layer.stride_h, layer.dilation_h)
            * _axis_min(layer.Q, layer.S, layer.stride_w, layer.dilation_w))


def layer_lower_bound(target: Target, layer: Layer) -> LowerBound:
    """The lower bounds of one run of ``layer`` on ``target`` (see the module docstring for the
    derivation); a layer with ``repeat`` > 1 runs its one table ``repeat`` times."""
    macs = float(layer.instance_macs)
    n_mac = _spatial_size(target.mac_array) * _spatial_size(target.pe_array) * _spatial_size(target.chip_array)
    chips = _spatial_size(target.chip_array)
    pes = _spatial_size(target.pe_array) * chips
    g = layer.G
    weights = (layer.K // g) * (layer.C // g) * layer.R * layer.S * g
    outputs = (layer.K // g) * layer.B * layer.P * layer.Q * g
    dram = target.dram
    bits, bw = target.precision_bits, dram.bandwidth_bits_per_cycle
    inputs = compulsory_inputs(target, layer)
    dram_cycles = (_beats(weights, bw, bits) * dram.access_cycles.weight
                   + _beats(outputs, bw, bits) * dram.access_cycles.output
                   + _beats(inputs, bw, bits) * dram.access_cycles.input)
    cycles = macs / n_mac + dram_cycles
    tclk_ns = 1000.0 / target.frequency_mhz
    static_per_cycle = target.mac_static_power_mw * tclk_ns * n_mac
    static_per_cycle += sum(target.local_buffer.static_power_mw.as_tuple()) * tclk_ns * pes
    if target.global_buffer is not None:
        static_per_cycle += sum(target.global_buffer.static_power_mw.as_tuple()) * tclk_ns * chips
    static_per_cycle += sum(dram.static_power_mw.as_tuple()) * tclk_ns
    energy = (macs * target.mac_energy_pj + weights * dram.access_energy_pj.weight
              + outputs * dram.access_energy_pj.output + inputs * dram.access_energy_pj.input
              + static_per_cycle * cycles)
    gb = target.global_buffer
    if gb is not None:
        energy += (weights * gb.access_energy_pj.weight + outputs * gb.access_energy_pj.output
                   + inputs * gb.access_energy_pj.input)
    scale = 1.0 - ROUNDING_SLACK
    return LowerBound(energy_pj=energy * scale, cycles=cycles * scale)
