"""The network report: totals over all layers, ``report.json``, ``report.md``, the stdout
summary table and the comparison with a baseline report (``--baseline``).

``report.json`` is deterministic: the same inputs and seed give the same bytes. It holds no
timestamps or timings (those are in ``timing.json``), no absolute paths and no setting that does
not change the result (``--jobs``, ``--no-cache``).

Utilization figures (all in [0, 1]):

* ``mac_utilization``: active MAC units / all MAC units of the target (MAC array x PE array x
  chip array), per layer; the network figure is the cycle-weighted average over layers.
* ``pe_utilization``: active PEs / PEs of the PE array, per layer; cycle-weighted for the network.
* ``compute_utilization`` (network only): MACs / (MAC units x total cycles), i.e. the share of
  the machine's peak MAC throughput actually achieved, memory stalls included.
"""
from __future__ import annotations

import logging
import math
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from .._version import __version__
from .._sanitize import terminal_safe
from ..bound import DERIVATION, layer_lower_bound
from ..cost import CYCLE_COMPONENTS, ENERGY_COMPONENTS
from ..operators import OtherOperators, cost_other_operators, static_power_pj_per_cycle
from ..targets.model import Target
from ._escape import md_cell
from .coverage import coverage_phrase, coverage_section
from .schedule import LayerFailure, LayerSchedule, array_utilization, file_stem, level_traffic

if TYPE_CHECKING:  # networkx is not needed at import time
    from ..network import Network

logger = logging.getLogger(__name__)

#: Version of the report.json layout.
REPORT_SCHEMA_VERSION: int = 1
#: Energy components that add up to the total: dynamic ones, then static ones.
DYNAMIC_COMPONENTS: tuple[str, ...] = ("mac_energy", "lb_energy", "gb_energy", "dram_energy")
STATIC_COMPONENTS: tuple[str, ...] = ("mac_static", "lb_static", "gb_static", "dram_static")


@dataclass(frozen=True)
class NetworkTotals:
    """Totals over every scheduled layer of the network (identical layers counted each time,
    a layer with ``repeat`` > 1 counted ``repeat`` times).

    Attributes:
        layers: layers in the network.
        unique_layers: distinct layer signatures.
        scheduled_layers: layers with a valid schedule (``layers`` unless some failed).
        energy_pj: total energy, pJ.
        dynamic_energy_pj: dynamic part, pJ.
        static_energy_pj: static (leakage) part, pJ.
        energy_by_component_pj: every energy component of the cost model summed over layers, pJ.
        cycles: total cycles (layers run one after another).
        cycles_by_component: every cycle component summed over layers.
        macs: multiply-accumulates of the scheduled layers.
        energy_per_mac_pj: ``energy_pj / macs``.
        mac_utilization: cycle-weighted average share of MAC units in use.
        pe_utilization: cycle-weighted average share of PEs in use.
        compute_utilization: ``macs / (MAC units x cycles)``.
    """

    layers: int
    unique_layers: int
    scheduled_layers: int
    energy_pj: float
    dynamic_energy_pj: float
    static_energy_pj: float
    energy_by_component_pj: dict[str, float]
    cycles: float
    cycles_by_component: dict[str, float]
    macs: int
    energy_per_mac_pj: float
    mac_utilization: float
    pe_utilization: float
    compute_utilization: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _mac_units(target: Target) -> int:
    n = 1
    for lv in (target.mac_array, target.pe_array, target.chip_array):
        if lv is not None:
            n *= lv.x * lv.y
    return n


def compute_totals(schedules: Sequence[LayerSchedule], target: Target, *, layers: int,
                   unique_layers: int) -> NetworkTotals:
    """Network totals of the scheduled layers (in layer order, so sums are reproducible)."""
    energy = {k: 0.0 for k in ENERGY_COMPONENTS}
    cycles = {k: 0.0 for k in CYCLE_COMPONENTS}
    macs = 0
    mac_util_w = pe_util_w = 0.0
    for s in schedules:
        ev = s.evaluation
        assert ev.energy_by_component_pj is not None and ev.cycles_by_component is not None
        n = s.layer.repeat
        for k in ENERGY_COMPONENTS:
            energy[k] += ev.energy_by_component_pj[k] * n
        for k in CYCLE_COMPONENTS:
            cycles[k] += ev.cycles_by_component[k] * n
        macs += s.layer.macs
        util = array_utilization(target, ev)
        mac_util_w += util["mac_units"] * s.cycles * n
        pe_util_w += util["pe_array"] * s.cycles * n
    total_cycles = cycles["total_cycle"]
    return NetworkTotals(
        layers=layers, unique_layers=unique_layers, scheduled_layers=len(schedules),
        energy_pj=energy["total_energy"], dynamic_energy_pj=energy["total_dynamic_energy"],
        static_energy_pj=energy["total_static_energy"], energy_by_component_pj=energy,
        cycles=total_cycles, cycles_by_component=cycles, macs=macs,
        energy_per_mac_pj=energy["total_energy"] / macs if macs else 0.0,
        mac_utilization=mac_util_w / total_cycles if total_cycles else 0.0,
        pe_utilization=pe_util_w / total_cycles if total_cycles else 0.0,
        compute_utilization=macs / (_mac_units(target) * total_cycles) if total_cycles else 0.0,
    )


def _r(x: float) -> float:
    """12 significant digits: sums of floats are exact and ordered, this only trims noise digits."""
    return float(f"{x:.12g}")


def target_summary(target: Target) -> dict[str, Any]:
    """What the reports show about the target: its levels outermost first (arrays with their
    sizes, buffers with capacity, dataflow, bypass, energies and bandwidth), the MAC-unit count,
    the leakage per cycle and the vector unit used for the operators between layers."""
    levels = list(reversed(target.to_dict()["levels"]))
    return {
        "precision_bits": target.precision_bits, "frequency_mhz": target.frequency_mhz,
        "mac_energy_pj": target.mac_energy_pj, "mac_units": _mac_units(target),
        "static_power_pj_per_cycle": _r(static_power_pj_per_cycle(target)),
        "vector_unit": {"ops_per_cycle": target.vector_ops_per_cycle,
                        "energy_per_op_pj": target.vector_energy_per_op_pj,
                        "declared": target.vector_unit is not None},
        "levels": levels,
    }


def whole_model_totals(totals: NetworkTotals, other: OtherOperators) -> dict[str, Any]:
    """Scheduled layers plus the operators between them (layers run one after another, then
    the other operators' cycles are added: the same serialized latency the layer model uses)."""
    o = other.total
    energy = totals.energy_pj + o.energy_pj
    cycles = totals.cycles + o.cycles
    return {
        "energy_pj": _r(energy),
        "dynamic_energy_pj": _r(totals.dynamic_energy_pj + o.dynamic_energy_pj),
        "static_energy_pj": _r(totals.static_energy_pj + o.static_energy_pj),
        "cycles": _r(cycles),
        "layers_energy_pj": totals.energy_pj, "layers_cycles": totals.cycles,
        "other_operators_energy_pj": _r(o.energy_pj), "other_operators_cycles": _r(o.cycles),
        "other_operators_energy_share": _r(o.energy_pj / energy) if energy else 0.0,
        "other_operators_cycle_share": _r(o.cycles / cycles) if cycles else 0.0,
    }


def build_report(*, network: Network, target: Target, settings: Mapping[str, Any],
                 schedules: Sequence[LayerSchedule], failures: Sequence[LayerFailure],
                 totals: NetworkTotals) -> dict[str, Any]:
    """The ``report.json`` document (plain data, stable key order).

    ``totals`` are the scheduled layers' (what the paper's tables compare); ``other_operators``
    and ``whole_model`` add the operators between the layers (:mod:`rlsched_compile.operators`),
    ``coverage`` the share of the model's MACs that got a schedule."""
    bytes_per_element = target.precision_bits / 8
    by_group: dict[int, list[int]] = {}
    for s in schedules:
        by_group.setdefault(s.group, []).append(s.index)
    for f in failures:
        by_group.setdefault(f.group, []).append(f.index)
    layers = []
    for s in schedules:
        ev = s.evaluation
        assert ev.energy_by_component_pj is not None
        util = array_utilization(target, ev)
        ly = s.layer
        layers.append({
            "index": s.index, "name": ly.name, "op": ly.op, "group": s.group,
            "shape": {"K": ly.K, "B": ly.B, "P": ly.P, "Q": ly.Q, "C": ly.C, "R": ly.R, "S": ly.S,
                      "G": ly.G, "stride_h": ly.stride_h, "stride_w": ly.stride_w,
                      "dilation_h": ly.dilation_h, "dilation_w": ly.dilation_w},
            "macs": ly.macs, **({"repeat": ly.repeat} if ly.repeat > 1 else {}),
            "strategy": s.strategy, "evaluations": s.evaluations, "finished": s.finished,
            # Energy and cycles of every run (x repeat): the rows add up to the totals.
            "energy_pj": ev.energy_pj * ly.repeat,
            "dynamic_energy_pj": ev.energy_by_component_pj["total_dynamic_energy"] * ly.repeat,
            "static_energy_pj": ev.energy_by_component_pj["total_static_energy"] * ly.repeat,
            "energy_by_component_pj": {k: ev.energy_by_component_pj[k] * ly.repeat
                                       for k in DYNAMIC_COMPONENTS + STATIC_COMPONENTS},
            "cycles": ev.cycles * ly.repeat,
            # a flexible layer's bound holds for the dataflows it uses (the input term depends on them)
            **_bound_fields(target if s.dataflows is None else target.with_dataflows(s.dataflows), ly,
                            ev.energy_pj, ev.cycles),
            "mac_utilization": _r(util["mac_units"]), "pe_utilization": _r(util["pe_array"]),
            "schedule": f"schedules/{file_stem(s.index, ly.name)}.json",
            "schedule_text": f"schedules/{file_stem(s.index, ly.name)}.txt",
            "traffic_bytes": {buf: _r(sum(parts.values()) * bytes_per_element * ly.repeat)
                              for buf, parts in level_traffic(ev).items()
                              if getattr(target, buf) is not None},
        })
        if s.dataflows is not None and s.fixed_evaluation is not None:
            layers[-1].update(dataflows=_flows(target, s.dataflows),
                              fixed_energy_pj=s.fixed_evaluation.energy_pj * ly.repeat,
                              fixed_cycles=s.fixed_evaluation.cycles * ly.repeat)
    first = {}
    for s in schedules:
        first.setdefault(s.group, s)
    unique = []
    for g in sorted(by_group):
        entry: dict[str, Any] = {"group": g, "count": len(by_group[g]), "layers": sorted(by_group[g])}
        runs = sum(network.layers[i].repeat for i in by_group[g])
        if runs != entry["count"]:  # repeated layers (recurrent steps, ConvTranspose phases)
            entry["runs"] = runs
        if g in first:
            s = first[g]
            entry.update(name=s.layer.name, energy_pj=s.energy_pj, cycles=s.cycles,
                         mac_utilization=_r(array_utilization(target, s.evaluation)["mac_units"]),
                         strategy=s.strategy)
        else:
            f = next(f for f in failures if f.group == g)
            entry.update(name=f.layer.name, failed=f.message)
        unique.append(entry)
    t = totals.to_dict()
    for k in ("energy_per_mac_pj", "mac_utilization", "pe_utilization", "compute_utilization"):
        t[k] = _r(t[k])
    versus = versus_fixed(schedules)
    if versus is not None:
        t["versus_fixed_dataflows"] = versus
    other = cost_other_operators(network, target)
    return {
        "schema_version": REPORT_SCHEMA_VERSION,
        "tool": {"name": "rlsched_compile", "version": __version__},
        "model": {"name": network.name,
                  "file": None if network.source is None else network.source.replace("\\", "/").rsplit("/", 1)[-1],
                  "sha256": network.sha256, "batch": network.batch,
                  "unsupported_ops": [{"op_type": u.op_type, "count": u.count, "nodes": list(u.nodes),
                                       "macs": u.macs} for u in network.unsupported]},
        "target": {"name": target.name, "sha256": target.sha256, "summary": target_summary(target)},
        "settings": dict(settings),
        "complete": not failures,
        "totals": t,
        "coverage": coverage_section(network, totals.macs),
        "unique_layers": unique,
        "layers": layers,
        "failures": [{"index": f.index, "name": f.layer.name, "group": f.group, "message": f.message}
                     for f in failures],
        "other_operators": other.to_dict(),
        "whole_model": whole_model_totals(totals, other),
        "lower_bound": _network_bound(layers),
        "unfinished_layers": [ly["index"] for ly in layers if not ly["finished"]],
    }


def _flows(target: Target, choice: tuple[str | None, str | None]) -> dict[str, str | None]:
    out = {"local_buffer": choice[0]}
    if target.global_buffer is not None:
        out["global_buffer"] = choice[1]
    return out


def versus_fixed(schedules: Sequence[LayerSchedule]) -> dict[str, float] | None:
    """Flexible mode: network energy and cycles of the fixed-dataflow results and the ratios of
    this compile's totals to them (< 1 = a saving); None in fixed mode."""
    if not schedules or any(s.fixed_evaluation is None for s in schedules):
        return None
    fixed_e = fixed_c = energy = cycles = 0.0
    for s in schedules:  # layer order, as compute_totals sums
        assert s.fixed_evaluation is not None
        n = s.layer.repeat  # a layer run n times counts n times, as in compute_totals
        fixed_e += s.fixed_evaluation.energy_pj * n
        fixed_c += s.fixed_evaluation.cycles * n
        energy += s.energy_pj * n
        cycles += s.cycles * n
    return {"fixed_energy_pj": fixed_e, "fixed_cycles": fixed_c,
            "energy_ratio": _r(energy / fixed_e) if fixed_e else 1.0,
            "cycles_ratio": _r(cycles / fixed_c) if fixed_c else 1.0}


def flows_text(flows: Mapping[str, str | None] | None) -> str:
    """``WS/OS`` (local/global buffer) for a report layer's ``dataflows``."""
    if not flows:
        return ""
    return "/".join(v or "-" for v in flows.values())


def _bound_fields(target: Target, layer: Any, energy_pj: float, cycles: float) -> dict[str, float]:
    """A layer's lower bounds (:mod:`rlsched_compile.bound`) and its gaps to them (fractions).

    ``energy_pj`` and ``cycles`` are one run's; the bounds reported are of every run (x repeat),
    like the row's energy and cycles, and the gaps are the same for one run as for all.
    """
    b = layer_lower_bound(target, layer)
    gap_e, gap_c = b.gap(energy_pj, cycles)
    return {"energy_lower_bound_pj": b.energy_pj * layer.repeat, "cycles_lower_bound": b.cycles * layer.repeat,
            "energy_gap_to_bound": _r(gap_e), "cycles_gap_to_bound": _r(gap_c)}


def _network_bound(layers: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The network's bounds (sums of the scheduled layers' bounds) and its gaps to them."""
    e_lb = sum(ly["energy_lower_bound_pj"] for ly in layers)
    c_lb = sum(ly["cycles_lower_bound"] for ly in layers)
    e = sum(ly["energy_pj"] for ly in layers)
    c = sum(ly["cycles"] for ly in layers)
    return {"energy_pj": e_lb, "cycles": c_lb,
            "energy_gap": _r(e / e_lb - 1.0) if e_lb > 0 else 0.0,
            "cycles_gap": _r(c / c_lb - 1.0) if c_lb > 0 else 0.0,
            "derivation": DERIVATION}


# ---- human renderings ----------------------------------------------------------------------

def _fmt_int(x: float) -> str:
    return f"{x:,.0f}" if math.isfinite(x) else str(x)


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], align: str) -> list[str]:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.rjust(w) if a == "r" else c.ljust(w) for c, w, a in zip(cells, widths, align)).rstrip()

    return [line(headers), line(["-" * w for w in widths]), *(line(r) for r in rows)]


def render_summary(report: Mapping[str, Any]) -> str:
    """The stdout summary: one row per unique layer and a totals row.

    Energy and cycles of a unique-layer row are those of one run; the totals row sums every
    layer of the network (one run x count, or x runs where layers repeat: ``2 (70 runs)``).
    """
    t_ = terminal_safe  # names come from the model: never a raw newline or escape sequence on the terminal
    headers = ("#", "layer", "count", "energy pJ", "cycles", "util %", "strategy")
    rows = []
    for u in report["unique_layers"]:
        if "failed" in u:
            rows.append((str(u["group"]), t_(u["name"]), str(u["count"]), "-", "-", "-", "FAILED"))
        else:
            count = f"{u['count']} ({u['runs']} runs)" if "runs" in u else str(u["count"])
            rows.append((str(u["group"]), t_(u["name"]), count, _fmt_int(u["energy_pj"]),
                         _fmt_int(u["cycles"]), f"{100 * u['mac_utilization']:.1f}", t_(u["strategy"])))
    t = report["totals"]
    rows.append(("", "total" + ("" if report["complete"] else " (incomplete)"), str(t["layers"]),
                 _fmt_int(t["energy_pj"]), _fmt_int(t["cycles"]), f"{100 * t['mac_utilization']:.1f}",
                 report["settings"]["strategy"]))
    lines = [f"{t_(report['model']['name'])} on {t_(report['target']['name'])} "
             f"(objective {report['settings']['objective']}, {t['layers']} layers, "
             f"{t['unique_layers']} unique)"]
    body = _table(headers, rows, "rlrrrrl")
    lines += body[:-1] + [body[1], body[-1]]
    lines += [f"FAILED {t_(u['name'])}: {t_(u['failed'])}" for u in report["unique_layers"] if "failed" in u]
    unfinished = report.get("unfinished_layers") or []
    if unfinished:
        lines.append(f"STOPPED AT BUDGET: the search of {len(unfinished)} layer(s) stopped at its budget or time "
                     "limit before covering its space (see report.json 'unfinished_layers')")
    lines.append(f"energy {t['energy_pj']:.6g} pJ (dynamic {t['dynamic_energy_pj']:.6g}, static "
                 f"{t['static_energy_pj']:.6g}), {t['energy_per_mac_pj']:.4g} pJ/MAC; cycles "
                 f"{t['cycles']:.6g}; " + (coverage_phrase(report["coverage"]) if "coverage" in report
                                           else f"MACs {t['macs']:,}"))
    vs = t.get("versus_fixed_dataflows")
    if vs is not None:
        lines.append(f"flexible dataflows: energy {vs['energy_ratio']:.4f} and cycles {vs['cycles_ratio']:.4f} of "
                     f"fixed dataflows ({vs['fixed_energy_pj']:.6g} pJ, {vs['fixed_cycles']:.6g} cycles)")
    return "\n".join(lines) + "\n"


def coverage_sentence(report: Mapping[str, Any]) -> str:
    """``100.0% of 17.56 G MACs scheduled`` plus how many operators were skipped (plain text,
    no names)."""
    c = report["coverage"]
    n = sum(sk["count"] for sk in c["skipped"])
    return coverage_phrase(c) + (f"; {n} operator{'s' if n != 1 else ''} with MACs or weights not scheduled"
                                 if n else "")


def skipped_nodes_text(nodes: Sequence[str], limit: int = 5) -> list[str]:
    """The first ``limit`` node names and, when there are more, ``… N more``."""
    return list(nodes[:limit]) + ([f"\u2026 {len(nodes) - limit} more"] if len(nodes) > limit else [])


def utilization_story(report: Mapping[str, Any]) -> list[str]:
    """Plain-text sentences (numbers only, no input text) that explain MAC utilization,
    compute utilization and static energy side by side for the scheduled layers."""
    t = report["totals"]
    cyc = t["cycles_by_component"]
    total = t["cycles"] or 1.0
    units = report["target"]["summary"]["mac_units"]
    share = {k: cyc[k] / total for k in ("mac_cycle", "lb_cycle", "gb_cycle", "dram_cycle")}
    busy = t["compute_utilization"] / share["mac_cycle"] if share["mac_cycle"] else 0.0
    static_share = t["static_energy_pj"] / t["energy_pj"] if t["energy_pj"] else 0.0
    p_static = report["target"]["summary"]["static_power_pj_per_cycle"]
    return [
        f"MAC utilization ({100 * t['mac_utilization']:.1f}%) is the share of the target's "
        f"{units:,} MAC units that the schedules give work to (active MACs x PEs x chips / all of "
        f"them), averaged over the layers weighted by their cycles: it measures how well each "
        f"layer's loops fill the arrays.",
        f"Compute utilization ({100 * t['compute_utilization']:.3g}%) is MACs / ({units:,} MAC "
        f"units x all {t['cycles']:.6g} cycles): the share of the peak MAC throughput achieved. "
        f"The cost model adds the cycles of the memory levels to the compute cycles (no overlap, "
        f"spec Q12): MAC cycles are {100 * share['mac_cycle']:.3g}% of the total, local buffer "
        f"{100 * share['lb_cycle']:.3g}%, global buffer {100 * share['gb_cycle']:.3g}%, DRAM "
        f"{100 * share['dram_cycle']:.3g}%. So compute utilization = {100 * share['mac_cycle']:.3g}% "
        f"of the cycles x {100 * busy:.3g}% of the MAC units busy in them.",
        f"Static energy is {100 * static_share:.3g}% of the energy: every MAC unit and buffer "
        f"leaks for every cycle ({p_static:.6g} pJ per cycle x {t['cycles']:.6g} cycles = "
        f"{t['static_energy_pj']:.6g} pJ), busy or not, so the more cycles go to memory transfers "
        f"the more static energy dominates.",
    ]


def _md_coverage(report: Mapping[str, Any]) -> list[str]:
    c = report["coverage"]
    out = [f"**Coverage:** {coverage_sentence(report)}.", ""]
    if c["skipped"]:
        out += ["| skipped operators | op type | count | MACs |", "|---|---|---:|---:|"]
        out += [f"| {', '.join(md_cell(n) for n in skipped_nodes_text(sk['nodes']))} | {md_cell(sk['op_type'])} | "
                f"{sk['count']} | {'unknown' if sk['macs'] is None else format(sk['macs'], ',')} |"
                for sk in c["skipped"]]
        out.append("")
    return out


def level_text(level: Mapping[str, Any]) -> tuple[str, str]:
    """(size, details) of one level of :func:`target_summary`, as plain text."""
    if level["type"] == "spatial":
        allowed = [f"{ax} only {','.join(level[k])}" for ax, k in (("X", "allowed_x"), ("Y", "allowed_y")) if k in level]
        return f"{level['x']} x {level['y']}", "; ".join(allowed)
    cap = level.get("capacity_bytes")
    if cap is None:
        size = "-"
    elif "shared" in cap:
        size = f"{cap['shared']:,} B shared" + "".join(f" + {v:,} B {k}" for k, v in cap.get("dedicated", {}).items())
    else:
        size = " / ".join(f"{cap[t]:,}" for t in ("input", "weight", "output")) + " B (I/W/O)"
    e = level["access_energy_pj"]
    details = [f"dataflow {level['dataflow'] or '-'}"]
    if level.get("bypass"):
        details.append("bypass " + ",".join(level["bypass"]))
    details.append("pJ/access I/W/O " + "/".join(f"{e[t]:g}" for t in ("input", "weight", "output")))
    details.append(f"{level['bandwidth_bits_per_cycle']} bit/cycle")
    return size, "; ".join(details)


def _md_target(report: Mapping[str, Any]) -> list[str]:
    ts = report["target"]["summary"]
    vu = ts["vector_unit"]
    out = ["## Target", "",
           f"{md_cell(report['target']['name'])}: {ts['precision_bits']}-bit data, {ts['frequency_mhz']:g} MHz, "
           f"{ts['mac_units']:,} MAC units at {ts['mac_energy_pj']:g} pJ/MAC, leakage "
           f"{ts['static_power_pj_per_cycle']:.6g} pJ/cycle; vector unit {vu['ops_per_cycle']:g} ops/cycle at "
           f"{vu['energy_per_op_pj']:g} pJ/op ({'declared' if vu['declared'] else 'default'}).", "",
           "| level | size | details |", "|---|---|---|"]
    for lv in ts["levels"]:
        size, details = level_text(lv)
        out.append(f"| {lv['level']} | {size} | {details} |")
    return out + [""]


def _md_whole_model(report: Mapping[str, Any]) -> list[str]:
    w, t, o = report["whole_model"], report["totals"], report["other_operators"]
    ot = o["total"]
    out = ["## Whole model: layers and the operators between them", "",
           "The totals above are the scheduled layers' (what the paper's tables compare). The "
           f"{o['count']} operators between the layers (pooling, activations, normalisation, data "
           "movement, ...) cost their tensor traffic at the level the tensor fits in and their "
           f"vector-unit operations: {100 * w['other_operators_energy_share']:.3g}% of the whole "
           f"model's energy and {100 * w['other_operators_cycle_share']:.3g}% of its cycles.", "",
           "| | energy (pJ) | dynamic (pJ) | static (pJ) | cycles |", "|---|---:|---:|---:|---:|",
           f"| scheduled layers | {t['energy_pj']:.6g} | {t['dynamic_energy_pj']:.6g} | "
           f"{t['static_energy_pj']:.6g} | {t['cycles']:.6g} |",
           f"| operators between layers | {ot['energy_pj']:.6g} | {ot['dynamic_energy_pj']:.6g} | "
           f"{ot['static_energy_pj']:.6g} | {ot['cycles']:.6g} |",
           f"| whole model | {w['energy_pj']:.6g} | {w['dynamic_energy_pj']:.6g} | "
           f"{w['static_energy_pj']:.6g} | {w['cycles']:.6g} |", ""]
    if o["by_op_type"]:
        out += ["| op type | count | vector ops | GB bytes | DRAM bytes | energy (pJ) | cycles |",
                "|---|---:|---:|---:|---:|---:|---:|"]
        for e in o["by_op_type"]:
            tb = e["traffic_bytes"]
            out.append(f"| {md_cell(e['op_type'])} | {e['count']} | {e['vector_ops']:.6g} | "
                       f"{tb['global_buffer']:.6g} | {tb['dram']:.6g} | {e['energy_pj']:.6g} | {e['cycles']:.6g} |")
        out.append("")
    if o["uncosted"]:
        out += ["Not costed (unknown shapes): " + ", ".join(f"{md_cell(k)} x{v}" for k, v in o["uncosted"].items())
                + ".", ""]
    return out


def render_markdown(report: Mapping[str, Any]) -> str:
    """``report.md``: settings, coverage, totals, what the utilizations mean, energy split, the
    target, the whole model with the operators between layers, unique layers, every layer with
    its per-level traffic and links to its schedule files."""
    t = report["totals"]
    s = report["settings"]
    out = [f"# {md_cell(report['model']['name'])} on {md_cell(report['target']['name'])}", "",
           f"rlsched_compile {report['tool']['version']}; objective `{s['objective']}`, strategy "
           f"`{s['strategy']}`, seed {s['seed']}, batch {report['model']['batch']}.", "",
           f"- model sha256 `{report['model']['sha256']}`",
           f"- target sha256 `{report['target']['sha256']}`", ""]
    out += _md_coverage(report)
    if not report["complete"]:
        out += ["**Incomplete:** no valid schedule for "
                + ", ".join(f"{md_cell(f['name'])} ({md_cell(f['message'])})" for f in report["failures"]) + ".", ""]
    out += ["## Totals of the scheduled layers", "", "| metric | value |", "|---|---:|",
            f"| energy (pJ) | {t['energy_pj']:.6g} |",
            f"| dynamic energy (pJ) | {t['dynamic_energy_pj']:.6g} |",
            f"| static energy (pJ) | {t['static_energy_pj']:.6g} |",
            f"| static energy share | {100 * t['static_energy_pj'] / t['energy_pj'] if t['energy_pj'] else 0.0:.3g}% |",
            f"| cycles | {t['cycles']:.6g} |",
            f"| MACs | {t['macs']:,} |",
            f"| energy per MAC (pJ) | {t['energy_per_mac_pj']:.4g} |",
            f"| MAC utilization (cycle-weighted) | {100 * t['mac_utilization']:.1f}% |",
            f"| PE utilization (cycle-weighted) | {100 * t['pe_utilization']:.1f}% |",
            f"| compute utilization | {100 * t['compute_utilization']:.3g}% |",
            f"| layers / unique | {t['layers']} / {t['unique_layers']} |"]
    vs = t.get("versus_fixed_dataflows")
    if vs is not None:
        out += [f"| energy with fixed dataflows (pJ) | {vs['fixed_energy_pj']:.6g} |",
                f"| energy / fixed dataflows | {vs['energy_ratio']:.4f} |",
                f"| cycles with fixed dataflows | {vs['fixed_cycles']:.6g} |",
                f"| cycles / fixed dataflows | {vs['cycles_ratio']:.4f} |"]
    out += ["",
            "### What the utilization figures mean", "", *(f"- {x}" for x in utilization_story(report)), "",
            "## Energy by component", "", "| component | kind | energy (pJ) | share |", "|---|---|---:|---:|"]
    # (the lower-bound and unfinished sections are appended at the end: added sections only)
    for kind, comps in (("dynamic", DYNAMIC_COMPONENTS), ("static", STATIC_COMPONENTS)):
        for c in comps:
            e = t["energy_by_component_pj"][c]
            share = e / t["energy_pj"] if t["energy_pj"] else 0.0
            out.append(f"| {c} | {kind} | {e:.6g} | {100 * share:.1f}% |")
    out += [""] + _md_target(report) + _md_whole_model(report)
    out += ["## Unique layers", "", "| # | layer | count | energy (pJ) | cycles | util % | strategy |",
            "|---:|---|---:|---:|---:|---:|---|"]
    for u in report["unique_layers"]:
        if "failed" in u:
            out.append(f"| {u['group']} | {md_cell(u['name'])} | {u['count']} | - | - | - | "
                       f"failed: {md_cell(u['failed'])} |")
        else:
            out.append(f"| {u['group']} | {md_cell(u['name'])} | {u['count']} | {u['energy_pj']:.6g} | "
                       f"{u['cycles']:.6g} | {100 * u['mac_utilization']:.1f} | {md_cell(u['strategy'])} |")
    levels = [b for b in ("local_buffer", "global_buffer", "dram")
              if report["layers"] and b in report["layers"][0]["traffic_bytes"]]
    short = {"local_buffer": "LB", "global_buffer": "GB", "dram": "DRAM"}
    flexible = vs is not None
    df_head, df_rule = ("dataflows (LB/GB) | energy / fixed | ", "---|---:|") if flexible else ("", "")
    out += ["", "## Layers", "",
            "Traffic: bytes moved through each memory level (every access the energy counts, at "
            f"{report['target']['summary']['precision_bits']} bits per element). Schedule: the loop nest "
            "(`.txt`) and the full schedule (`.json`).", "",
            "| # | layer | op | K | C | P×Q | R×S | G | energy (pJ) | cycles | util % | "
            + "".join(f"{short[b]} bytes | " for b in levels) + df_head + "schedule |",
            "|---:|---|---|---:|---:|---|---|---:|---:|---:|---:|" + "---:|" * len(levels) + df_rule + "---|"]
    for ly in report["layers"]:
        sh = ly["shape"]
        df_cells = ""
        if flexible and "dataflows" in ly:
            ratio = ly["energy_pj"] / ly["fixed_energy_pj"] if ly["fixed_energy_pj"] else 1.0
            df_cells = f"{flows_text(ly['dataflows'])} | {ratio:.4f} | "
        out.append(f"| {ly['index']} | {md_cell(ly['name'])} | {md_cell(ly['op'])} | {sh['K']} | {sh['C']} | "
                   f"{sh['P']}×{sh['Q']} | {sh['R']}×{sh['S']} | {sh['G']} | {ly['energy_pj']:.6g} | "
                   f"{ly['cycles']:.6g} | {100 * ly['mac_utilization']:.1f} | "
                   + "".join(f"{ly['traffic_bytes'][b]:.6g} | " for b in levels) + df_cells
                   + f"[{ly['schedule_text'].rsplit('/', 1)[-1]}]({ly['schedule_text']}), "
                   f"[{ly['schedule'].rsplit('/', 1)[-1]}]({ly['schedule']}) |")
    out += _markdown_bound_sections(report)
    return "\n".join(out) + "\n"


def _markdown_bound_sections(report: Mapping[str, Any]) -> list[str]:
    """``report.md``'s gap-to-lower-bound and stopped-at-budget sections (empty for old reports)."""
    lb = report.get("lower_bound")
    out: list[str] = []
    if lb:
        out += ["", "## Gap to lower bound", "",
                f"No valid schedule can cost less than the lower bound ({lb['derivation']}); the gap bounds "
                "how far from optimal a schedule can be.", "",
                "| scope | energy bound (pJ) | energy gap | cycles bound | cycles gap |", "|---|---:|---:|---:|---:|",
                f"| network | {lb['energy_pj']:.6g} | {100 * lb['energy_gap']:.1f}% | {lb['cycles']:.6g} | "
                f"{100 * lb['cycles_gap']:.1f}% |"]
        for ly in report["layers"]:
            if "energy_lower_bound_pj" in ly:
                out.append(f"| {ly['index']} {md_cell(ly['name'])} | "
                           f"{ly['energy_lower_bound_pj']:.6g} | {100 * ly['energy_gap_to_bound']:.1f}% | "
                           f"{ly['cycles_lower_bound']:.6g} | {100 * ly['cycles_gap_to_bound']:.1f}% |")
    unfinished = report.get("unfinished_layers") or []
    if unfinished:
        names = {ly["index"]: ly["name"] for ly in report["layers"]}
        out += ["", "## Stopped at budget", "",
                "These layers' searches stopped at their budget or time limit before covering their space; "
                "their schedules are the best found so far:", ""]
        out += [f"- {i} {md_cell(names.get(i, ''))}" for i in unfinished]
    return out



# ---- baseline comparison -------------------------------------------------------------------

@dataclass(frozen=True)
class Difference:
    """One compared figure.

    Attributes:
        scope: ``total`` or ``layer <index> <name>``.
        metric: ``energy_pj`` or ``cycles``.
        old: the baseline's value (None when the layer is new).
        new: the current value (None when the layer disappeared or failed).
        change_pct: relative change in percent (positive = worse); None when not comparable.
        regression: whether the change exceeds the allowed regression.
    """

    scope: str
    metric: str
    old: float | None
    new: float | None
    change_pct: float | None
    regression: bool


def compare_reports(baseline: Mapping[str, Any], current: Mapping[str, Any], *,
                    max_regression_pct: float) -> list[Difference]:
    """Compare network totals and per-layer energy/cycles of two reports.

    Layers are matched by index and name. Only figures that changed are returned, plus layers
    present in one report only (never counted as regressions, but listed).

    Args:
        baseline: a previous ``report.json``.
        current: the new report.
        max_regression_pct: allowed increase in percent; a larger increase is a regression.
    """
    diffs: list[Difference] = []

    def cmp(scope: str, metric: str, old: float, new: float) -> None:
        if old == new:
            return
        pct = (new - old) / old * 100.0 if old else math.inf
        diffs.append(Difference(scope, metric, old, new, pct, pct > max_regression_pct))

    for metric in ("energy_pj", "cycles"):
        cmp("total", metric, float(baseline["totals"][metric]), float(current["totals"][metric]))
    old_layers = {(ly["index"], ly["name"]): ly for ly in baseline.get("layers", [])}
    new_layers = {(ly["index"], ly["name"]): ly for ly in current.get("layers", [])}
    for key in sorted(set(old_layers) | set(new_layers)):
        scope = f"layer {key[0]} {key[1]}"
        o, n = old_layers.get(key), new_layers.get(key)
        if o is None or n is None:
            for metric in ("energy_pj", "cycles"):
                diffs.append(Difference(scope, metric, None if o is None else float(o[metric]),
                                        None if n is None else float(n[metric]), None, False))
            continue
        for metric in ("energy_pj", "cycles"):
            cmp(scope, metric, float(o[metric]), float(n[metric]))
    return diffs


def render_differences(diffs: Sequence[Difference], *, max_regression_pct: float) -> str:
    """A text table of the differences and a one-line verdict."""
    regressions = sum(d.regression for d in diffs)
    if not diffs:
        return "baseline: no differences\n"
    rows = []
    for d in diffs:
        rows.append((d.scope, d.metric, "-" if d.old is None else f"{d.old:.6g}",
                     "-" if d.new is None else f"{d.new:.6g}",
                     "n/a" if d.change_pct is None else f"{d.change_pct:+.2f}%",
                     "REGRESSION" if d.regression else ""))
    lines = ["baseline comparison (positive change = worse):",
             *_table(("scope", "metric", "baseline", "current", "change", ""), rows, "llrrrl")]
    lines.append(f"baseline: {regressions} regression(s) above {max_regression_pct:g}%"
                 if regressions else f"baseline: {len(diffs)} difference(s), none above {max_regression_pct:g}%")
    return "\n".join(lines) + "\n"
