"""Graph input: the JSON graph format, its error messages, and ONNX through the frontend."""
from __future__ import annotations

from pathlib import Path

import pytest

from rlsched_compile.errors import PipelineError
from rlsched_compile.pipeline.graph import load_graph, load_graph_json

from .conftest import node, write_graph

REPO = Path(__file__).resolve().parents[2]


def test_json_graph_renumbers_in_execution_order_and_ignores_extra_fields(tmp_path):
    path = write_graph(tmp_path / "g.json",
                       [node(7, extra="x", in_bytes=12), node(3), node(5, out=77)],
                       [[7, 5], [5, 3]])
    g = load_graph_json(path)
    assert g.name == "g"
    assert g.ids == (7, 5, 3)
    assert g.edges == ((0, 1), (1, 2))
    assert g.out_bytes == (1000, 77, 1000)
    assert g.in_bytes == (12, 0, 0)
    assert g.is_chain_like()
    assert g.asap_level == (0, 1, 2)


def test_execution_order_takes_smallest_id_first(tmp_path):
    path = write_graph(tmp_path / "g.json", [node(i) for i in (4, 2, 9, 1)], [[4, 9], [2, 9]])
    g = load_graph_json(path)
    assert g.ids == (1, 2, 4, 9)
    assert not g.is_chain_like()
    assert g.preds[3] == (1, 2)


@pytest.mark.parametrize(("nodes", "edges", "message"), [
    ([node(0), node(1), node(2)], [[0, 1], [1, 2], [2, 0]],
     "g.json: the graph has a cycle through node ids 0, 1, 2; edges must form a DAG"),
    ([node(0), node(1)], [[0, 5]],
     "g.json: edges[0] = [0, 5] names unknown node id 5; every edge end must be a node id"),
    ([node(0), node(0)], [],
     "g.json: duplicate node id 0 (nodes[0] and nodes[1]); give every node its own id"),
    ([node("a")], [], "g.json: nodes[0].id must be an integer, got 'a'"),
    ([node(1.0)], [], "g.json: nodes[0].id must be an integer, got 1.0"),
    ([node(0)], [[0, 0]], "g.json: edges[0] = [0, 0] is a self loop; the graph must be acyclic"),
    ([node(0, macs=-3)], [], "g.json: nodes[0].macs must be a non-negative integer, got -3"),
    ([{"id": 0, "macs": 1, "param_bytes": 1}], [],
     "g.json: nodes[0] (id 0) has no 'out_bytes'; every node needs macs, param_bytes and out_bytes"),
    ([], [], "g.json: the graph has no nodes; give at least one node in \"nodes\""),
    ([node(0)], [[0]], "g.json: edges[0] must be a pair [u, v], got [0]"),
])
def test_bad_graphs_give_one_line_errors(tmp_path, nodes, edges, message):
    path = write_graph(tmp_path / "g.json", nodes, edges)
    with pytest.raises(PipelineError) as exc:
        load_graph_json(path)
    assert str(exc.value) == message


def test_not_json_and_unknown_suffix(tmp_path):
    bad = tmp_path / "g.json"
    bad.write_text("{nodes", encoding="utf-8")
    with pytest.raises(PipelineError, match=r"^g.json: not valid JSON \(line 1: "):
        load_graph(bad)
    other = tmp_path / "g.tflite"
    other.write_bytes(b"")
    with pytest.raises(PipelineError, match=r"^g.tflite: unknown graph format '.tflite'; give a .onnx model"):
        load_graph(other)


def test_onnx_model_becomes_a_pipeline_graph_in_int8():
    g = load_graph(REPO / "model_zoo" / "mobilenet_v3_small.onnx", data_type_bytes=1)
    assert g.n > 100
    assert "Input" not in g.ops and "Output" not in g.ops
    # The image (1x3x224x224) is read by the first operator; int8: one byte per element.
    assert sum(g.in_bytes) == 3 * 224 * 224
    assert g.in_bytes[0] == 3 * 224 * 224
    # Every edge goes forward in execution order and the classifier is the last node.
    assert all(u < v for u, v in g.edges)
    assert g.succs[g.n - 1] == ()
    assert g.out_bytes[g.n - 1] == 1000
    fp32 = load_graph(REPO / "model_zoo" / "mobilenet_v3_small.onnx")
    assert sum(fp32.param_bytes) == pytest.approx(4 * sum(g.param_bytes), rel=1e-3)
