"""A real export: torch's TorchScript exporter (Identity weights, unfused BN, Shape/Gather/Reshape
flatten, ReduceMean, dynamic batch) goes through the frontend with exact parameters."""
from __future__ import annotations

import io
import warnings

import onnx
import pytest

from rlsched_compile import Layer
from rlsched_compile.errors import ModelError
from rlsched_compile.frontend import load_network

torch = pytest.importorskip("torch")


class _Net(torch.nn.Module):  # type: ignore[misc,name-defined]
    def __init__(self) -> None:
        super().__init__()
        self.c1 = torch.nn.Conv2d(3, 8, (1, 7), stride=(2, 1), padding=(0, 3))
        self.bn = torch.nn.BatchNorm2d(8)
        self.dw = torch.nn.Conv2d(8, 8, 3, groups=8, dilation=2, padding=2)
        self.fc = torch.nn.Linear(8, 5)

    def forward(self, x):  # type: ignore[no-untyped-def]
        x = torch.relu(self.bn(self.c1(x)))
        x = self.dw(x).mean(dim=(2, 3))
        return self.fc(x.view(x.size(0), -1))


@pytest.mark.parametrize("opset", [9, 13, 17])
def test_torchscript_export(opset: int) -> None:
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(_Net().eval(), torch.zeros(1, 3, 16, 20), buf, opset_version=opset,
                          dynamo=False, input_names=["x"], dynamic_axes={"x": {0: "N"}},
                          do_constant_folding=False)
    model = onnx.load_from_string(buf.getvalue())
    with pytest.raises(ModelError, match="symbolic batch dimension 'N'; pass --batch N"):
        load_network(model)
    net = load_network(model, batch=2)
    assert net.layers == (
        Layer(name="/c1/Conv", K=8, B=2, P=8, Q=20, C=3, R=1, S=7, stride_h=2, stride_w=1,
              op="Conv"),
        Layer(name="/dw/Conv", K=8, B=2, P=8, Q=20, C=8, R=3, S=3, G=8, dilation_h=2,
              dilation_w=2, op="Conv"),
        Layer(name="/fc/Gemm", K=5, B=2, P=1, Q=1, C=8, R=1, S=1, op="Gemm"),
    )
    assert net.unsupported == ()
