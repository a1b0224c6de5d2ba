"""A small pure-Python reference of the cost model (spec §2-§8), written independently of the C
code from ../shared/spec/cost-model.md, with Python integers and floats. Property tests compare
the C library with it; it is far too slow for anything else."""
from __future__ import annotations

import math
from typing import Any

from rlsched_compile.cost import ACCESS_KINDS, ACTIVE_FIELDS, CYCLE_COMPONENTS, ENERGY_COMPONENTS
from rlsched_compile.layer import Layer
from rlsched_compile.targets.model import DATA_TYPES, STATIONARY, Target, TemporalLevel

K, B, P, Q, C, R, S, G = range(8)
TEMPORAL_ROWS = (3, 6, 9)


def _prod(xs) -> int:
    out = 1
    for x in xs:
        out *= x
    return out


def _tiles(v: list[int], ly: Layer) -> tuple[int, int, int]:
    h = (v[P] - 1) * ly.stride_h + (v[R] - 1) * ly.dilation_h + 1
    w = (v[Q] - 1) * ly.stride_w + (v[S] - 1) * ly.dilation_w + 1
    return (v[B] * v[C] * v[G] * h * w, v[K] * v[C] * v[R] * v[S] * v[G], v[K] * v[B] * v[P] * v[Q] * v[G])


def _pre(t: list[list[int]], n: int) -> list[int]:
    return [_prod(t[r][c] for r in range(n + 1)) for c in range(8)]


def _spatial(tg: Target, role: str):
    lv = getattr(tg, role)
    return lv if lv is not None and lv.x * lv.y > 1 else None


def _cap_ok(lv: TemporalLevel, alloc: tuple[int, int, int], bpe: int) -> tuple[bool, bool]:
    """(ok, failed on a dedicated part)"""
    cap = lv.capacity
    byp = [t in lv.bypass for t in DATA_TYPES]
    if cap.form == "separate":
        caps = cap.per_type_bytes.as_tuple()
        return all(byp[i] or alloc[i] <= caps[i] / bpe for i in range(3)), False
    if sum(alloc[i] for i in range(3) if not byp[i]) > cap.shared_bytes / bpe:
        return False, False
    if cap.form == "partially_shared":
        first = True
        for i in range(3):
            if byp[i]:
                limit = cap.dedicated_bytes / bpe if first else 1.0
                first = False
                if alloc[i] > limit:
                    return False, True
    return True, False


def evaluate(tg: Target, ly: Layer, table: list[list[int]]) -> dict[str, Any]:
    """The golden-vector ``expected`` dict of one table."""
    t = [list(map(int, row)) for row in table]
    ell = ly.per_group()
    bpe = tg.precision_bits // 8
    mac, pe, chip = _spatial(tg, "mac_array"), _spatial(tg, "pe_array"), _spatial(tg, "chip_array")
    gb = tg.global_buffer

    send = {b: _tiles(_pre(t, n), ly) for b, n in (("local_buffer", 2), ("global_buffer", 5), ("dram", 8))}
    alloc = {b: _tiles(_pre(t, n), ly) for b, n in (("local_buffer", 3), ("global_buffer", 6), ("dram", 9))}
    rowprod = [_prod(row) for row in t]

    def act(lv, xr):
        return (1, 1) if lv is None else (rowprod[xr], rowprod[xr + 1])

    (mx, my), (px, py), (cx, cy) = act(mac, 1), act(pe, 4), act(chip, 7)
    active = dict(zip(ACTIVE_FIELDS, (mx, my, mx * my, px, py, px * py, cx, cy, cx * cy)))

    # §2.3 validity, first failing rule
    reason = None
    fixed_one = {0} | ({1, 2} if mac is None else set()) | ({4, 5} if pe is None else set()) \
        | ({6} if gb is None else set()) | ({7, 8} if chip is None else set())
    if any(_prod(t[r][c] for r in range(10)) != ell[c] for c in range(8)):
        reason = "column_product"
    elif any(v != 1 for v in t[0]):
        reason = "register_row"
    elif any(t[r][c] != 1 for r in fixed_one - {0} for c in range(8)):
        reason = "absent_level_row"
    elif mac is not None and (rowprod[1] > mac.x or rowprod[2] > mac.y):
        reason = "mac_array_dims"
    elif pe is not None and (rowprod[4] > pe.x or rowprod[5] > pe.y):
        reason = "pe_array_dims"
    elif pe is not None and any(
            (allowed is not None and any(t[row][c] != 1 for c in range(8) if "KBPQCRSG"[c] not in allowed))
            for row, allowed in ((4, pe.allowed_x), (5, pe.allowed_y))):
        reason = "pe_array_constraint"
    elif chip is not None and (rowprod[7] > chip.x or rowprod[8] > chip.y):
        reason = "chip_array_dims"
    elif not _cap_ok(tg.local_buffer, alloc["local_buffer"], bpe)[0]:
        reason = "lb_capacity"
    elif gb is not None and not _cap_ok(gb, alloc["global_buffer"], bpe)[0]:
        reason = "gb_dedicated_capacity" if _cap_ok(gb, alloc["global_buffer"], bpe)[1] else "gb_capacity"
    elif any(lv is not None and lv.fixed_mapping is not None
             and any(f != 0 and f != t[row][c] for c, f in enumerate(lv.fixed_mapping))
             for lv, row in ((tg.local_buffer, 3), (gb, 6), (tg.dram, 9))):
        reason = "mapping_constraint"

    def tiles_dict(d):
        return {b: dict(zip(DATA_TYPES, d[b])) for b in d}

    tile_sizes = {b: {"alloc": tiles_dict(alloc)[b], "send": tiles_dict(send)[b]} for b in alloc}
    out: dict[str, Any] = {"valid": reason is None}
    if reason is not None:
        out["invalid_reason"] = reason
        out.update(tile_sizes=tile_sizes, active=active)
        return out

    # §4 counts
    def irr_w(r):
        return t[r][B] * t[r][P] * t[r][Q]

    def irr_o(r):
        return t[r][C] * t[r][R] * t[r][S]

    def irr_i(r):
        return t[r][K] if t[r][K] != 1 else max(irr_w(r), irr_o(r))

    def counts(L, df):
        outer = [r for r in TEMPORAL_ROWS if r >= L]
        V = _prod(rowprod[r] for r in outer)
        gkb = _prod(t[r][G] * t[r][K] * irr_w(r) for r in outer)
        eta = _prod(irr_o(r) for r in outer)
        n_i = V // irr_i(L) if df == "IS" else V
        n_w = V // irr_w(L) if df == "WS" else V
        n_ow = V // irr_o(L) if df == "OS" else V
        if df != "OS":
            n_or = gkb * (eta - 1)
        elif L != 9:
            n_or = gkb * (irr_o(9) - 1)
        else:
            n_or = 0
        return [n_i, n_w, n_or, n_ow]

    n_lb = counts(3, None)
    n_gb = counts(6, tg.local_buffer.dataflow)
    n_d = counts(9, gb.dataflow if gb is not None else tg.local_buffer.dataflow)
    eq_d = [alloc["dram"][i] == send["dram"][i] for i in range(3)]
    eq_g = [alloc["global_buffer"][i] == send["global_buffer"][i] for i in range(3)]
    if eq_d[0]:
        n_d[0] = 1
    if eq_d[1]:
        n_d[1] = 1
    if eq_d[2]:
        n_d[2], n_d[3] = 0, 1
    if eq_g[0]:
        n_gb[0] = n_d[0]
    if eq_g[1]:
        n_gb[1] = n_d[1]
    if eq_g[2]:
        n_gb[2], n_gb[3] = n_d[2], n_d[3]
    byp = gb.bypass if gb is not None else ()
    if "input" in byp and eq_d[0] and not eq_g[0]:
        n_d[3] *= irr_i(9)
    elif "weight" in byp and eq_d[1] and not eq_g[1]:
        n_d[1] *= irr_w(9)
    elif "output" in byp and eq_d[2] and not eq_g[2]:
        n_d[2] = irr_o(9) - 1
        n_d[3] *= irr_o(9)

    # §6 energy
    def phi(s, n, lv):
        e = lv.access_energy_pj.as_tuple() if lv is not None else (0.0, 0.0, 0.0)
        return s[0] * n[0] * e[0] + s[1] * n[1] * e[1] + s[2] * (n[2] + n[3]) * e[2]

    M = float(ly.macs)
    fan = px * py * cx * cy
    E = {"mac_energy": M * tg.mac_energy_pj}
    E["lb_energy_upper"] = phi(send["local_buffer"], n_lb, tg.local_buffer) * fan
    E["lb_energy_lower"] = phi(alloc["local_buffer"], n_gb, tg.local_buffer) * fan
    E["lb_energy"] = E["lb_energy_upper"] + E["lb_energy_lower"]
    E["gb_energy_upper"] = phi(send["global_buffer"], n_gb, gb) * cx * cy
    E["gb_energy_lower"] = phi(alloc["global_buffer"], n_d, gb) * cx * cy
    E["gb_energy"] = E["gb_energy_upper"] + E["gb_energy_lower"]
    E["dram_energy"] = phi(send["dram"], n_d, tg.dram)
    E["total_dynamic_energy"] = E["mac_energy"] + E["lb_energy"] + E["gb_energy"] + E["dram_energy"]

    # §7 cycles
    def combine(lv, v):
        return max(v) if lv.capacity.form == "separate" else sum(v)

    def bw(lv):
        return lv.bandwidth_bits_per_cycle / tg.precision_bits

    def cnt(n):
        return (n[0], n[1], n[2] + n[3])

    lb = tg.local_buffer
    x = [math.ceil(send["local_buffer"][i] / bw(lb)) * cnt(n_lb)[i] * lb.access_cycles.as_tuple()[i]
         for i in range(3)]
    cyc = {"mac_cycle": M / (mx * my * px * py * cx * cy), "lb_cycle": combine(lb, x)}
    if gb is not None:
        y = [math.ceil(send["global_buffer"][i] * cnt(n_gb)[i] / bw(gb)) * gb.access_cycles.as_tuple()[i]
             for i in range(3)]
        cyc["gb_cycle"] = combine(gb, y)
    else:
        cyc["gb_cycle"] = 0.0
    dr = tg.dram
    cyc["dram_cycle"] = sum(math.ceil(send["dram"][i] * cnt(n_d)[i] / bw(dr)) * dr.access_cycles.as_tuple()[i]
                            for i in range(3))
    total = cyc["mac_cycle"] + cyc["lb_cycle"] + cyc["gb_cycle"] + cyc["dram_cycle"]
    cyc["total_cycle"] = total

    tclk = 1000.0 / tg.frequency_mhz
    n_macs = _prod(lv.x * lv.y for lv in (mac, pe, chip) if lv is not None)
    n_pe = (pe.x * pe.y if pe else 1) * (chip.x * chip.y if chip else 1)
    n_chip = chip.x * chip.y if chip else 1
    E["mac_static"] = tg.mac_static_power_mw * tclk * n_macs * total
    E["lb_static"] = sum(lb.static_power_mw.as_tuple()) * tclk * n_pe * total
    E["gb_static"] = sum(gb.static_power_mw.as_tuple()) * tclk * n_chip * total if gb else 0.0
    E["dram_static"] = sum(dr.static_power_mw.as_tuple()) * tclk * total
    E["total_static_energy"] = E["mac_static"] + E["lb_static"] + E["gb_static"] + E["dram_static"]
    E["total_energy"] = E["total_dynamic_energy"] + E["total_static_energy"]

    out.update(
        tile_sizes=tile_sizes, active=active,
        access_counts={b: dict(zip(ACCESS_KINDS, n)) for b, n in
                       (("local_buffer", n_lb), ("global_buffer", n_gb), ("dram", n_d))},
        num_mac_operations=M,
        energy_pj={k: E[k] for k in ENERGY_COMPONENTS},
        cycles={k: cyc[k] for k in CYCLE_COMPONENTS},
    )
    return out


__all__ = ["evaluate", "STATIONARY"]
