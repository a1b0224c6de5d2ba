"""Tensor shapes: fixing the batch dimension, ONNX shape inference, onnxruntime fallback."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Iterable, Mapping

import numpy as np
import onnx

from ..errors import ModelError
from ..layer import MAX_PARAM
from ._external import check_external_data, external_locations
from ._reader import first_line

logger = logging.getLogger(__name__)

@dataclass(frozen=True)
class TensorInfo:
    """Element type and shape of one tensor.

    Attributes:
        elem_type: ``onnx.TensorProto`` data type (0 if unknown).
        shape: dimensions (int, symbol string or None each); ``None`` if the rank is unknown.
    """

    elem_type: int
    shape: tuple[int | str | None, ...] | None

    @property
    def static(self) -> tuple[int, ...] | None:
        """The shape if every dimension is a known int, else ``None``."""
        if self.shape is None or not all(isinstance(d, int) for d in self.shape):
            return None
        return tuple(int(d) for d in self.shape)  # type: ignore[arg-type]

    @property
    def itemsize_bytes(self) -> int:
        """Bytes per element (0 when the element type is unknown or has no fixed size)."""
        return elem_size_bytes(self.elem_type)


def elem_size_bytes(elem_type: int) -> int:
    """Bytes per element of an ONNX tensor element type (0 for unknown/string)."""
    if elem_type in (0, onnx.TensorProto.STRING):
        return 0
    try:
        return int(np.dtype(onnx.helper.tensor_dtype_to_np_dtype(elem_type)).itemsize)
    except Exception:  # types numpy lacks (e.g. float8, int4): fall back to the bit width
        bits = {onnx.TensorProto.INT4: 4, onnx.TensorProto.UINT4: 4}.get(elem_type, 8)
        return max(1, bits // 8)


def _value_info(vi: onnx.ValueInfoProto) -> TensorInfo:
    tt = vi.type.tensor_type
    if not vi.type.HasField("tensor_type"):
        return TensorInfo(0, None)
    if not tt.HasField("shape"):
        return TensorInfo(tt.elem_type, None)
    dims: list[int | str | None] = []
    for d in tt.shape.dim:
        if d.HasField("dim_value"):
            dims.append(int(d.dim_value))
        elif d.dim_param:
            dims.append(d.dim_param)
        else:
            dims.append(None)
    return TensorInfo(tt.elem_type, tuple(dims))


def collect_tensor_info(graph: onnx.GraphProto) -> dict[str, TensorInfo]:
    """Every tensor whose type the graph declares (inputs, value_info, outputs, initializers,
    ``Constant`` nodes)."""
    info: dict[str, TensorInfo] = {}
    for vi in list(graph.input) + list(graph.value_info) + list(graph.output):
        ti = _value_info(vi)
        old = info.get(vi.name)
        if old is None or (old.static is None and ti.shape is not None):
            info[vi.name] = ti
    for t in graph.initializer:
        info[t.name] = TensorInfo(t.data_type, tuple(int(d) for d in t.dims))
    for node in graph.node:
        if node.op_type == "Constant" and node.output and node.output[0] not in info:
            for a in node.attribute:
                if a.name == "value" and a.type == onnx.AttributeProto.TENSOR:
                    info[node.output[0]] = TensorInfo(a.t.data_type, tuple(int(d) for d in a.t.dims))
    return info


def fix_batch(graph: onnx.GraphProto, data_inputs: Iterable[str], batch: int | None,
              label: str) -> int:
    """Sets symbolic batch dimensions of the data inputs to ``batch`` (in place).

    Args:
        graph: the graph to edit (a copy of the user's model).
        data_inputs: graph inputs that carry data (not weights).
        batch: the batch size asked for, or ``None``.
        label: the model's name in error messages.

    Returns:
        The batch size of the network (``batch``, else the first data input's fixed batch, else 1).

    Raises:
        ModelError: a symbolic batch without ``batch``, another symbolic dimension, a missing
            input shape, or a fixed batch different from ``batch``.
    """
    if batch is not None and (isinstance(batch, bool) or not isinstance(batch, int) or batch < 1):
        raise ModelError(f"{label}: batch must be a positive integer, got {batch!r}; pass --batch N "
                         "with N >= 1")
    if batch is not None and batch > MAX_PARAM:
        raise ModelError(f"{label}: batch {batch} is larger than the largest supported size 2^52; "
                         "pass a smaller --batch")
    wanted = set(data_inputs)
    found: int | None = None
    for vi in graph.input:
        if vi.name not in wanted:
            continue
        tt = vi.type.tensor_type
        if not vi.type.HasField("tensor_type") or not tt.HasField("shape"):
            raise ModelError(f"{label}: input {vi.name!r} has no declared shape; re-export the model "
                             "with input shapes (e.g. torch.onnx.export with a sample input)")
        for axis, d in enumerate(tt.shape.dim):
            if d.HasField("dim_value") and d.dim_value > 0:
                if axis == 0:
                    if batch is not None and d.dim_value != batch:
                        raise ModelError(
                            f"{label}: input {vi.name!r} has a fixed batch of {d.dim_value}, not "
                            f"{batch}; drop --batch or re-export the model with a dynamic batch")
                    found = int(d.dim_value) if found is None else found
                continue
            sym = d.dim_param or "?"
            if axis != 0:
                raise ModelError(f"{label}: input {vi.name!r} has a symbolic dimension {sym!r} at "
                                 f"axis {axis}; only the batch dimension may be symbolic, re-export "
                                 "the model with a fixed input size")
            if batch is None:
                raise ModelError(f"{label}: input {vi.name!r} has a symbolic batch dimension "
                                 f"{sym!r}; pass --batch N (e.g. --batch 1)")
            d.Clear()
            d.dim_value = batch
    if batch is not None:
        return batch
    return found if found is not None else 1


#: Initializers with more elements than this lose their data in :func:`skeleton`.
_SKELETON_MAX_ELEMENTS = 64
#: Integer tensors keep their data: they may be shapes or axes that shape inference reads.
_SKELETON_KEEP_TYPES = frozenset({onnx.TensorProto.INT64, onnx.TensorProto.INT32})


def skeleton(model: onnx.ModelProto) -> onnx.ModelProto:
    """A copy of ``model`` whose large weights keep their name, type and dims but no data.

    Shape inference only needs the dims of weight tensors, so this keeps parsing a model with
    hundreds of MB of weights fast (no copy or re-serialization of the weights).
    """
    skel = onnx.ModelProto()
    skel.ir_version = model.ir_version
    skel.opset_import.extend(model.opset_import)
    skel.functions.extend(model.functions)
    src, dst = model.graph, skel.graph
    dst.name = src.name
    dst.node.extend(src.node)
    dst.input.extend(src.input)
    dst.output.extend(src.output)
    dst.value_info.extend(src.value_info)
    dst.sparse_initializer.extend(src.sparse_initializer)
    for t in src.initializer:
        if t.data_type in _SKELETON_KEEP_TYPES or _elements(t) <= _SKELETON_MAX_ELEMENTS:
            dst.initializer.append(t)
        else:
            dst.initializer.add(name=t.name, data_type=t.data_type, dims=t.dims)
    return skel


def _elements(t: onnx.TensorProto) -> int:
    n = 1
    for d in t.dims:
        n *= int(d)
    return n


def infer_shapes(model: onnx.ModelProto, label: str) -> tuple[onnx.ModelProto, str | None]:
    """Runs strict ONNX shape inference (with data propagation), relaxed if strict mode fails.

    Returns:
        The model with inferred shapes, and ``None`` or, when strict mode rejected the model,
        the reason (the caller then checks every layer shape with onnxruntime).

    Raises:
        ModelError: shape inference fails even in relaxed mode.
    """
    try:
        return onnx.shape_inference.infer_shapes(model, check_type=False, strict_mode=True,
                                                 data_prop=True), None
    except onnx.shape_inference.InferenceError as exc:
        problem = first_line(exc)
    except Exception as exc:  # onnx raises a few other types for malformed graphs
        raise ModelError(f"{label}: shape inference failed ({first_line(exc)}); check the model "
                         "with onnx.checker.check_model and re-export it") from None
    try:
        relaxed = onnx.shape_inference.infer_shapes(model, check_type=False, strict_mode=False,
                                                    data_prop=True)
    except Exception:
        raise ModelError(f"{label}: inconsistent shapes ({problem}); fix or re-export the "
                         "model") from None
    return relaxed, problem


_ORT_TYPES = {
    "tensor(float)": np.float32, "tensor(double)": np.float64, "tensor(float16)": np.float16,
    "tensor(int64)": np.int64, "tensor(int32)": np.int32, "tensor(int8)": np.int8,
    "tensor(uint8)": np.uint8, "tensor(bool)": np.bool_, "tensor(int16)": np.int16,
}


def materialize_shapes(model: onnx.ModelProto, names: list[str], info: Mapping[str, TensorInfo],
                       label: str, base_dir: str | None) -> dict[str, tuple[int, ...]]:
    """Runs the model in onnxruntime on zero inputs to get the shapes of ``names``.

    Args:
        model: a full copy of the model with its batch fixed (changed in place).
        names: tensors whose shapes are wanted.
        info: what is known of the tensors (element types).
        label: the model's name in error messages.
        base_dir: folder of the model file, for external tensor data.

    Raises:
        ModelError: onnxruntime cannot run the model, or an input shape is not fixed.
    """
    import onnxruntime as ort  # only needed on this path

    m = model
    if external_locations(m):
        check_external_data(m, base_dir, label)  # never read a file outside the model's folder
        try:
            onnx.external_data_helper.load_external_data_for_model(m, base_dir)
        except Exception as exc:  # truncated file, bad offset/length, refused by onnx itself
            raise ModelError(f"{label}: cannot read its external tensor data ({first_line(exc)}); "
                             "check the data files next to the model") from None
    # Keep only the nodes the wanted tensors depend on, and make those tensors the outputs.
    wanted, keep = set(names), []
    for node in reversed(m.graph.node):
        if any(o in wanted for o in node.output):
            keep.append(node)
            wanted.update(t for t in node.input if t)
    del m.graph.node[:]
    m.graph.node.extend(reversed(keep))
    del m.graph.output[:]
    for n in names:
        elem = info[n].elem_type if n in info and info[n].elem_type else onnx.TensorProto.FLOAT
        m.graph.output.append(onnx.helper.make_tensor_value_info(n, elem, None))
    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 4
    try:
        sess = ort.InferenceSession(m.SerializeToString(), opts, providers=["CPUExecutionProvider"])
        feeds = {}
        for inp in sess.get_inputs():
            shape = inp.shape
            if not all(isinstance(d, int) and d >= 0 for d in shape):
                raise ModelError(f"{label}: input {inp.name!r} has shape {shape}, which is not fixed; "
                                 "declare a static shape for it in the model")
            feeds[inp.name] = np.zeros(shape, dtype=_ORT_TYPES.get(inp.type, np.float32))
        outs = sess.run(names, feeds)
    except ModelError:
        raise
    except Exception as exc:
        raise ModelError(f"{label}: the shapes of {len(names)} tensor(s) (e.g. {names[0]!r}) cannot "
                         f"be inferred and onnxruntime cannot run the model ({first_line(exc)}); "
                         "re-export it with static shapes (or run onnxsim on it)") from None
    logger.info("%s: materialised %d tensor shapes with onnxruntime", label, len(names))
    return {n: tuple(int(d) for d in np.shape(o)) for n, o in zip(names, outs)}
