"""One layer's schedule: the value the compiler produces per layer, and its renderings.

:class:`LayerSchedule` holds a layer, the scheduling table chosen for it and the cost model's
evaluation of that table. This module derives what people and tools read from it: the loop nest
the table stands for, buffer and array utilization, and the ``schedules/NNN_<layer>.json`` /
``.txt`` files.

Loop order inside one temporal level: the table fixes the factor of each loop at each level but
not the order of the loops within a level. The cost model (spec §4.2) counts a level's accesses as
if the loops that do not index the *inner* buffer's stationary data type run innermost in that
level (that is what keeps the stationary tile resident). The loop nest shows exactly that order:
within a level, loops relevant to the stationary type first (outer), irrelevant ones last (inner),
each group in the order G, K, B, P, Q, C, R, S.
"""
from __future__ import annotations

import functools
import logging
import re
from dataclasses import dataclass
from typing import Any

from .._sanitize import safe_file_name, terminal_safe
from ..cost import BUFFERS, CYCLE_COMPONENTS, ENERGY_COMPONENTS, Evaluation
from ..layer import PARAMS, Layer
from ..objective import Objective
from ..solved import SolvedLayer
from ..table import ROW_NAMES, ROWS, Row, SchedulingTable, Table
from ..targets.model import DATA_TYPES, SpatialLevel, Target, TemporalLevel

logger = logging.getLogger(__name__)

#: Version of the schedule file layout.
SCHEDULE_SCHEMA_VERSION: int = 1
#: Outer-to-inner column order used inside one level (before stationarity reordering).
_LOOP_ORDER: tuple[str, ...] = ("G", "K", "B", "P", "Q", "C", "R", "S")
#: Columns that index each data type (the others are "irrelevant" to it).
_RELEVANT: dict[str, frozenset[str]] = {
    "input": frozenset({"B", "C", "G", "P", "Q", "R", "S"}),
    "weight": frozenset({"K", "C", "R", "S", "G"}),
    "output": frozenset({"K", "B", "P", "Q", "G"}),
}
_STATIONARY = {"IS": "input", "WS": "weight", "OS": "output"}
#: Rows of target levels, outermost first (the Register row holds no loop).
_ROWS_OUTER_FIRST: tuple[Row, ...] = tuple(r for r in reversed(ROWS) if r.level is not None)


@dataclass(frozen=True)
class LayerSchedule:
    """The schedule of one network layer: its place in the network and the record of its unique
    layer's solve (identical layers share one :class:`~rlsched_compile.solved.SolvedLayer`).

    Attributes:
        index: position of the layer in the network (0-based, graph order).
        layer: the layer (its name is the ONNX node name).
        group: index of the unique-layer group it belongs to (identical layers share a schedule).
        solved: the record of the group's solve: table, evaluation, strategy, bookkeeping.
    """

    index: int
    layer: Layer
    group: int
    solved: SolvedLayer

    @property
    def table(self) -> SchedulingTable:
        """The scheduling table (spec row order; columns K..G, K and C per group)."""
        return self.solved.table

    @property
    def evaluation(self) -> Evaluation:
        """The cost model's evaluation of :attr:`table` (always valid)."""
        return self.solved.evaluation

    @property
    def objective(self) -> Objective:
        """The objective the search minimized."""
        return self.solved.objective

    @property
    def strategy(self) -> str:
        """The strategy that produced the table."""
        return self.solved.strategy

    @property
    def evaluations(self) -> int:
        """Cost-model evaluations the search spent."""
        return self.solved.evaluations

    @property
    def finished(self) -> bool:
        """Whether the search finished within its budget."""
        return self.solved.finished

    @property
    def search_time_s(self) -> float:
        """Wall time of the search, seconds (of the original search when cached)."""
        return self.solved.search_time_s

    @property
    def cached(self) -> bool:
        """Whether the table came from the on-disk cache."""
        return self.solved.cached

    @property
    def dataflows(self) -> tuple[str | None, str | None] | None:
        """Flexible mode: the (local buffer, global buffer) dataflows chosen for this layer; None in
        fixed mode (the target's own)."""
        return self.solved.dataflows

    @property
    def fixed_evaluation(self) -> Evaluation | None:
        """Flexible mode: the evaluation of the fixed-dataflow result (what fixed mode would have
        produced), for the saving against fixed; None in fixed mode."""
        return self.solved.fixed_evaluation

    def effective_target(self, target: Target) -> Target:
        """``target`` with this layer's dataflows (the target itself in fixed mode)."""
        return target if self.dataflows is None else _with_dataflows(target, self.dataflows)

    @property
    def energy_pj(self) -> float:
        """Total energy (dynamic + static) of one run of the layer, pJ."""
        return self.evaluation.energy_pj

    @property
    def cycles(self) -> float:
        """Total cycles of one run of the layer."""
        return self.evaluation.cycles

    @property
    def repeat(self) -> int:
        """Runs of the layer (:attr:`Layer.repeat`); network totals count each run."""
        return self.layer.repeat


@dataclass(frozen=True)
class LayerFailure:
    """A layer for which no valid schedule was found.

    Attributes:
        index: position of the layer in the network.
        layer: the layer.
        group: unique-layer group index.
        message: one-line diagnostic from the search.
    """

    index: int
    layer: Layer
    group: int
    message: str


def file_stem(index: int, layer_name: str) -> str:
    """``NNN_<layer>`` with the name reduced to file-safe characters."""
    return f"{index:03d}_{safe_file_name(layer_name, fallback='layer')}"


def scheduled_onnx_name(model_name: str) -> str:
    """``<model>.scheduled.onnx`` with the model (ONNX graph) name reduced to one safe file name, so
    a name like ``../../x`` or ``/tmp/x`` still lands in the output folder."""
    return f"{safe_file_name(model_name, fallback='model')}.scheduled.onnx"


# ---- derived views ------------------------------------------------------------------------

def _stationary_of_inner(target: Target, role: str) -> str | None:
    """Stationary data type of the buffer just inside a temporal level (spec §4.2)."""
    if role == "local_buffer":
        return None
    if role == "global_buffer":
        df = target.local_buffer.dataflow
    else:
        inner = target.global_buffer if target.global_buffer is not None else target.local_buffer
        df = inner.dataflow
    return _STATIONARY.get(df) if df else None


@functools.lru_cache(maxsize=4096)
def _loop_nest_cached(target: Target, table: Table) -> tuple[tuple[str, str, str, int], ...]:
    return tuple((lp["level"], lp["kind"], lp["dim"], lp["bound"]) for lp in _loop_nest(target, table))


@functools.lru_cache(maxsize=64)
def _with_dataflows(target: Target, choice: tuple[str | None, str | None]) -> Target:
    return target.with_dataflows(choice)


@functools.lru_cache(maxsize=64)
def target_sha256(target: Target) -> str:
    """:attr:`Target.sha256`, computed once per target (it hashes the whole description)."""
    return target.sha256


def loop_nest(target: Target, table: Table | SchedulingTable) -> list[dict[str, Any]]:
    """The loop nest a table stands for, outermost first.

    Args:
        target: the target (decides which rows exist and the order inside temporal levels).
        table: the scheduling table.

    Returns:
        One dict per loop with a factor > 1: ``level`` (row name), ``kind`` (``temporal`` or
        ``spatial``), ``dim`` (column letter) and ``bound`` (the factor).
    """
    key = tuple(tuple(int(v) for v in row) for row in table)
    return [{"level": lv, "kind": kind, "dim": dim, "bound": bound}
            for lv, kind, dim, bound in _loop_nest_cached(target, key)]


def _loop_nest(target: Target, table: Table | SchedulingTable) -> list[dict[str, Any]]:
    loops: list[dict[str, Any]] = []
    for row in _ROWS_OUTER_FIRST:
        role = str(row.level)
        if getattr(target, role) is None:
            continue
        factors = {PARAMS[c]: int(table[row][c]) for c in range(len(PARAMS))}
        order = list(_LOOP_ORDER)
        kind = "spatial" if row.spatial else "temporal"
        if kind == "temporal":
            stationary = _stationary_of_inner(target, role)
            if stationary is not None:
                rel = _RELEVANT[stationary]
                order = [d for d in order if d in rel] + [d for d in order if d not in rel]
        loops.extend({"level": row.label, "kind": kind, "dim": d, "bound": factors[d]}
                     for d in order if factors[d] > 1)
    return loops


def _array_size(level: SpatialLevel | None) -> int:
    return 1 if level is None else level.x * level.y


def array_utilization(target: Target, evaluation: Evaluation) -> dict[str, float]:
    """Share of each spatial array in use (1.0 for an absent array), and of all MAC units.

    Returns:
        ``mac_array``, ``pe_array``, ``chip_array`` and ``mac_units`` (active MAC units / all
        MAC units of the target), each in [0, 1].
    """
    act = evaluation.active
    mac_total = _array_size(target.mac_array)
    pe_total = _array_size(target.pe_array)
    chip_total = _array_size(target.chip_array)
    return {
        "mac_array": act["macs"] / mac_total,
        "pe_array": act["pes"] / pe_total,
        "chip_array": act["chips"] / chip_total,
        "mac_units": act["macs"] * act["pes"] * act["chips"] / (mac_total * pe_total * chip_total),
    }


def buffer_utilization(target: Target, evaluation: Evaluation) -> dict[str, dict[str, float]]:
    """Allocated tile bytes / capacity bytes of the local and global buffers.

    Returns:
        ``{buffer: {part: fraction}}``; parts are the data types for separate buffers,
        ``shared`` for a shared buffer, plus the dedicated type for a partially shared one.
        Bypassed types of a separate buffer and absent buffers are left out.
    """
    bpe = target.precision_bits // 8
    out: dict[str, dict[str, float]] = {}
    for role in ("local_buffer", "global_buffer"):
        lv: TemporalLevel | None = getattr(target, role)
        if lv is None or lv.capacity is None:
            continue
        alloc = evaluation.tile_sizes[role]["alloc"]
        cap = lv.capacity
        parts: dict[str, float] = {}
        if cap.form == "separate" and cap.per_type_bytes is not None:
            for t in DATA_TYPES:
                size = getattr(cap.per_type_bytes, t)
                if t not in lv.bypass and size > 0:
                    parts[t] = alloc[t] * bpe / size
        else:
            shared = sum(alloc[t] for t in DATA_TYPES if t not in lv.bypass)
            if cap.shared_bytes:
                parts["shared"] = shared * bpe / cap.shared_bytes
            if cap.form == "partially_shared" and cap.dedicated_type and cap.dedicated_bytes:
                parts[cap.dedicated_type] = alloc[cap.dedicated_type] * bpe / cap.dedicated_bytes
        out[role] = parts
    return out


def level_traffic(evaluation: Evaluation) -> dict[str, dict[str, int]]:
    """Elements moved through each buffer level, per data type: the accesses the cost model
    charges energy for (spec §6), so ``sum(traffic[level][type] x access_energy_pj[type])`` is
    that level's dynamic energy.

    * local buffer: tiles sent to the MACs plus tiles filled from the global buffer, in every
      active PE of every active chip;
    * global buffer: tiles sent to the PEs plus tiles filled from DRAM, in every active chip;
    * DRAM: tiles sent to the chips.

    Output traffic counts reads and writes (``output_read + output_write``).

    Returns:
        ``{buffer: {type: elements}}`` for ``local_buffer``, ``global_buffer`` and ``dram`` (a
        level the target lacks has all zeros).
    """
    counts = evaluation.access_counts
    assert counts is not None, "traffic of an invalid evaluation"
    tiles = evaluation.tile_sizes
    act = evaluation.active

    def n(buf: str, t: str) -> int:
        c = counts[buf]
        return c["output_read"] + c["output_write"] if t == "output" else c[f"{t}_read"]

    inner = {"local_buffer": "global_buffer", "global_buffer": "dram"}
    copies = {"local_buffer": act["pes"] * act["chips"], "global_buffer": act["chips"], "dram": 1}
    out: dict[str, dict[str, int]] = {}
    for buf in BUFFERS:
        per_type: dict[str, int] = {}
        for t in DATA_TYPES:
            moved = tiles[buf]["send"][t] * n(buf, t)
            if buf in inner:
                moved += tiles[buf]["alloc"][t] * n(inner[buf], t)
            per_type[t] = moved * copies[buf]
        out[buf] = per_type
    return out


def dataflows(target: Target) -> dict[str, str | None]:
    """Dataflow (stationary type code) of each present buffer level."""
    out: dict[str, str | None] = {}
    for role in BUFFERS:
        lv: TemporalLevel | None = getattr(target, role)
        if lv is not None:
            out[role] = lv.dataflow
    return out


# ---- files -------------------------------------------------------------------------------

def _round(x: float) -> float:
    """Floats in files keep 12 significant digits (stable across platforms' last-bit noise)."""
    return float(f"{x:.12g}")


def schedule_to_dict(s: LayerSchedule, target: Target) -> dict[str, Any]:
    """The content of ``schedules/NNN_<layer>.json`` (stable key order, no timings).

    The search's wall time is deliberately not here (it would break byte-identical outputs);
    it is in ``timing.json``.
    """
    ev = s.evaluation
    assert ev.energy_by_component_pj is not None and ev.cycles_by_component is not None
    layer = s.layer
    used = s.effective_target(target)
    return {
        "schema_version": SCHEDULE_SCHEMA_VERSION,
        "layer": {
            "index": s.index, "name": layer.name, "onnx_node": layer.name, "op": layer.op,
            **{p: getattr(layer, p) for p in PARAMS},
            "stride_h": layer.stride_h, "stride_w": layer.stride_w,
            "dilation_h": layer.dilation_h, "dilation_w": layer.dilation_w,
            "macs": layer.macs,
            **({"repeat": layer.repeat} if layer.repeat > 1 else {}),
        },
        "target": {"name": target.name, "sha256": target_sha256(target)},
        "objective": s.objective.value,
        "strategy": s.strategy,
        "evaluations": s.evaluations,
        "finished": s.finished,
        "table": s.table.to_dict(),
        "dataflows": dataflows(used),
        "loop_nest": loop_nest(used, s.table),
        "tile_sizes": ev.tile_sizes,
        "utilization": {
            "arrays": {k: _round(v) for k, v in array_utilization(target, ev).items()},
            "buffers": {b: {k: _round(v) for k, v in parts.items()}
                        for b, parts in buffer_utilization(target, ev).items()},
        },
        "active": ev.active,
        "access_counts": ev.access_counts,
        "energy_pj": {k: ev.energy_by_component_pj[k] for k in ENERGY_COMPONENTS},
        "cycles": {k: ev.cycles_by_component[k] for k in CYCLE_COMPONENTS},
    }


#: Short level tags for loop variable names in the text rendering, by row name.
_TAGS: dict[str, str] = {r.label: tag for r, tag in (
    (Row.REGISTER, "reg"), (Row.MAC_X, "macx"), (Row.MAC_Y, "macy"), (Row.LOCAL_BUFFER, "lb"), (Row.PE_X, "pex"),
    (Row.PE_Y, "pey"), (Row.GLOBAL_BUFFER, "gb"), (Row.CHIP_X, "chipx"), (Row.CHIP_Y, "chipy"), (Row.DRAM, "dram"))}


def render_loop_nest(loops: list[dict[str, Any]]) -> str:
    """Loop nest as indented pseudo-code, one loop per line (``parallel_for`` = spatial)."""
    lines = []
    width = max((2 * d + len(f"parallel_for {lp['dim']}_{_TAGS[lp['level']]} in range({lp['bound']}):")
                 for d, lp in enumerate(loops)), default=0) + 2
    for depth, lp in enumerate(loops):
        kw = "parallel_for" if lp["kind"] == "spatial" else "for"
        var = f"{lp['dim'].lower()}_{_TAGS[lp['level']]}"
        lines.append(f"{'  ' * depth}{kw} {var} in range({lp['bound']}):".ljust(width) + f"# {lp['level']}")
    lines.append(f"{'  ' * len(loops)}mac()")
    return "\n".join(lines)


def render_schedule_text(s: LayerSchedule, target: Target) -> str:
    """The ``.txt`` rendering: header, table, loop nest and the main figures."""
    ly = s.layer
    util = array_utilization(target, s.evaluation)
    t_ = terminal_safe  # names from the model or target: never a raw newline or escape sequence
    head = (f"layer {s.index:03d} {t_(ly.name)} ({t_(ly.op)})  K={ly.K} B={ly.B} P={ly.P} Q={ly.Q} C={ly.C} "
            f"R={ly.R} S={ly.S} G={ly.G} stride={ly.stride_h}x{ly.stride_w} "
            f"dilation={ly.dilation_h}x{ly.dilation_w}")
    used = s.effective_target(target)
    flows = ", ".join(f"{role} {df or '-'}" for role, df in dataflows(used).items() if role != "dram")
    width = max(len(r) for r in ROW_NAMES)
    col_w = max(6, max(len(str(v)) for row in s.table for v in row) + 1)
    rows = ["".ljust(width) + "".join(p.rjust(col_w) for p in PARAMS)]
    for r in ROWS:
        rows.append(r.label.ljust(width) + "".join(str(v).rjust(col_w) for v in s.table[r]))
    lines = [
        head,
        f"target {t_(target.name)} (sha256 {target_sha256(target)[:12]})  objective {s.objective}  strategy {t_(s.strategy)}"
        f"  evaluations {s.evaluations}{'' if s.finished else ' (budget reached)'}",
        f"dataflows   {flows}" + ("" if s.dataflows is None else "  (chosen per layer: --dataflow flexible)"),
        "",
        "scheduling table (columns K and C per group):",
        *rows,
        "",
        "loop nest (outermost first):",
        render_loop_nest(loop_nest(used, s.table)),
        "",
        f"energy      {s.energy_pj:.6g} pJ  (dynamic {s.evaluation.energy_by_component_pj['total_dynamic_energy']:.6g},"  # type: ignore[index]
        f" static {s.evaluation.energy_by_component_pj['total_static_energy']:.6g})",  # type: ignore[index]
        f"cycles      {s.cycles:.6g}",
        f"utilization MAC units {100 * util['mac_units']:.1f}%  PE array {100 * util['pe_array']:.1f}%",
    ]
    return "\n".join(lines) + "\n"
