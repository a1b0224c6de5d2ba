"""The operators between the layers (rlsched_compile.operators): hand-computed costs on a small
graph, the vector-unit defaults and a declared section, the target schema's checks of that
section, the coverage accessor, and the agreement of the per-level traffic and the leakage per
cycle with the C cost model."""
from __future__ import annotations

import copy
from typing import Any

import networkx as nx
import pytest

from rlsched_compile.emit.schedule import level_traffic
from rlsched_compile.errors import TargetError
from rlsched_compile.layer import Layer
from rlsched_compile.network import Network, UnsupportedOp
from rlsched_compile.emit.coverage import coverage_phrase, coverage_section
from rlsched_compile.operators import (OP_RULES, cost_other_operators, global_buffer_bytes, operator_cost,
                                       static_power_pj_per_cycle)
from rlsched_compile.search import schedule_layer
from rlsched_compile.targets import load_target, target_from_dict

#: A small target with round numbers (spec JSON form, innermost first). 16-bit data (2 B per
#: element); 8 PEs, so the default vector unit does 8 ops/cycle at mac_energy_pj = 0.5 pJ.
#: Leakage per cycle (1 ns clock): 0.01 mW x 8 MAC units + 0.5 mW GB + 0.1 mW DRAM = 0.68 pJ.
SMALL: dict[str, Any] = {
    "schema": "rlsched-target-v1", "name": "small", "precision_bits": 16, "frequency_mhz": 1000,
    "mac_energy_pj": 0.5, "mac_static_power_mw": 0.01,
    "levels": [
        {"level": "local_buffer", "type": "temporal", "dataflow": "WS",
         "capacity_bytes": {"input": 64, "weight": 64, "output": 64}, "bypass": [],
         "access_energy_pj": {"input": 1, "weight": 1, "output": 1}, "bandwidth_bits_per_cycle": 16},
        {"level": "pe_array", "type": "spatial", "x": 4, "y": 2},
        {"level": "global_buffer", "type": "temporal", "dataflow": "OS", "capacity_bytes": {"shared": 1000},
         "bypass": [], "access_energy_pj": {"input": 2, "weight": 3, "output": 4},
         "static_power_mw": {"input": 0.5}, "access_cycles": {"input": 1, "weight": 1, "output": 1},
         "bandwidth_bits_per_cycle": 64},
        {"level": "dram", "type": "temporal", "access_energy_pj": {"input": 100, "weight": 100, "output": 200},
         "static_power_mw": {"input": 0.1}, "access_cycles": {"input": 2, "weight": 2, "output": 2},
         "bandwidth_bits_per_cycle": 32},
    ],
}


def small_network() -> Network:
    """x(1,4,10,10) -> Relu -> MaxPool 2x2/2 -> Add(bias 4) -> out; y(1,1,30,30) -> Sigmoid -> out;
    plus a scheduled Conv, a skipped activation MatMul and an operator with an unknown shape."""
    g = nx.DiGraph()

    def node(name: str, op: str, shapes: tuple[Any, ...], *, params: int = 0, window: int | None = None,
             layer_index: int | None = None) -> None:
        g.add_node(name, op_type=op, name=name, macs=0, param_bytes=4 * params, param_elements=params,
                   window=window, output_shapes=shapes, layer_index=layer_index)

    def edge(u: str, v: str, shape: tuple[int, ...] | None) -> None:
        n = None if shape is None else __import__("math").prod(shape)
        g.add_edge(u, v, tensor=u, tensors=(u,), shape=shape, bytes=None if n is None else 4 * n, elements=n)

    node("input:x", "Input", ((1, 4, 10, 10),))
    node("relu", "Relu", ((1, 4, 10, 10),))
    node("pool", "MaxPool", ((1, 4, 5, 5),), window=4)
    node("bias", "Add", ((1, 4, 5, 5),), params=4)
    node("conv", "Conv", ((1, 4, 5, 5),), params=144, layer_index=0)
    node("mm", "MatMul", ((1, 4, 5, 5),))
    node("odd", "Unknown", (None,))
    node("input:y", "Input", ((1, 1, 30, 30),))
    node("sig", "Sigmoid", ((1, 1, 30, 30),))
    node("output:o", "Output", ())
    edge("input:x", "relu", (1, 4, 10, 10))
    edge("relu", "pool", (1, 4, 10, 10))
    edge("pool", "bias", (1, 4, 5, 5))
    edge("bias", "conv", (1, 4, 5, 5))
    edge("conv", "mm", (1, 4, 5, 5))
    edge("mm", "odd", (1, 4, 5, 5))
    edge("input:y", "sig", (1, 1, 30, 30))
    edge("sig", "output:o", (1, 1, 30, 30))
    conv = Layer("conv", K=4, B=1, P=5, Q=5, C=4, R=3, S=3)
    return Network(name="small", source=None, sha256="0" * 64, batch=1, layers=(conv,), graph=g,
                   unsupported=(UnsupportedOp("MatMul (no constant weight)", 1, ("mm",)),))


def by_type(target_doc: dict[str, Any]) -> dict[str, Any]:
    other = cost_other_operators(small_network(), target_from_dict(target_doc))
    return {t.op_type: t for t in other.by_op_type} | {"_": other}


def test_hand_computed_costs_with_the_default_vector_unit() -> None:
    target = target_from_dict(SMALL)
    assert target.vector_ops_per_cycle == 8 and target.vector_energy_per_op_pj == 0.5
    assert static_power_pj_per_cycle(target) == pytest.approx(0.68)
    assert global_buffer_bytes(target) == 1000
    t = by_type(SMALL)
    other = t.pop("_")
    # layers, skipped MAC-bearing operators, inputs/outputs are not costed; unknown shapes listed
    assert list(t) == ["Relu", "MaxPool", "Add", "Sigmoid"]
    assert dict(other.uncosted) == {"Unknown": 1}

    relu = t["Relu"].cost  # 400 in, 400 out, 800 B each: both in the GB
    assert relu.vector_ops == 400 and relu.vector_cycles == 50
    assert relu.traffic_elements["global_buffer"] == {"input": 400, "weight": 0, "output": 400}
    assert relu.traffic_elements["dram"] == {"input": 0, "weight": 0, "output": 0}
    assert relu.energy_by_part_pj["vector_energy"] == 200           # 400 ops x 0.5 pJ
    assert relu.energy_by_part_pj["gb_energy"] == 400 * 2 + 400 * 4  # reads at input, writes at output
    assert relu.memory_cycles == 100 + 100                           # ceil(400 / 4 per beat) x 1, shared GB adds
    assert relu.cycles == 250
    assert relu.energy_by_part_pj["static_energy"] == pytest.approx(0.68 * 250)
    assert relu.energy_pj == pytest.approx(200 + 2400 + 170)

    pool = t["MaxPool"].cost  # 2x2 window: 4 ops per output element
    assert pool.vector_ops == 400 and pool.vector_cycles == 50
    assert pool.energy_by_part_pj["gb_energy"] == 400 * 2 + 100 * 4
    assert pool.memory_cycles == 100 + 25
    assert pool.energy_pj == pytest.approx(200 + 1200 + 0.68 * 175)

    add = t["Add"].cost  # 100 in, 4 parameters (weight energy), 100 out
    assert add.vector_ops == 100 and add.vector_cycles == 13           # ceil(100 / 8)
    assert add.traffic_elements["global_buffer"] == {"input": 100, "weight": 4, "output": 100}
    assert add.energy_by_part_pj["gb_energy"] == 100 * 2 + 4 * 3 + 100 * 4
    assert add.memory_cycles == 25 + 1 + 25
    assert add.energy_pj == pytest.approx(50 + 612 + 0.68 * 64)

    sig = t["Sigmoid"].cost  # 900 elements = 1800 B > 1000 B of GB: DRAM
    assert sig.vector_ops == 2700 and sig.vector_cycles == 338
    assert sig.traffic_elements["dram"] == {"input": 900, "weight": 0, "output": 900}
    assert sig.energy_by_part_pj["dram_energy"] == 900 * 100 + 900 * 200
    assert sig.energy_by_part_pj["gb_energy"] == 0
    assert sig.memory_cycles == 450 * 2 + 450 * 2                      # DRAM: 2 elements per beat, 2 cycles
    assert sig.energy_pj == pytest.approx(1350 + 270000 + 0.68 * 2138)

    total = other.total
    assert other.count == 4
    assert total.energy_pj == pytest.approx(sum(x.cost.energy_pj for x in t.values()))
    assert total.cycles == 250 + 175 + 64 + 2138
    d = other.to_dict()
    assert d["total"]["traffic_bytes"] == {"global_buffer": 2 * (800 + 500 + 204), "dram": 2 * 1800}
    assert d["model"] == {"ops_per_cycle": 8.0, "energy_per_op_pj": 0.5, "vector_unit_declared": False,
                          "global_buffer_bytes": 1000, "static_power_pj_per_cycle": 0.68}
    assert [e["op_type"] for e in d["by_op_type"]] == ["Relu", "MaxPool", "Add", "Sigmoid"]


def test_a_declared_vector_unit_is_used() -> None:
    doc = copy.deepcopy(SMALL)
    doc["vector_unit"] = {"ops_per_cycle": 100, "energy_per_op_pj": 0.1}
    relu = by_type(doc)["Relu"].cost
    assert relu.vector_cycles == 4 and relu.energy_by_part_pj["vector_energy"] == pytest.approx(40)
    assert relu.cycles == 204
    doc["vector_unit"] = {"ops_per_cycle": 64}  # energy keeps its default
    relu = by_type(doc)["Relu"].cost
    assert relu.vector_cycles == 7 and relu.energy_by_part_pj["vector_energy"] == 200


def test_no_global_buffer_puts_everything_in_dram() -> None:
    doc = copy.deepcopy(SMALL)
    doc["levels"] = [lv for lv in doc["levels"] if lv["level"] != "global_buffer"]
    relu = by_type(doc)["Relu"].cost
    assert relu.traffic_elements["dram"] == {"input": 400, "weight": 0, "output": 400}
    assert relu.energy_by_part_pj["gb_energy"] == 0
    assert relu.energy_by_part_pj["dram_energy"] == 400 * 100 + 400 * 200


def test_separate_global_buffer_takes_the_slowest_type() -> None:
    doc = copy.deepcopy(SMALL)
    doc["levels"][2]["capacity_bytes"] = {"input": 400, "weight": 200, "output": 400}  # 1000 B in all
    doc["levels"][2]["access_cycles"] = {"input": 1, "weight": 1, "output": 3}
    relu = by_type(doc)["Relu"].cost
    assert relu.memory_cycles == max(100 * 1, 100 * 3)


def test_gather_reads_only_the_rows_it_gathers() -> None:
    target = load_target("eyeriss")
    cost = operator_cost(target, op_type="Gather", input_elements=[128], output_elements=[128 * 768],
                         param_elements=30522 * 768)
    parts = cost.traffic_elements
    assert parts["dram"]["weight"] + parts["global_buffer"]["weight"] == 128 * 768
    assert cost.vector_ops == 0  # pure data movement


def test_op_rules_table() -> None:
    assert OP_RULES["Reshape"].per == 0 and OP_RULES["Softmax"].per == 5
    assert OP_RULES["LayerNormalization"].per == 7 and OP_RULES["MaxPool"].basis == "window"
    # variadic Sum over 3 inputs of 10: 20 additions; the unknown-window pool falls back to its inputs
    t = load_target("eyeriss")
    assert operator_cost(t, op_type="Sum", input_elements=[10, 10, 10], output_elements=[10]).vector_ops == 20
    assert operator_cost(t, op_type="MaxPool", input_elements=[36], output_elements=[9]).vector_ops == 36
    assert operator_cost(t, op_type="SomethingNew", input_elements=[5], output_elements=[7]).vector_ops == 7


def test_coverage_accessor() -> None:
    net = small_network()
    cov = coverage_section(net, net.macs)
    assert cov == {"model_macs": 3600, "scheduled_macs": 3600, "share": 1.0, "exact": False,
                   "unscheduled_layer_macs": 0,
                   "skipped": [{"op_type": "MatMul (no constant weight)", "count": 1, "nodes": ["mm"], "macs": None}]}
    assert coverage_phrase(cov) == "100.0% of 3.6 k MACs scheduled (at least; some skipped MACs unknown)"
    # a layer without a valid schedule lowers the share (rounded down: 99.9% is not 100.0%)
    cov = coverage_section(net, 3597)
    assert cov["unscheduled_layer_macs"] == 3 and coverage_phrase(cov).startswith("99.9% of 3.6 k MACs")


# ---- the target section ---------------------------------------------------------------------

@pytest.mark.parametrize(("value", "message"), [
    (5, "vector_unit: must be a mapping with keys ops_per_cycle, energy_per_op_pj (got 5)"),
    ({"ops_per_cycle": 0}, "vector_unit.ops_per_cycle: must be > 0 (got 0)"),
    ({"ops_per_cycle": -4}, "vector_unit.ops_per_cycle: must be > 0 (got -4)"),
    ({"ops_per_cycle": "fast"}, 'vector_unit.ops_per_cycle: must be a finite number (got "fast")'),
    ({"ops_per_cycle": True}, "vector_unit.ops_per_cycle: must be a finite number (got true)"),
    ({"ops_per_cycle": 1e13}, "vector_unit.ops_per_cycle: must be <= 1e+12 (got 10000000000000.0)"),
    ({"energy_per_op_pj": -0.1}, "vector_unit.energy_per_op_pj: must be >= 0 (got -0.1)"),
    ({"energy_per_op_pj": float("inf")}, "vector_unit.energy_per_op_pj: must be a finite number (got Infinity)"),
    ({"lanes": 4}, "vector_unit.lanes: unknown key, accepted keys: ops_per_cycle, energy_per_op_pj"),
])
def test_bad_vector_unit_values_are_reported(value: Any, message: str) -> None:
    doc = copy.deepcopy(SMALL)
    doc["vector_unit"] = value
    with pytest.raises(TargetError) as e:
        target_from_dict(doc)
    assert str(e.value) == f"invalid target <dict>: 1 problem: {message}"


def test_vector_unit_round_trips_and_keeps_old_hashes() -> None:
    plain = target_from_dict(SMALL)
    assert "vector_unit" not in plain.to_dict()
    doc = copy.deepcopy(SMALL)
    doc["vector_unit"] = {"ops_per_cycle": 32, "energy_per_op_pj": 0.25}
    declared = target_from_dict(doc)
    assert declared.to_dict()["vector_unit"] == {"ops_per_cycle": 32.0, "energy_per_op_pj": 0.25}
    assert target_from_dict(declared.to_dict()) == declared
    assert declared.sha256 != plain.sha256


# ---- agreement with the C cost model ------------------------------------------------------

@pytest.mark.parametrize("name", ["eyeriss", "eyeriss_v2", "simba", "tpu_v3"])
def test_leakage_and_traffic_agree_with_the_cost_model(name: str) -> None:
    target = load_target(name)
    for layer in (Layer("c", K=64, B=1, P=14, Q=14, C=32, R=3, S=3), Layer("fc", K=100, B=1, P=1, Q=1, C=256, R=1, S=1)):
        ev = schedule_layer(target, layer, search="bottom-up").evaluation
        e = ev.energy_by_component_pj
        assert e is not None
        assert e["total_static_energy"] / ev.cycles == pytest.approx(static_power_pj_per_cycle(target), rel=1e-9)
        traffic = level_traffic(ev)
        for buf, comp in (("local_buffer", "lb_energy"), ("global_buffer", "gb_energy"), ("dram", "dram_energy")):
            lv = getattr(target, buf)
            if lv is None:
                continue
            energy = sum(traffic[buf][t] * getattr(lv.access_energy_pj, t) for t in ("input", "weight", "output"))
            assert energy == pytest.approx(e[comp], rel=1e-9, abs=1e-6), (buf, layer.name)


def test_frontend_records_elements_parameters_and_windows() -> None:
    """What the cost reads from the graph: edge elements, parameter elements, pooling windows."""
    import math
    from pathlib import Path

    from rlsched_compile.frontend import load_network

    net = load_network(Path(__file__).resolve().parents[1] / "model_zoo" / "resnet50.onnx")
    g = net.graph
    for u, v, e in g.edges(data=True):
        assert e["elements"] == math.prod(e["shape"]) * len(e["tensors"]), (u, v)
        assert e["bytes"] == 4 * e["elements"]  # float32 model
    pools = [d for _, d in g.nodes(data=True) if d["op_type"] == "MaxPool"]
    assert [d["window"] for d in pools] == [9]
    for _, d in g.nodes(data=True):
        if d["op_type"] == "BatchNormalization":
            channels = d["output_shapes"][0][1]
            assert d["param_elements"] == 4 * channels and d["param_bytes"] == 16 * channels
    other = cost_other_operators(net, load_target("eyeriss"))
    assert other.uncosted == {} and other.count == sum(
        1 for _, d in g.nodes(data=True) if d["op_type"] not in ("Input", "Output") and d["layer_index"] is None)
