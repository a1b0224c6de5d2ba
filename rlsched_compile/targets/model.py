"""Frozen values describing an accelerator target (schema ``rlsched-target-v1``,
``../shared/spec/cost-model.md`` §1). Built by :mod:`rlsched_compile.targets.loader`;
consumed by the native cost model and the reports."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from typing import Any

#: Data types, always in this order (spec: I, W, O).
DATA_TYPES: tuple[str, ...] = ("input", "weight", "output")
#: Stationary data type of each dataflow.
STATIONARY: dict[str, str] = {"IS": "input", "WS": "weight", "OS": "output"}


@dataclass(frozen=True)
class PerType:
    """One real value per data type (pJ per element, mW, or cycles per beat)."""

    input: float = 0.0
    weight: float = 0.0
    output: float = 0.0

    def as_tuple(self) -> tuple[float, float, float]:
        return (self.input, self.weight, self.output)

    def to_dict(self) -> dict[str, float]:
        return {"input": self.input, "weight": self.weight, "output": self.output}


@dataclass(frozen=True)
class SpatialLevel:
    """A 2-D array of MACs, PEs or chips. Row (X) may use at most ``x``, row (Y) at most ``y``.

    ``allowed_x``/``allowed_y``: columns that may hold a factor > 1 (honoured on the PE array only,
    as in the reference; spec Q21)."""

    x: int
    y: int
    allowed_x: tuple[str, ...] | None = None
    allowed_y: tuple[str, ...] | None = None

    @property
    def size(self) -> int:
        return self.x * self.y


@dataclass(frozen=True)
class Capacity:
    """Buffer capacity in bytes, in one of the spec's three forms.

    * ``separate``: ``per_type_bytes`` (one buffer per data type);
    * ``shared``: ``shared_bytes`` (one buffer for every non-bypassed type);
    * ``partially_shared``: ``shared_bytes`` plus ``dedicated_bytes`` for ``dedicated_type``.
    """

    form: str
    per_type_bytes: PerType | None = None
    shared_bytes: int | None = None
    dedicated_type: str | None = None
    dedicated_bytes: int | None = None

    def to_dict(self) -> dict[str, Any]:
        if self.form == "separate":
            assert self.per_type_bytes is not None
            return self.per_type_bytes.to_dict()
        d: dict[str, Any] = {"shared": self.shared_bytes}
        if self.form == "partially_shared":
            d["dedicated"] = {self.dedicated_type: self.dedicated_bytes}
        return d


@dataclass(frozen=True)
class TemporalLevel:
    """A buffer level (local buffer, global buffer) or DRAM.

    ``dataflow`` is the one in use (fixed mode: the file's only or first value);
    ``dataflow_options`` the set the file declares when it lists more than one (``[WS, OS]``),
    else None.
    """

    dataflow: str | None
    capacity: Capacity | None
    bypass: tuple[str, ...]
    access_energy_pj: PerType
    static_power_mw: PerType
    access_cycles: PerType
    bandwidth_bits_per_cycle: int
    fixed_mapping: tuple[int, ...] | None = None
    dataflow_options: tuple[str, ...] | None = None

    def allowed_dataflows(self) -> tuple[str | None, ...]:
        """Dataflows this buffer may take in flexible mode: the declared set; else, for a single
        declared value, every one of IS/WS/OS whose stationary type is not bypassed here (the
        reference's flexible mode); ``(None,)`` for a buffer without stationarity."""
        if self.dataflow_options:
            return self.dataflow_options
        if self.dataflow is None:
            return (None,)
        return tuple(d for d in ("IS", "WS", "OS") if STATIONARY[d] not in self.bypass)


@dataclass(frozen=True)
class VectorUnit:
    """The unit that runs the operators between the scheduled layers (pooling, activations,
    softmax, normalisation, ...), as declared in a target's optional ``vector_unit`` section.

    ``None`` means "not declared": :meth:`Target.vector_ops_per_cycle` and
    :meth:`Target.vector_energy_per_op_pj` then give the documented defaults.

    Attributes:
        ops_per_cycle: element operations completed per cycle.
        energy_per_op_pj: dynamic energy of one element operation, pJ.
    """

    ops_per_cycle: float | None = None
    energy_per_op_pj: float | None = None

    def to_dict(self) -> dict[str, float]:
        """The declared values only (absent ones stay absent)."""
        d: dict[str, float] = {}
        if self.ops_per_cycle is not None:
            d["ops_per_cycle"] = self.ops_per_cycle
        if self.energy_per_op_pj is not None:
            d["energy_per_op_pj"] = self.energy_per_op_pj
        return d


@dataclass(frozen=True)
class Target:
    """A complete accelerator description.

    Attributes:
        name: target name (``simba``, ``eyeriss``...; variants ``base~modifier``).
        precision_bits: width of one data element (multiple of 8).
        frequency_mhz: clock frequency, used for static energy only.
        mac_energy_pj: dynamic energy of one MAC operation.
        mac_static_power_mw: leakage of one MAC unit.
        local_buffer, dram: mandatory temporal levels.
        mac_array, pe_array, chip_array: spatial levels (None = absent).
        global_buffer: optional temporal level (None = absent).
        vector_unit: the optional ``vector_unit`` section (None = not declared; the defaults of
            :meth:`vector_ops_per_cycle` and :meth:`vector_energy_per_op_pj` apply).
    """

    name: str
    precision_bits: int
    frequency_mhz: float
    mac_energy_pj: float
    mac_static_power_mw: float
    local_buffer: TemporalLevel
    dram: TemporalLevel
    mac_array: SpatialLevel | None = None
    pe_array: SpatialLevel | None = None
    global_buffer: TemporalLevel | None = None
    chip_array: SpatialLevel | None = None
    vector_unit: VectorUnit | None = None
    source: str | None = None
    notes: tuple[str, ...] = field(default=(), compare=False)

    def levels(self) -> list[tuple[str, SpatialLevel | TemporalLevel]]:
        """Present levels, innermost first, with their role names."""
        order = ("mac_array", "local_buffer", "pe_array", "global_buffer", "chip_array", "dram")
        return [(n, getattr(self, n)) for n in order if getattr(self, n) is not None]

    @property
    def vector_ops_per_cycle(self) -> float:
        """Vector-unit throughput: the declared ``vector_unit.ops_per_cycle``, else one element
        operation per PE of every chip per cycle (PE array x chip array, 1 where absent)."""
        if self.vector_unit is not None and self.vector_unit.ops_per_cycle is not None:
            return self.vector_unit.ops_per_cycle
        n = 1
        for lv in (self.pe_array, self.chip_array):
            if lv is not None:
                n *= lv.x * lv.y
        return float(n)

    @property
    def vector_energy_per_op_pj(self) -> float:
        """Vector-unit energy per element operation: the declared
        ``vector_unit.energy_per_op_pj``, else ``mac_energy_pj`` (one operation costs one MAC)."""
        if self.vector_unit is not None and self.vector_unit.energy_per_op_pj is not None:
            return self.vector_unit.energy_per_op_pj
        return self.mac_energy_pj

    def to_dict(self) -> dict[str, Any]:
        """The target in the neutral JSON schema of the spec (``rlsched-target-v1``).

        ``vector_unit`` is present only when the target declares it, so targets without it
        keep the hash (:attr:`sha256`) they always had."""
        levels: list[dict[str, Any]] = []
        for role, lv in self.levels():
            if isinstance(lv, SpatialLevel):
                d: dict[str, Any] = {"level": role, "type": "spatial", "x": lv.x, "y": lv.y}
                if lv.allowed_x is not None:
                    d["allowed_x"] = list(lv.allowed_x)
                if lv.allowed_y is not None:
                    d["allowed_y"] = list(lv.allowed_y)
            else:
                d = {"level": role, "type": "temporal",
                     "dataflow": list(lv.dataflow_options) if lv.dataflow_options else lv.dataflow}
                if lv.capacity is not None:
                    d["capacity_bytes"] = lv.capacity.to_dict()
                if role != "dram":
                    d["bypass"] = list(lv.bypass)
                d["access_energy_pj"] = lv.access_energy_pj.to_dict()
                d["static_power_mw"] = lv.static_power_mw.to_dict()
                d["access_cycles"] = lv.access_cycles.to_dict()
                d["bandwidth_bits_per_cycle"] = lv.bandwidth_bits_per_cycle
                if lv.fixed_mapping is not None:
                    d["fixed_mapping"] = list(lv.fixed_mapping)
            levels.append(d)
        out: dict[str, Any] = {
            "schema": "rlsched-target-v1",
            "name": self.name,
            "precision_bits": self.precision_bits,
            "frequency_mhz": self.frequency_mhz,
            "mac_energy_pj": self.mac_energy_pj,
            "mac_static_power_mw": self.mac_static_power_mw,
            "levels": levels,
        }
        if self.vector_unit is not None:
            out["vector_unit"] = self.vector_unit.to_dict()
        return out

    def dataflow_choice(self) -> tuple[str | None, str | None]:
        """The dataflows in use: (local buffer, global buffer; None when absent or not set)."""
        gb = self.global_buffer
        return (self.local_buffer.dataflow, None if gb is None else gb.dataflow)

    def flexible_combinations(self) -> list[tuple[str | None, str | None]]:
        """Every (local buffer, global buffer) dataflow pair flexible mode may use: the target's
        own (fixed-mode) pair first, then the others in the order of the allowed sets."""
        own = self.dataflow_choice()
        lb = self.local_buffer.allowed_dataflows()
        gb: tuple[str | None, ...] = (None,) if self.global_buffer is None else self.global_buffer.allowed_dataflows()
        return [own] + [(a, b) for a in lb for b in gb if (a, b) != own]

    def with_dataflows(self, choice: tuple[str | None, str | None]) -> "Target":
        """This target with the buffers using ``choice`` = (local buffer, global buffer) dataflows.

        The result describes one choice, so it declares no set (``dataflow_options`` None); the
        global buffer's entry is ignored when the target has none. Raises ValueError for a
        dataflow whose stationary type the buffer bypasses.
        """
        lb_df, gb_df = choice
        parts: dict[str, TemporalLevel] = {}
        for role, df in (("local_buffer", lb_df), ("global_buffer", gb_df)):
            lv: TemporalLevel | None = getattr(self, role)
            if lv is None:
                continue
            if df is not None and STATIONARY[df] in lv.bypass:
                raise ValueError(f"{role} of {self.name!r} bypasses {STATIONARY[df]}, so it cannot be {df}")
            parts[role] = replace(lv, dataflow=df, dataflow_options=None)
        return replace(self, **parts)  # type: ignore[arg-type]

    def hardware(self) -> "Target":
        """This target without any dataflow (every buffer ``None``): what the C library builds
        once, the dataflows being passed per evaluation."""
        return self.with_dataflows((None, None))

    @property
    def sha256(self) -> str:
        """Hash of the cost-relevant content (canonical JSON of :meth:`to_dict`)."""
        blob = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":")).encode()
        return hashlib.sha256(blob).hexdigest()
