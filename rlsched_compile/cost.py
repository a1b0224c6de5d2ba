"""The result of evaluating one scheduling table (plain frozen values, no native types)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .objective import Objective

#: Energy components (pJ), in the order of the golden vectors' ``energy_pj`` object.
ENERGY_COMPONENTS: tuple[str, ...] = (
    "mac_energy", "lb_energy_upper", "lb_energy_lower", "lb_energy", "gb_energy_upper",
    "gb_energy_lower", "gb_energy", "dram_energy", "total_dynamic_energy", "mac_static",
    "lb_static", "gb_static", "dram_static", "total_static_energy", "total_energy")
#: Cycle components, in the order of the golden vectors' ``cycles`` object.
CYCLE_COMPONENTS: tuple[str, ...] = ("mac_cycle", "lb_cycle", "gb_cycle", "dram_cycle", "total_cycle")
#: Active-unit counts, in the order of the golden vectors' ``active`` object.
ACTIVE_FIELDS: tuple[str, ...] = ("mac_x", "mac_y", "macs", "pe_x", "pe_y", "pes", "chip_x", "chip_y", "chips")
#: Buffer levels with tiles and access counts.
BUFFERS: tuple[str, ...] = ("local_buffer", "global_buffer", "dram")
#: Access-count kinds per buffer level.
ACCESS_KINDS: tuple[str, ...] = ("input_read", "weight_read", "output_read", "output_write")
#: Validity reason codes (spec §2.3), indexed by the C enum rls_reason.
REASONS: tuple[str | None, ...] = (
    None, "column_product", "register_row", "absent_level_row", "mac_array_dims", "pe_array_dims",
    "pe_array_constraint", "chip_array_dims", "lb_capacity", "gb_capacity", "gb_dedicated_capacity",
    "mapping_constraint", "overflow")

Tiles = dict[str, dict[str, dict[str, int]]]


@dataclass(frozen=True)
class Evaluation:
    """Validity and cost of one table on one target for one layer.

    Attributes:
        valid: whether every rule of spec §2.3 holds.
        invalid_reason: the first failing rule's code (None when valid).
        tile_sizes: ``{buffer: {"alloc"|"send": {type: elements}}}``.
        active: active MACs/PEs/chips (see ACTIVE_FIELDS).
        access_counts: ``{buffer: {kind: transfers}}`` (None when invalid).
        num_mac_operations: MACs of the layer (None when invalid).
        energy_by_component_pj: energy per component, pJ (None when invalid).
        cycles_by_component: cycles per component (None when invalid).
    """

    valid: bool
    invalid_reason: str | None
    tile_sizes: Tiles
    active: dict[str, int]
    access_counts: dict[str, dict[str, int]] | None = None
    num_mac_operations: float | None = None
    energy_by_component_pj: dict[str, float] | None = None
    cycles_by_component: dict[str, float] | None = None

    @property
    def energy_pj(self) -> float:
        """Total energy incl. static energy (the reference's energy metric); inf when invalid."""
        return self.energy_by_component_pj["total_energy"] if self.energy_by_component_pj else float("inf")

    @property
    def cycles(self) -> float:
        """Total cycles; inf when invalid."""
        return self.cycles_by_component["total_cycle"] if self.cycles_by_component else float("inf")

    @property
    def edp(self) -> float:
        """Energy-delay product, pJ x cycles."""
        return Objective.EDP.measure(self.energy_pj, self.cycles)

    def objective(self, objective: Objective | str) -> float:
        """The figure ``objective`` minimizes (inf when invalid)."""
        return Objective.parse(objective).measure(self.energy_pj, self.cycles)

    def to_dict(self) -> dict[str, Any]:
        """Exactly the ``expected`` structure of the golden vectors."""
        d: dict[str, Any] = {"valid": self.valid}
        if not self.valid:
            d["invalid_reason"] = self.invalid_reason
        d["tile_sizes"] = self.tile_sizes
        d["active"] = self.active
        if self.valid:
            d["access_counts"] = self.access_counts
            d["num_mac_operations"] = self.num_mac_operations
            d["energy_pj"] = self.energy_by_component_pj
            d["cycles"] = self.cycles_by_component
        return d
