"""The layer value the scheduler works on.

The eight loop parameters (names are used identically in the C structs, target files,
schedules and reports):

* ``K`` output channels, total over all groups
* ``B`` batch
* ``P`` output height
* ``Q`` output width
* ``C`` input channels, total over all groups
* ``R`` weight (kernel) height
* ``S`` weight (kernel) width
* ``G`` groups (``G == C`` for depthwise convolution)

Scheduling-table columns K and C hold factors of ``K/G`` and ``C/G`` (per group), see
:meth:`Layer.per_group`.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Mapping

from .errors import LayerError, short_repr

#: Column order of a scheduling table.
PARAMS: tuple[str, ...] = ("K", "B", "P", "Q", "C", "R", "S", "G")
#: Largest loop parameter (the cost model needs the loop-nest volume below 2^52 anyway).
MAX_PARAM: int = 1 << 52
#: Largest stride or dilation (the cost model's bound).
MAX_STRIDE: int = 1 << 20


@dataclass(frozen=True)
class Layer:
    """One convolution or fully connected layer.

    Attributes:
        name: layer name (ONNX node name where it came from a model).
        K, B, P, Q, C, R, S, G: the loop parameters (see module doc); K and C are totals.
        stride_h, stride_w: strides along height and width. 0 is accepted (the reference's FC
            convention) and only matters for the input-tile size.
        dilation_h, dilation_w: kernel dilations (input height = (P-1)*stride_h + (R-1)*dilation_h + 1).
        op: the operator it came from (``Conv``, ``Gemm``, ``MatMul``, ``Attention``, ``LSTM``, ...,
            or ``layer`` when given by hand).
        repeat: how many times the layer runs back to back with the same shape (e.g. the recurrent
            projection of an LSTM runs once per time step). It is not part of the
            :meth:`signature`: one schedule serves every run, and :attr:`macs`, the network's
            energy and cycles count it ``repeat`` times.
    """

    name: str
    K: int
    B: int
    P: int
    Q: int
    C: int
    R: int
    S: int
    G: int = 1
    stride_h: int = 1
    stride_w: int = 1
    dilation_h: int = 1
    dilation_w: int = 1
    op: str = "layer"
    repeat: int = 1

    def __post_init__(self) -> None:
        problems = []
        for p in PARAMS:
            v = getattr(self, p)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                problems.append(f"{p}={short_repr(v)} must be a positive integer")
            elif v > MAX_PARAM:
                problems.append(f"{p}={short_repr(v)} is larger than the largest supported size 2^52")
        for p in ("stride_h", "stride_w"):
            v = getattr(self, p)
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                problems.append(f"{p}={short_repr(v)} must be an integer >= 0")
            elif v > MAX_STRIDE:
                problems.append(f"{p}={short_repr(v)} is larger than the largest supported stride 2^20")
        if isinstance(self.repeat, bool) or not isinstance(self.repeat, int) or self.repeat < 1:
            problems.append(f"repeat={short_repr(self.repeat)} must be a positive integer")
        for p in ("dilation_h", "dilation_w"):
            v = getattr(self, p)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                problems.append(f"{p}={short_repr(v)} must be an integer >= 1")
            elif v > MAX_STRIDE:
                problems.append(f"{p}={short_repr(v)} is larger than the largest supported dilation 2^20")
        if not problems:
            if self.K % self.G:
                problems.append(f"K={self.K} is not divisible by G={self.G}")
            if self.C % self.G:
                problems.append(f"C={self.C} is not divisible by G={self.G}")
        if problems:
            raise LayerError(f"layer {self.name!r}: " + "; ".join(problems))

    @property
    def stride(self) -> int:
        """The single stride of the reference model (only meaningful when both are equal)."""
        return self.stride_h

    def per_group(self) -> tuple[int, ...]:
        """Column products a scheduling table must have: (K/G, B, P, Q, C/G, R, S, G)."""
        return (self.K // self.G, self.B, self.P, self.Q, self.C // self.G, self.R, self.S, self.G)

    @property
    def macs(self) -> int:
        """Multiply-accumulate operations of the layer, every repeat included."""
        return self.instance_macs * self.repeat

    @property
    def instance_macs(self) -> int:
        """Multiply-accumulate operations of one run of the layer (``macs / repeat``)."""
        return self.K * self.B * self.P * self.Q * (self.C // self.G) * self.R * self.S

    def signature(self) -> tuple[int, ...]:
        """Everything that determines the layer's schedule (name and op excluded)."""
        return (self.K, self.B, self.P, self.Q, self.C, self.R, self.S, self.G,
                self.stride_h, self.stride_w, self.dilation_h, self.dilation_w)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        if self.repeat == 1:  # the form every layer had before repeats existed
            del d["repeat"]
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Layer":
        """Accepts this class's own dict form and the golden-vector form (single ``stride``)."""
        known = {"name", "K", "B", "P", "Q", "C", "R", "S", "G", "stride", "stride_h", "stride_w",
                 "dilation_h", "dilation_w", "dilation", "op", "repeat"}
        unknown = sorted(set(d) - known)
        if unknown:
            raise LayerError(f"layer: unknown keys {unknown}; accepted keys are {sorted(known)}")
        missing = [p for p in PARAMS if p not in d and p != "G"]
        if missing:
            raise LayerError(f"layer {d.get('name', '?')!r}: missing {missing}")
        stride = d.get("stride", 1)
        dil = d.get("dilation", 1)
        return cls(
            name=str(d.get("name", "layer")),
            K=d["K"], B=d["B"], P=d["P"], Q=d["Q"], C=d["C"], R=d["R"], S=d["S"], G=d.get("G", 1),
            stride_h=d.get("stride_h", stride), stride_w=d.get("stride_w", stride),
            dilation_h=d.get("dilation_h", dil), dilation_w=d.get("dilation_w", dil),
            op=str(d.get("op", "layer")), repeat=d.get("repeat", 1),
        )
