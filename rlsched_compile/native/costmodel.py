"""Typed wrapper of the C cost model (the only module besides ``native/search.py`` that touches
the compiled ``_rls`` module).

Public entry points: :func:`evaluate_table` (one table, full detail) and :func:`evaluate_batch`
(many tables for one layer in one C call, totals only).
"""
from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from ..cost import (ACCESS_KINDS, ACTIVE_FIELDS, BUFFERS, CYCLE_COMPONENTS, ENERGY_COMPONENTS,
                    REASONS, Evaluation)
from ..errors import LayerError, NativeError, TableError, TargetError, short_repr
from ..layer import PARAMS, Layer
from ..objective import Objective
from ..table import N_COLS, N_ROWS, ROW_NAMES, SchedulingTable, rows_from_records
from ..targets.model import DATA_TYPES, SpatialLevel, Target, TemporalLevel
from ._rls import ffi, lib

logger = logging.getLogger(__name__)

if lib.rls_abi_version() != 1:  # pragma: no cover - a stale build
    raise ImportError(f"rlsched_compile.native._rls has ABI {lib.rls_abi_version()}, expected 1: rebuild the package")

if (lib.RLS_ROWS, lib.RLS_COLS) != (N_ROWS, N_COLS):  # pragma: no cover - rls.h and table.py disagree
    raise ImportError(f"the C table is {lib.RLS_ROWS} x {lib.RLS_COLS}, table.py says {N_ROWS} x {N_COLS}")
_DATAFLOW = {None: lib.RLS_DF_NONE, "IS": lib.RLS_DF_IS, "WS": lib.RLS_DF_WS, "OS": lib.RLS_DF_OS}
_CAP_FORM = {"separate": lib.RLS_CAP_SEPARATE, "shared": lib.RLS_CAP_SHARED,
             "partially_shared": lib.RLS_CAP_PARTIALLY_SHARED}
#: The C code (``enum rls_objective``) of each objective.
OBJECTIVE_CODES: dict[Objective, int] = {Objective.ENERGY: lib.RLS_OBJ_ENERGY, Objective.CYCLES: lib.RLS_OBJ_CYCLES,
                                         Objective.EDP: lib.RLS_OBJ_EDP}


def objective_code(objective: Objective | str) -> int:
    """The C code of an objective (a name is parsed; RlschedError for an unknown one)."""
    return OBJECTIVE_CODES[Objective.parse(objective)]


def check_status(status: int, what: str) -> None:
    """Turn a C status into the matching exception (PyNaCl's ``ensure``)."""
    if status == lib.RLS_OK:
        return
    msg = f"{what}: {ffi.string(lib.rls_status_str(status)).decode()}"
    if status == lib.RLS_E_TARGET:
        raise TargetError(msg)
    if status == lib.RLS_E_LAYER:
        raise LayerError(msg)
    if status == lib.RLS_E_TABLE:
        raise TableError(msg)
    raise NativeError(msg)


# ---- targets -------------------------------------------------------------------------------

def _fill_spatial(d: Any, lv: SpatialLevel | None) -> None:
    d.present = 0 if lv is None else 1
    d.x = 1 if lv is None else lv.x
    d.y = 1 if lv is None else lv.y
    for axis in ("x", "y"):
        allowed = None if lv is None else getattr(lv, f"allowed_{axis}")
        setattr(d, f"has_allowed_{axis}", 0 if allowed is None else 1)
        setattr(d, f"allowed_{axis}_mask", sum(1 << PARAMS.index(c) for c in (allowed or ())))


def _fill_temporal(d: Any, lv: TemporalLevel | None) -> None:
    if lv is None:
        d.present = 0
        return
    d.present = 1
    d.dataflow = _DATAFLOW[lv.dataflow]
    cap = lv.capacity
    d.capacity_form = lib.RLS_CAP_NONE if cap is None else _CAP_FORM[cap.form]
    if cap is not None:
        if cap.per_type_bytes is not None:
            d.capacity_bytes = list(cap.per_type_bytes.as_tuple())
        d.shared_bytes = float(cap.shared_bytes or 0)
        d.dedicated_bytes = float(cap.dedicated_bytes or 0)
    d.bypass_mask = sum(1 << DATA_TYPES.index(t) for t in lv.bypass)
    d.access_energy_pj = list(lv.access_energy_pj.as_tuple())
    d.static_power_mw = list(lv.static_power_mw.as_tuple())
    d.access_cycles = list(lv.access_cycles.as_tuple())
    d.bandwidth_bits_per_cycle = float(lv.bandwidth_bits_per_cycle)
    d.has_fixed_mapping = 0 if lv.fixed_mapping is None else 1
    if lv.fixed_mapping is not None:
        d.fixed_mapping = list(lv.fixed_mapping)


def native_target(target: Target) -> Any:
    """The C handle of a target's hardware: built once per distinct hardware (the target without
    its dataflows, :meth:`Target.hardware`) and shared (it is immutable). Targets that differ only
    in their buffers' dataflows share one handle; every call passes :func:`native_dataflows`."""
    return _hardware_handle(_hardware(target))


@functools.lru_cache(maxsize=256)
def _hardware(target: Target) -> Target:
    return target.hardware()


@functools.lru_cache(maxsize=256)
def native_dataflows(target: Target) -> Any:
    """``int32_t[2]`` (local buffer, global buffer) of the target's dataflows, for the ``_df`` calls.

    Raises:
        TargetError: a buffer's dataflow has its stationary type bypassed there.
    """
    lb, gb = target.dataflow_choice()
    flows = ffi.new("int32_t[2]", [_DATAFLOW[lb], _DATAFLOW[gb]])
    if lib.rls_dataflows_check(native_target(target), flows) != lib.RLS_OK:
        raise TargetError(f"target {target.name!r}: dataflows {lb}/{gb} hold a type the buffer bypasses")
    return flows


@functools.lru_cache(maxsize=128)
def _hardware_handle(target: Target) -> Any:
    desc = ffi.new("rls_target_desc *")
    desc.precision_bits = target.precision_bits
    desc.frequency_mhz = float(target.frequency_mhz)
    desc.mac_energy_pj = float(target.mac_energy_pj)
    desc.mac_static_power_mw = float(target.mac_static_power_mw)
    _fill_spatial(desc.mac_array, target.mac_array)
    _fill_spatial(desc.pe_array, target.pe_array)
    _fill_spatial(desc.chip_array, target.chip_array)
    _fill_temporal(desc.local_buffer, target.local_buffer)
    _fill_temporal(desc.global_buffer, target.global_buffer)
    _fill_temporal(desc.dram, target.dram)
    out = ffi.new("rls_target **")
    check_status(lib.rls_target_new(desc, out), f"target {target.name!r}")
    return ffi.gc(out[0], lib.rls_target_free)


def as_target(target: Target | Mapping[str, Any] | str) -> Target:
    """Accept a Target, a dict in the spec's JSON schema, or a shipped name / file path."""
    if isinstance(target, Target):
        return target
    from ..targets import loader  # deferred: the loader pulls in YAML parsing

    if isinstance(target, Mapping):
        return loader.target_from_dict(target)
    return loader.load_target(target)


# ---- layers and tables ---------------------------------------------------------------------

def as_layer(layer: Layer | Mapping[str, Any]) -> Layer:
    """Accept a Layer or a dict (golden-vector form with a single ``stride`` too)."""
    if isinstance(layer, Layer):
        return layer
    if isinstance(layer, Mapping):
        return Layer.from_dict(layer)
    raise LayerError(f"expected a Layer or a dict, got {type(layer).__name__}")


def native_layer(layer: Layer) -> Any:
    c = ffi.new("rls_layer *")
    for p in PARAMS:
        setattr(c, p, getattr(layer, p))
    c.stride_h, c.stride_w = layer.stride_h, layer.stride_w
    c.dilation_h, c.dilation_w = layer.dilation_h, layer.dilation_w
    return c


def as_table(table: Any) -> np.ndarray:
    """A scheduling table as a C-contiguous int64 array of shape (10, 8).

    Accepts a :class:`~rlsched_compile.table.SchedulingTable`, 10 rows of 8 ints (lists, tuples or
    an array) or the golden-vector form ``[{"row": name, "values": [...]}, ...]`` (rows in spec order).
    """
    shape_hint = f"table must be 10 rows x 8 columns ({', '.join(PARAMS)})"
    if isinstance(table, SchedulingTable):
        arr = table.to_array()
    elif isinstance(table, np.ndarray):
        arr = table
    else:
        if isinstance(table, (str, bytes, Mapping)) or not hasattr(table, "__iter__"):
            raise TableError(f"{shape_hint} of integers, got {type(table).__name__}")
        rows = list(table)
        if rows and isinstance(rows[0], Mapping):
            rows = rows_from_records(rows)
        try:
            arr = np.array(rows, dtype=object)
        except ValueError as exc:
            raise TableError(f"table must be 10 rows of 8 integers: {exc}") from None
    if arr.shape != (N_ROWS, N_COLS):
        raise TableError(f"{shape_hint}, got shape {'x'.join(map(str, arr.shape)) or 'scalar'}")
    check_entries(arr)
    return np.ascontiguousarray(arr.astype(np.int64))


def _batch_entries(raw: np.ndarray) -> np.ndarray:
    """Non-int64 batch input as int64 under the entry rule of :func:`check_entries`, except that
    entries < 1 are kept (as 0) so that their table comes back invalid, as documented."""
    if raw.dtype.kind == "i":
        return raw.astype(np.int64)
    if raw.dtype.kind == "u":
        if raw.size and int(raw.max()) > MAX_ENTRY:
            check_entries(raw)
        return raw.astype(np.int64)
    if raw.dtype.kind == "O":
        flat = raw.reshape(-1).tolist()
        for i, x in enumerate(flat):
            if isinstance(x, bool) or not isinstance(x, (int, np.integer)) or x > MAX_ENTRY:
                _refuse_entry(i, x)
        return np.array([max(int(x), 0) for x in flat], dtype=np.int64).reshape(raw.shape)
    check_entries(raw)  # floats, bools, strings: refused
    raise AssertionError("unreachable")  # pragma: no cover


#: Largest table entry (entries are int64 in the C library).
MAX_ENTRY: int = (1 << 63) - 1


def check_entries(arr: np.ndarray) -> None:
    """The one rule for table entries, shared by :func:`evaluate_table` and :func:`evaluate_batch`:
    every entry is an integer (not a bool, not a float: 1.9 is refused, never truncated to 1) and
    at most ``2^63 - 1``; :func:`evaluate_table` also needs every entry >= 1 (a batch reports such
    a table invalid instead).

    Raises:
        TableError: naming the first offending entry.
    """
    flat = arr.reshape(-1)
    if arr.dtype.kind in "iu":
        bad = np.flatnonzero((flat < 1) | (flat > MAX_ENTRY)) if arr.dtype.kind == "u" else np.flatnonzero(flat < 1)
        if len(bad):
            _refuse_entry(int(bad[0]), flat[int(bad[0])].item())
        return
    if arr.dtype.kind == "O":
        for i, x in enumerate(flat.tolist()):
            if isinstance(x, bool) or not isinstance(x, (int, np.integer)) or not 1 <= x <= MAX_ENTRY:
                _refuse_entry(i, x)
        return
    i = 0
    if arr.dtype.kind == "f":
        fractional = np.flatnonzero(~np.isfinite(flat) | (flat != np.floor(flat)))
        i = int(fractional[0]) if len(fractional) else 0
    r, c = divmod(i % (N_ROWS * N_COLS), N_COLS)
    v = flat[i].item() if flat.size else None
    raise TableError(f"table entries must be integers, got {arr.dtype} values (entry {ROW_NAMES[r]}/{PARAMS[c]} "
                     f"= {short_repr(v)}); every entry must be an integer >= 1, never truncated")


def _refuse_entry(flat_index: int, v: Any) -> None:
    r, c = divmod(flat_index % (N_ROWS * N_COLS), N_COLS)
    too_big = isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v > MAX_ENTRY
    why = ("larger than 2^63 - 1, the largest entry" if too_big
           else "every entry must be an integer >= 1 (use 1 for an unused loop)")
    raise TableError(f"table entry {ROW_NAMES[r]}/{PARAMS[c]} = {short_repr(v)}: {why}")


def column_product_problem(layer: Layer, table: np.ndarray) -> str | None:
    """Describe the first column whose product differs from the layer, or None."""
    for c, (name, want) in enumerate(zip(PARAMS, layer.per_group())):
        got = int(np.prod(table[:, c].astype(object)))
        if got != want:
            per = "/G" if name in ("K", "C") else ""
            return (f"column {name} multiplies to {got} but layer {layer.name!r} needs {name}{per} = {want}: "
                    f"make each column's product equal the layer's parameter")
    return None


def _result_to_evaluation(r: Any) -> Evaluation:
    tiles = {
        buf: {
            "alloc": {t: int(r.tile_alloc[b][k]) for k, t in enumerate(DATA_TYPES)},
            "send": {t: int(r.tile_send[b][k]) for k, t in enumerate(DATA_TYPES)},
        }
        for b, buf in enumerate(BUFFERS)
    }
    active = {name: int(r.active[i]) for i, name in enumerate(ACTIVE_FIELDS)}
    if not r.valid:
        return Evaluation(valid=False, invalid_reason=REASONS[r.reason], tile_sizes=tiles, active=active)
    counts = {buf: {kind: int(r.access_counts[b][i]) for i, kind in enumerate(ACCESS_KINDS)}
              for b, buf in enumerate(BUFFERS)}
    return Evaluation(
        valid=True, invalid_reason=None, tile_sizes=tiles, active=active, access_counts=counts,
        num_mac_operations=float(r.num_mac_operations),
        energy_by_component_pj={n: float(r.energy_pj[i]) for i, n in enumerate(ENERGY_COMPONENTS)},
        cycles_by_component={n: float(r.cycles[i]) for i, n in enumerate(CYCLE_COMPONENTS)},
    )


def evaluate_table(target: Target | Mapping[str, Any] | str, layer: Layer | Mapping[str, Any],
                   table: Any, *, strict: bool = True) -> Evaluation:
    """Validity and cost of one scheduling table.

    Args:
        target: a Target, a target dict (spec schema), or a shipped name / path.
        layer: a Layer or a layer dict (K and C totals).
        table: 10 rows x 8 ints in spec row order (columns K, B, P, Q, C, R, S, G; K and C per group).
        strict: raise TableError when the column products do not match the layer (otherwise the
            result is invalid with reason ``column_product``, as in the golden vectors).

    Returns:
        An :class:`Evaluation`; ``.valid`` False with ``.invalid_reason`` for tables that break a
        hardware rule (capacity, array size, ...).

    Raises:
        TableError: wrong shape, entries < 1, or (strict) wrong column products.
    """
    tgt = as_target(target)
    ly = as_layer(layer)
    arr = as_table(table)
    if strict:
        problem = column_product_problem(ly, arr)
        if problem:
            raise TableError(problem)
    out = ffi.new("rls_result *")
    check_status(lib.rls_evaluate_df(native_target(tgt), native_dataflows(tgt), native_layer(ly),
                                     ffi.from_buffer("int64_t[]", arr), out),
                 f"layer {ly.name!r}")
    return _result_to_evaluation(out)


@dataclass(frozen=True)
class BatchResult:
    """Totals of many tables for one layer (arrays of length n)."""

    valid: np.ndarray      # bool
    reason: np.ndarray     # int32, index into cost.REASONS
    energy_pj: np.ndarray  # float64, inf when invalid
    cycles: np.ndarray     # float64, inf when invalid

    def objective(self, objective: Objective | str) -> np.ndarray:
        """The figure ``objective`` minimizes, per table (inf when invalid)."""
        return Objective.parse(objective).measure(self.energy_pj, self.cycles)


_SUMMARY_DTYPE = np.dtype([("valid", np.int32), ("reason", np.int32), ("energy_pj", np.float64),
                           ("cycles", np.float64)])
assert _SUMMARY_DTYPE.itemsize == ffi.sizeof("rls_summary")


def evaluate_batch(target: Target | Mapping[str, Any] | str, layer: Layer | Mapping[str, Any],
                   tables: np.ndarray) -> BatchResult:
    """Evaluate ``n`` tables (array of shape (n, 10, 8), int64) for one layer in one C call.

    Tables with an entry < 1 come back invalid (reason ``column_product``) rather than failing
    the batch; the GIL is released during the call.
    """
    tgt = as_target(target)
    ly = as_layer(layer)
    raw = tables if isinstance(tables, np.ndarray) else np.asarray(tables, dtype=object)
    if raw.ndim != 3 or raw.shape[1:] != (N_ROWS, N_COLS):
        raise TableError(f"tables must have shape (n, 10, 8), got {raw.shape}")
    if raw.dtype != np.int64:
        raw = _batch_entries(raw)
    arr = np.ascontiguousarray(raw, dtype=np.int64)
    n = arr.shape[0]
    out = np.empty(n, dtype=_SUMMARY_DTYPE)
    check_status(
        lib.rls_evaluate_batch_df(native_target(tgt), native_dataflows(tgt), native_layer(ly),
                                  ffi.from_buffer("int64_t[]", arr), n, ffi.cast("rls_summary *", ffi.from_buffer(out))),
        f"layer {ly.name!r}")
    return BatchResult(valid=out["valid"].astype(bool), reason=out["reason"].copy(),
                       energy_pj=out["energy_pj"].copy(), cycles=out["cycles"].copy())
