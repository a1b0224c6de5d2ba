"""Why a layer has no valid table on a target.

Every tile size and array use only grows with the table's entries, so the *smallest* table
(every buffer row at 1 except the entries a fixed mapping forces, everything else in DRAM) is
valid whenever any table is. If it is not, the rule it breaks holds for every table, and this
module turns that rule into a one-line explanation.
"""
from __future__ import annotations

import logging

import numpy as np

from ..cost import Evaluation
from ..layer import PARAMS, Layer
from ..native.costmodel import evaluate_table
from ..table import Row, ones_array
from ..targets.model import DATA_TYPES, Target, TemporalLevel

logger = logging.getLogger(__name__)

#: (level, its row, its name in messages) of the levels that may have a fixed mapping.
_BUFFERS: tuple[tuple[str, Row, str], ...] = tuple(
    (str(r.level), r, label) for r, label in ((Row.LOCAL_BUFFER, "local buffer"), (Row.GLOBAL_BUFFER, "global buffer"),
                                              (Row.DRAM, "DRAM")))


def _fixed(level: TemporalLevel | None) -> tuple[int, ...] | None:
    return None if level is None or level.fixed_mapping is None else tuple(level.fixed_mapping)


def _fixed_text(target: Target, role: str) -> str:
    fm = _fixed(getattr(target, role))
    if not fm:
        return ""
    parts = [f"{p}={v}" for p, v in zip(PARAMS, fm) if v]
    return f" with its fixed mapping {', '.join(parts)}" if parts else ""


def smallest_table(target: Target, layer: Layer) -> tuple[np.ndarray | None, str | None]:
    """The smallest table honouring the fixed mappings, or (None, why) when the fixed mappings
    cannot multiply to the layer at all."""
    table = ones_array()
    need = layer.per_group()
    for c, p in enumerate(PARAMS):
        forced = 1
        for role, row, label in _BUFFERS:
            fm = _fixed(getattr(target, role))
            if fm and fm[c]:
                table[row, c] = fm[c]
                forced *= fm[c]
        per = "/G" if p in ("K", "C") else ""
        if need[c] % forced:
            owners = [label for role, _, label in _BUFFERS if (_fixed(getattr(target, role)) or (0,) * 8)[c]]
            return None, (f"the fixed mapping of the {' and '.join(owners)} puts {p} = {forced}, which does "
                          f"not divide the layer's {p}{per} = {need[c]}: change the target's fixed_mapping")
        rest = need[c] // forced
        dram_fm = _fixed(target.dram)
        if dram_fm and dram_fm[c]:
            # DRAM's entry is fixed: the rest must go to the outermost free buffer row
            free = [row for role, row, _ in _BUFFERS[:2]
                    if getattr(target, role) is not None and not (_fixed(getattr(target, role)) or (0,) * 8)[c]]
            if not free and rest != 1:
                return None, (f"the fixed mappings leave {p}{per} = {need[c]} unreachable (product of the "
                              f"fixed entries {forced}): change the target's fixed_mapping")
            if free:
                table[free[-1], c] *= rest
        else:
            table[Row.DRAM, c] *= rest
    return table, None


def _capacity_text(target: Target, role: str, label: str, ev: Evaluation) -> str | None:
    level: TemporalLevel = getattr(target, role)
    cap = level.capacity
    if cap is None:
        return None
    bpe = target.precision_bits // 8
    tiles = ev.tile_sizes[role]["alloc"]
    extra = _fixed_text(target, role)
    if cap.form == "separate":
        assert cap.per_type_bytes is not None
        for k, t in enumerate(DATA_TYPES):
            cap_el = cap.per_type_bytes.as_tuple()[k] / bpe
            if t not in level.bypass and tiles[t] > cap_el:
                return (f"even the smallest {t} tile of the {label}{extra} ({tiles[t]} elements) exceeds its "
                        f"{t} capacity of {cap_el:g} elements")
        return None
    kept = [t for t in DATA_TYPES if t not in level.bypass]
    total = sum(tiles[t] for t in kept)
    shared_el = (cap.shared_bytes or 0) / bpe
    if total > shared_el:
        what = " + ".join(f"{t} {tiles[t]}" for t in kept)
        return (f"even the smallest tiles of the {label}{extra} ({what} = {total} elements) exceed its shared "
                f"capacity of {shared_el:g} elements")
    if cap.form == "partially_shared":
        byp = [t for t in DATA_TYPES if t in level.bypass]
        for i, t in enumerate(byp):
            cap_el = (cap.dedicated_bytes or 0) / bpe if i == 0 else 1.0
            if tiles[t] > cap_el:
                return (f"even the smallest {t} tile of the {label}{extra} ({tiles[t]} elements) exceeds its "
                        f"dedicated {t} capacity of {cap_el:g} elements")
    return None


def no_valid_table_reason(target: Target, layer: Layer) -> str | None:
    """One line saying why no valid table exists for ``layer`` on ``target``, or None when one
    does (the smallest table is valid)."""
    table, why = smallest_table(target, layer)
    prefix = f"layer {layer.name!r} has no valid schedule on target {target.name!r}: "
    if table is None:
        return prefix + str(why)
    ev = evaluate_table(target, layer, table, strict=False)
    if ev.valid:
        return None
    reason = ev.invalid_reason
    text: str | None = None
    if reason == "lb_capacity":
        text = _capacity_text(target, "local_buffer", "local buffer", ev)
    elif reason in ("gb_capacity", "gb_dedicated_capacity"):
        text = _capacity_text(target, "global_buffer", "global buffer", ev)
    if text is None:
        text = f"even the smallest table breaks the rule {reason!r}"
    fix = ("enlarge that buffer or relax its fixed_mapping" if reason and "capacity" in reason
           else "check the target's constraints")
    return f"{prefix}{text}; {fix}"

