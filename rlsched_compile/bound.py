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
  (bw in elements per beat). Inputs are left out: with a stride larger than the kernel their tiles
  need not cover the whole input tensor, so |I| is no valid bound.
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
    dram_cycles = (_beats(weights, bw, bits) * dram.access_cycles.weight
                   + _beats(outputs, bw, bits) * dram.access_cycles.output)
    cycles = macs / n_mac + dram_cycles
    tclk_ns = 1000.0 / target.frequency_mhz
    static_per_cycle = target.mac_static_power_mw * tclk_ns * n_mac
    static_per_cycle += sum(target.local_buffer.static_power_mw.as_tuple()) * tclk_ns * pes
    if target.global_buffer is not None:
        static_per_cycle += sum(target.global_buffer.static_power_mw.as_tuple()) * tclk_ns * chips
    static_per_cycle += sum(dram.static_power_mw.as_tuple()) * tclk_ns
    energy = (macs * target.mac_energy_pj + weights * dram.access_energy_pj.weight
              + outputs * dram.access_energy_pj.output + static_per_cycle * cycles)
    scale = 1.0 - ROUNDING_SLACK
    return LowerBound(energy_pj=energy * scale, cycles=cycles * scale)
