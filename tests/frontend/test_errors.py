"""Bad input: every case raises ModelError with one line naming the model, the problem and the fix."""
from __future__ import annotations

from pathlib import Path

import onnx
import pytest
from onnx import helper

from rlsched_compile.errors import ModelError
from rlsched_compile.frontend import load_network

from ._graphs import classifier_model, conv_model, init, model, vi

ZOO = Path(__file__).resolve().parents[2] / "model_zoo"


def error_of(source: object, **kw: object) -> str:
    with pytest.raises(ModelError) as info:
        load_network(source, **kw)  # type: ignore[arg-type]
    text = str(info.value)
    assert "\n" not in text
    return text


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.onnx"
    assert error_of(path) == f"{path}: no such file; check the model path"


def test_directory(tmp_path: Path) -> None:
    assert error_of(tmp_path) == \
        f"{tmp_path}: is not a file; pass the path of an .onnx model file"


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.onnx"
    path.write_bytes(b"")
    assert error_of(path).startswith(f"{path}: file is empty;")


def test_text_file_is_not_onnx(tmp_path: Path) -> None:
    path = tmp_path / "notes.onnx"
    path.write_text("hello, this is not a model\n")
    assert error_of(path).startswith(f"{path}: not an ONNX model or truncated (Error parsing message")


def test_protobuf_that_is_not_a_model(tmp_path: Path) -> None:
    # A valid protobuf of another message type: parses, but has no graph.
    path = tmp_path / "tensor.onnx"
    path.write_bytes(init("t", [2, 2]).SerializeToString())
    assert error_of(path).startswith(f"{path}: not an ONNX model")


@pytest.mark.parametrize("fraction", [0.1, 0.5, 0.99])
def test_truncated_zoo_file(tmp_path: Path, fraction: float) -> None:
    data = (ZOO / "resnet50.onnx").read_bytes()
    path = tmp_path / "cut.onnx"
    path.write_bytes(data[: int(len(data) * fraction)])
    text = error_of(path)
    assert text.startswith(f"{path}: ") and "truncated" in text


def test_graph_reading_a_missing_tensor_is_reported_as_truncated(tmp_path: Path) -> None:
    m = classifier_model(17)
    del m.graph.initializer[-2:]  # as if the file stopped before the last weights
    path = tmp_path / "half.onnx"
    path.write_bytes(m.SerializeToString())
    assert error_of(path) == (f"{path}: node 'fc' (Gemm) reads tensor 'fw' that no node, "
                              "initializer or graph input provides; the file is truncated or "
                              "malformed, re-export it")


def test_no_layers() -> None:
    nodes = [helper.make_node("Relu", ["x"], ["y"], name="r")]
    m = model(nodes, [vi("x", [1, 4])], [vi("y", [1, 4])], name="relu_only")
    assert error_of(m) == ("<model 'relu_only'>: no operator with multiply-accumulates to schedule "
                           "(operators: Relu x1); pass a model with Conv, Gemm, MatMul, attention "
                           "or recurrent layers")


def test_symbolic_batch_without_batch(tmp_path: Path) -> None:
    path = tmp_path / "dyn.onnx"
    onnx.save(classifier_model(17, batch="N"), path)
    assert error_of(path) == (f"{path}: input 'x' has a symbolic batch dimension 'N'; "
                              "pass --batch N (e.g. --batch 1)")


def test_unknown_batch_without_name() -> None:
    m = conv_model([1, 3, 8, 8], [4, 3, 3, 3])
    m.graph.input[0].type.tensor_type.shape.dim[0].Clear()
    assert "input 'x' has a symbolic batch dimension '?'; pass --batch N" in error_of(m)


def test_symbolic_spatial_dimension() -> None:
    m = conv_model([1, 3, "height", 8], [4, 3, 3, 3])
    assert error_of(m, batch=1) == (
        "<model 'tiny'>: input 'x' has a symbolic dimension 'height' at axis 2; only the batch "
        "dimension may be symbolic, re-export the model with a fixed input size")


def test_fixed_batch_differs_from_batch_argument() -> None:
    assert error_of(classifier_model(17), batch=8) == (
        "<model 'tiny'>: input 'x' has a fixed batch of 1, not 8; drop --batch or re-export the "
        "model with a dynamic batch")


@pytest.mark.parametrize("bad", [0, -1, True])
def test_batch_must_be_positive(bad: object) -> None:
    text = error_of(classifier_model(17, batch="N"), batch=bad)
    assert text.startswith(f"<model 'tiny'>: batch must be a positive integer, got {bad!r}")


def test_input_without_shape() -> None:
    m = conv_model([1, 3, 8, 8], [4, 3, 3, 3])
    m.graph.input[0].type.tensor_type.ClearField("shape")
    assert error_of(m) == ("<model 'tiny'>: input 'x' has no declared shape; re-export the model "
                           "with input shapes (e.g. torch.onnx.export with a sample input)")


def test_inconsistent_conv_channels(tmp_path: Path) -> None:
    m = conv_model([1, 3, 8, 8], [4, 3, 3, 3])
    m.graph.initializer[0].CopyFrom(init("w", [4, 5, 3, 3]))
    path = tmp_path / "bad.onnx"
    path.write_bytes(m.SerializeToString())
    assert error_of(path) == (f"{path}: node 'conv' (Conv): input has 3 channels but weight "
                              "[4, 5, 3, 3] with group=1 expects 5; the model's shapes are "
                              "inconsistent, fix or re-export it")


def test_gemm_inner_dimensions_disagree(tmp_path: Path) -> None:
    m = model([helper.make_node("Gemm", ["x", "w"], ["y"], name="fc")], [vi("x", [2, 8])],
              [vi("y", [2, 3])], initializers=[init("w", [8, 3])])
    m.graph.initializer[0].CopyFrom(init("w", [9, 3]))
    path = tmp_path / "gemm.onnx"
    path.write_bytes(m.SerializeToString())
    text = error_of(path)
    assert text.startswith(f"{path}: inconsistent shapes ([ShapeInferenceError]")
    assert text.endswith("); fix or re-export the model")


def test_stale_value_info_is_overruled_by_onnxruntime(caplog: pytest.LogCaptureFixture) -> None:
    # Strict inference rejects the stale hint; onnxruntime runs the model, so its shapes win.
    nodes = [helper.make_node("Relu", ["x"], ["r"], name="relu"),
             helper.make_node("Conv", ["r", "w"], ["y"], name="conv")]
    m = model(nodes, [vi("x", [1, 3, 8, 8])], [vi("y", None)], initializers=[init("w", [4, 3, 3, 3])])
    m.graph.value_info.append(vi("r", [1, 3, 9, 9]))
    net = load_network(m)
    assert (net.layers[0].P, net.layers[0].Q) == (6, 6)
    assert "strict shape inference failed ([ShapeInferenceError]" in caplog.text
    assert "but onnxruntime runs the model; using its shapes" in caplog.text


def test_inconsistent_shapes_found_by_the_extractor() -> None:
    # Shape inference cannot see through the custom op; the Conv's own check catches it.
    nodes = [helper.make_node("Gelu", ["x"], ["g"], name="gelu", domain="com.microsoft"),
             helper.make_node("Conv", ["g", "w"], ["y"], name="c")]
    m = model(nodes, [vi("x", [1, 3, 8, 8])], [vi("y", None)], initializers=[init("w", [4, 2, 3, 3])],
              extra_opsets=[("com.microsoft", 1)])
    assert error_of(m) == ("<model 'tiny'>: node 'c' (Conv): input has 3 channels but weight "
                           "[4, 2, 3, 3] with group=1 expects 2; the model's shapes are "
                           "inconsistent, fix or re-export it")


def test_onnxruntime_fallback_failure() -> None:
    nodes = [helper.make_node("NoSuchOp", ["x"], ["g"], name="custom", domain="example.custom"),
             helper.make_node("Conv", ["g", "w"], ["y"], name="c")]
    m = model(nodes, [vi("x", [1, 3, 8, 8])], [vi("y", None)], initializers=[init("w", [4, 3, 3, 3])],
              extra_opsets=[("example.custom", 1)])
    text = error_of(m)
    assert text.startswith("<model 'tiny'>: the shapes of 1 tensor(s) (e.g. 'g') cannot be "
                           "inferred and onnxruntime cannot run the model (")
    assert text.endswith("); re-export it with static shapes (or run onnxsim on it)")


def test_cycle() -> None:
    nodes = [helper.make_node("Relu", ["b"], ["a"], name="r1"),
             helper.make_node("Relu", ["a"], ["b"], name="r2"),
             helper.make_node("Conv", ["x", "w"], ["y"], name="c")]
    graph = helper.make_graph(nodes, "cyc", [vi("x", [1, 3, 4, 4])], [vi("y", None)],
                              initializer=[init("w", [1, 3, 1, 1])])
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    assert error_of(m) == ("<model 'cyc'>: the graph has a cycle through node 'r1' (Relu); "
                           "re-export the model")
