"""The cost of the operators between the scheduled layers.

Pooling, activations, elementwise arithmetic, softmax,
normalisation, Resize, Concat/Split/Transpose/Gather/Reshape and every other operator of
:attr:`Network.graph` that is neither a scheduled layer nor a skipped MAC-bearing operator gets an
explicit cost (:func:`cost_other_operators`), computed from the graph's shapes and the target:

* **Traffic.** Each operator reads its data inputs (the graph's edges into it), its constant
  parameters (``param_elements``; a ``Gather`` reads only the rows it gathers, at most its output
  size) and writes its outputs (``output_shapes``), once each. Elements are counted at the
  target's precision, as the layer cost model does. Each tensor *lives* in the global buffer when
  it fits there (its size at ``precision_bits // 8`` bytes per element is at most the capacity of
  one global buffer: the sum of the per-type sizes, or the shared plus dedicated size), otherwise
  in DRAM; targets without a global buffer keep everything in DRAM. Reads are charged at the
  level's ``input`` access energy, parameter reads at ``weight``, writes at ``output``.
  Cycles per level follow the layer model (spec §7): ``ceil(elements / (bandwidth /
  precision)) x access_cycles`` per type, combined as a sum for a shared global buffer and for
  DRAM, and as the maximum for a global buffer with separate per-type capacities.
* **Vector unit.** Arithmetic runs on the target's vector unit: ``ops`` element operations per
  :data:`OP_RULES` below take ``ceil(ops / ops_per_cycle)`` cycles and ``ops x
  energy_per_op_pj`` pJ. Both figures come from the target's optional ``vector_unit`` section;
  the defaults are one operation per PE of every chip per cycle and ``mac_energy_pj`` per
  operation (:attr:`Target.vector_ops_per_cycle`, :attr:`Target.vector_energy_per_op_pj`).
* **Latency and leakage.** An operator's cycles are its vector cycles plus its memory cycles
  (fully serialized, as the layer model's spec Q12); static energy is the target's leakage per
  cycle (the same instances the layer model charges, spec §6 and Q13) times those cycles.

Operators whose output shapes are unknown are not costed; they are listed as ``uncosted``.
Graph inputs/outputs cost nothing themselves (the operators reading or writing them pay).

Vector operations per operator type (:data:`OP_RULES`; ``basis`` says what ``per`` multiplies):

=================================================  =====  ============================================
operators                                          per    basis
=================================================  =====  ============================================
Reshape, Flatten, (Un)Squeeze, Identity, Transpose    0   data movement only (traffic is still charged)
Concat, Split, Slice, Gather*, Expand, Tile, Pad, ...
Relu, Abs, Neg, Exp, Log, Sqrt, Tanh, Erf, Sign, ...  1   per output element (a transcendental = 1 op)
Add, Sub, Mul, Div, Pow, Where, comparisons, ...      1   per output element
LeakyRelu, PRelu, Clip, BatchNormalization,           2   per output element
QuantizeLinear, DequantizeLinear
Sigmoid, HardSigmoid, Softplus, Softsign, Elu, ...    3   per output element
HardSwish                                             4   per output element
Gelu, Mish                                            5   per output element
Softmax, LogSoftmax                                   5   per output element (max, subtract, exp, sum,
                                                          divide)
LayerNormalization, InstanceNormalization,            7   per output element (mean, subtract, square,
GroupNormalization                                        sum, normalise, scale, shift)
RMSNormalization, SimplifiedLayerNormalization        4   per output element
MaxPool, AveragePool, LpPool                          1   per window element per output element
GlobalAveragePool, GlobalMaxPool, ReduceSum/Mean/...  1   per input element
Sum, Max, Min, Mean (variadic)                        1   per input element beyond the output's
Resize, Upsample                                      4   per output element (bilinear taps)
any other operator                                    1   per output element
=================================================  =====  ============================================
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterable, Mapping

from .targets.model import DATA_TYPES, Target, TemporalLevel

if TYPE_CHECKING:  # networkx comes with the frontend
    from .network import Network

logger = logging.getLogger(__name__)

#: Memory levels an operator's tensors can live in.
OPERATOR_LEVELS: tuple[str, ...] = ("global_buffer", "dram")
#: Energy parts of an operator's cost, in report order.
ENERGY_PARTS: tuple[str, ...] = ("vector_energy", "gb_energy", "dram_energy", "static_energy")


@dataclass(frozen=True)
class OpRule:
    """How many vector operations an operator type performs.

    Attributes:
        per: operations per basis element.
        basis: ``output`` (output elements), ``input`` (data-input elements), ``window``
            (pooling window elements x output elements; the input elements when the window is
            unknown) or ``reduce`` (input elements beyond the output's: ``in - out``).
    """

    per: float
    basis: str


_MOVE = OpRule(0, "output")
_OUT1, _OUT2, _OUT3 = OpRule(1, "output"), OpRule(2, "output"), OpRule(3, "output")


def _rules(rule: OpRule, names: Iterable[str]) -> dict[str, OpRule]:
    return {n: rule for n in names}


#: Vector operations per operator type (see the module docstring's table).
OP_RULES: dict[str, OpRule] = {
    **_rules(_MOVE, (
        "Reshape", "Flatten", "Squeeze", "Unsqueeze", "Identity", "Transpose", "Concat", "Split",
        "Slice", "Gather", "GatherElements", "GatherND", "Expand", "Tile", "Pad", "DepthToSpace",
        "SpaceToDepth", "Cast", "CastLike", "Shape", "Size", "ConstantOfShape", "Range",
        "Dropout", "ScatterND", "ScatterElements", "Compress", "ReverseSequence", "Trilu",
        "OneHot", "NonZero", "SplitToSequence", "ConcatFromSequence")),
    **_rules(_OUT1, (
        "Relu", "Abs", "Neg", "Exp", "Log", "Sqrt", "Reciprocal", "Tanh", "Erf", "Sign", "Floor",
        "Ceil", "Round", "Sin", "Cos", "Tan", "Asin", "Acos", "Atan", "Sinh", "Cosh", "Not",
        "IsNaN", "IsInf", "ThresholdedRelu", "Add", "Sub", "Mul", "Div", "Pow", "Mod", "And",
        "Or", "Xor", "Equal", "Greater", "Less", "GreaterOrEqual", "LessOrEqual", "Where",
        "BitShift", "CumSum")),
    **_rules(_OUT2, ("LeakyRelu", "PRelu", "Clip", "BatchNormalization", "QuantizeLinear",
                     "DequantizeLinear")),
    **_rules(_OUT3, ("Sigmoid", "HardSigmoid", "Softplus", "Softsign", "Elu", "Selu", "Celu",
                     "LpNormalization", "Shrink")),
    "HardSwish": OpRule(4, "output"),
    "Gelu": OpRule(5, "output"), "Mish": OpRule(5, "output"), "FastGelu": OpRule(5, "output"),
    "Softmax": OpRule(5, "output"), "LogSoftmax": OpRule(5, "output"),
    **_rules(OpRule(7, "output"), ("LayerNormalization", "InstanceNormalization",
                                   "GroupNormalization", "SkipLayerNormalization", "LRN",
                                   "MeanVarianceNormalization")),
    **_rules(OpRule(4, "output"), ("RMSNormalization", "SimplifiedLayerNormalization",
                                   "SkipSimplifiedLayerNormalization")),
    **_rules(OpRule(1, "window"), ("MaxPool", "AveragePool", "LpPool", "MaxRoiPool")),
    **_rules(OpRule(1, "input"), (
        "GlobalAveragePool", "GlobalMaxPool", "GlobalLpPool", "ReduceSum", "ReduceMean",
        "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2", "ReduceLogSum",
        "ReduceLogSumExp", "ReduceSumSquare", "ArgMax", "ArgMin", "TopK")),
    **_rules(OpRule(1, "reduce"), ("Sum", "Max", "Min", "Mean")),
    "Resize": OpRule(4, "output"), "Upsample": OpRule(4, "output"),
}
#: The rule of any operator type not in :data:`OP_RULES`.
DEFAULT_RULE: OpRule = _OUT1
#: Operator types whose constant input is a table read only where gathered.
_GATHERS: frozenset[str] = frozenset({"Gather", "GatherElements", "GatherND"})
#: Graph nodes that are not operators.
_BOUNDARY: frozenset[str] = frozenset({"Input", "Output"})


# ---- the target's figures ------------------------------------------------------------------

def static_power_pj_per_cycle(target: Target) -> float:
    """Leakage of the whole target per clock cycle, pJ: every MAC unit, every PE's local buffer,
    every chip's global buffer and DRAM (spec §6), times the clock period."""
    tau_ns = 1000.0 / target.frequency_mhz
    pes = chips = macs = 1
    if target.chip_array is not None:
        chips = target.chip_array.size
    if target.pe_array is not None:
        pes = target.pe_array.size
    if target.mac_array is not None:
        macs = target.mac_array.size
    mw = target.mac_static_power_mw * macs * pes * chips
    mw += sum(target.local_buffer.static_power_mw.as_tuple()) * pes * chips
    if target.global_buffer is not None:
        mw += sum(target.global_buffer.static_power_mw.as_tuple()) * chips
    mw += sum(target.dram.static_power_mw.as_tuple())
    return mw * tau_ns


def global_buffer_bytes(target: Target) -> int:
    """Capacity of one global buffer in bytes (0 without one): the per-type sizes added up, or
    the shared plus dedicated size."""
    gb = target.global_buffer
    if gb is None or gb.capacity is None:
        return 0
    cap = gb.capacity
    if cap.form == "separate" and cap.per_type_bytes is not None:
        return int(sum(cap.per_type_bytes.as_tuple()))
    return int((cap.shared_bytes or 0) + (cap.dedicated_bytes or 0))


# ---- costs ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class OperatorCost:
    """The cost of one operator between layers (or a sum of several).

    Attributes:
        vector_ops: element operations on the vector unit.
        traffic_elements: ``{level: {data type: elements}}`` moved at ``global_buffer`` and
            ``dram`` (``input``: data reads, ``weight``: parameter reads, ``output``: writes).
        energy_by_part_pj: ``vector_energy``, ``gb_energy``, ``dram_energy``, ``static_energy``.
        vector_cycles: cycles on the vector unit.
        memory_cycles: cycles of the global-buffer and DRAM transfers.
    """

    vector_ops: float
    traffic_elements: dict[str, dict[str, float]]
    energy_by_part_pj: dict[str, float]
    vector_cycles: float
    memory_cycles: float

    @property
    def cycles(self) -> float:
        """Vector plus memory cycles (serialized)."""
        return self.vector_cycles + self.memory_cycles

    @property
    def energy_pj(self) -> float:
        """Dynamic plus static energy, pJ."""
        return sum(self.energy_by_part_pj.values())

    @property
    def static_energy_pj(self) -> float:
        return self.energy_by_part_pj["static_energy"]

    @property
    def dynamic_energy_pj(self) -> float:
        return self.energy_pj - self.static_energy_pj

    def to_dict(self, precision_bits: int) -> dict[str, Any]:
        """Plain data: the figures above plus the traffic in bytes per level."""
        bpe = precision_bits / 8
        return {
            "vector_ops": self.vector_ops,
            "energy_pj": _r(self.energy_pj), "dynamic_energy_pj": _r(self.dynamic_energy_pj),
            "static_energy_pj": _r(self.static_energy_pj),
            "energy_by_part_pj": {k: _r(v) for k, v in self.energy_by_part_pj.items()},
            "cycles": _r(self.cycles), "vector_cycles": _r(self.vector_cycles),
            "memory_cycles": _r(self.memory_cycles),
            "traffic_bytes": {lv: _r(sum(parts.values()) * bpe)
                              for lv, parts in self.traffic_elements.items()},
        }


def _r(x: float) -> float:
    """12 significant digits (sums stay reproducible; only noise digits are trimmed)."""
    return float(f"{x:.12g}")


def _zero_traffic() -> dict[str, dict[str, float]]:
    return {lv: {t: 0.0 for t in DATA_TYPES} for lv in OPERATOR_LEVELS}


def _add(costs: Iterable[OperatorCost]) -> OperatorCost:
    ops = vc = mc = 0.0
    traffic = _zero_traffic()
    energy = {k: 0.0 for k in ENERGY_PARTS}
    for c in costs:
        ops += c.vector_ops
        vc += c.vector_cycles
        mc += c.memory_cycles
        for lv, parts in c.traffic_elements.items():
            for t, n in parts.items():
                traffic[lv][t] += n
        for k, e in c.energy_by_part_pj.items():
            energy[k] += e
    return OperatorCost(ops, traffic, energy, vc, mc)


@dataclass(frozen=True)
class OperatorTypeCost:
    """The operators of one type.

    Attributes:
        op_type: ONNX operator type.
        count: how many operators of that type were costed.
        cost: their summed cost.
    """

    op_type: str
    count: int
    cost: OperatorCost


@dataclass(frozen=True)
class OtherOperators:
    """The cost of every operator between the scheduled layers.

    Attributes:
        by_op_type: one entry per operator type, in order of first appearance in the graph.
        total: the sum over every costed operator.
        uncosted: ``{op type: count}`` of operators left out because their shapes are unknown.
        ops_per_cycle, energy_per_op_pj: the vector-unit figures used.
        vector_unit_declared: whether the target declares a ``vector_unit`` section.
        global_buffer_bytes: the capacity below which a tensor lives in the global buffer.
        static_power_pj_per_cycle: the target's leakage per cycle.
    """

    by_op_type: tuple[OperatorTypeCost, ...]
    total: OperatorCost
    uncosted: Mapping[str, int]
    ops_per_cycle: float
    energy_per_op_pj: float
    vector_unit_declared: bool
    global_buffer_bytes: int
    static_power_pj_per_cycle: float
    precision_bits: int = field(default=16)

    @property
    def count(self) -> int:
        """Operators costed."""
        return sum(t.count for t in self.by_op_type)

    def to_dict(self) -> dict[str, Any]:
        """The ``other_operators`` object of ``report.json``."""
        return {
            "model": {"ops_per_cycle": self.ops_per_cycle, "energy_per_op_pj": self.energy_per_op_pj,
                      "vector_unit_declared": self.vector_unit_declared,
                      "global_buffer_bytes": self.global_buffer_bytes,
                      "static_power_pj_per_cycle": _r(self.static_power_pj_per_cycle)},
            "count": self.count,
            "total": self.total.to_dict(self.precision_bits),
            "by_op_type": [{"op_type": t.op_type, "count": t.count, **t.cost.to_dict(self.precision_bits)}
                           for t in self.by_op_type],
            "uncosted": dict(self.uncosted),
        }


def _vector_ops(rule: OpRule, in_elems: int, out_elems: int, window: int | None) -> float:
    if rule.basis == "output":
        return rule.per * out_elems
    if rule.basis == "input":
        return rule.per * in_elems
    if rule.basis == "window":
        return rule.per * (window * out_elems if window else in_elems)
    return rule.per * max(in_elems - out_elems, 0)


def _level_cycles(level: TemporalLevel, elements: Mapping[str, float], precision_bits: int, *,
                  combine_max: bool) -> float:
    per_beat = level.bandwidth_bits_per_cycle / precision_bits
    parts = [math.ceil(elements[t] / per_beat) * getattr(level.access_cycles, t) if elements[t] else 0.0
             for t in DATA_TYPES]
    return float(max(parts) if combine_max else sum(parts))


def operator_cost(target: Target, *, op_type: str, input_elements: Iterable[int],
                  output_elements: Iterable[int], param_elements: int = 0,
                  window: int | None = None) -> OperatorCost:
    """The cost of one operator between layers (see the module docstring).

    Args:
        target: the target.
        op_type: ONNX operator type (decides the vector operations, :data:`OP_RULES`).
        input_elements: elements of each data-input tensor group (one per graph edge).
        output_elements: elements of each output tensor.
        param_elements: elements of its constant parameters.
        window: elements of its pooling window, if it has one.
    """
    ins, outs = [int(n) for n in input_elements], [int(n) for n in output_elements]
    bpe = target.precision_bits // 8
    gb_cap = global_buffer_bytes(target)
    if op_type in _GATHERS:
        param_elements = min(param_elements, sum(outs))
    traffic = _zero_traffic()

    def place(elements: int, dtype: str) -> None:
        if elements:
            level = "global_buffer" if elements * bpe <= gb_cap else "dram"
            traffic[level][dtype] += elements

    for n in ins:
        place(n, "input")
    place(param_elements, "weight")
    for n in outs:
        place(n, "output")
    rule = OP_RULES.get(op_type, DEFAULT_RULE)
    ops = _vector_ops(rule, sum(ins), sum(outs), window)
    vector_cycles = float(math.ceil(ops / target.vector_ops_per_cycle)) if ops else 0.0
    energy = {k: 0.0 for k in ENERGY_PARTS}
    energy["vector_energy"] = ops * target.vector_energy_per_op_pj
    memory_cycles = 0.0
    for level_name, key in (("global_buffer", "gb_energy"), ("dram", "dram_energy")):
        level: TemporalLevel | None = getattr(target, level_name)
        if level is None:
            continue
        counts = traffic[level_name]
        energy[key] = sum(counts[t] * getattr(level.access_energy_pj, t) for t in DATA_TYPES)
        separate = level_name == "global_buffer" and level.capacity is not None \
            and level.capacity.form == "separate"
        memory_cycles += _level_cycles(level, counts, target.precision_bits, combine_max=separate)
    energy["static_energy"] = static_power_pj_per_cycle(target) * (vector_cycles + memory_cycles)
    return OperatorCost(ops, traffic, energy, vector_cycles, memory_cycles)


def _skipped_mac_nodes(network: Network) -> set[str]:
    """Nodes of the operators that hold MACs but are not scheduled (the coverage's business, not
    vector work): every :attr:`Network.unsupported` entry whose MACs are unknown or > 0."""
    return {n for u in network.unsupported if getattr(u, "macs", None) != 0 for n in u.nodes}


def cost_other_operators(network: Network, target: Target) -> OtherOperators:
    """Cost every operator of ``network.graph`` that is neither a scheduled layer nor a skipped
    MAC-bearing operator, in graph order.

    Args:
        network: the model (its operator graph gives shapes, edges and parameters).
        target: the target (levels, energies, bandwidths, vector unit).

    Returns:
        Per operator type and total costs, and the operators left uncosted.
    """
    g = network.graph
    skipped = _skipped_mac_nodes(network)
    per_type: dict[str, list[OperatorCost]] = {}
    uncosted: dict[str, int] = {}
    for node, data in g.nodes(data=True):
        op_type = data.get("op_type")
        if op_type in _BOUNDARY or data.get("layer_index") is not None or node in skipped:
            continue
        outs = [math.prod(s) for s in data.get("output_shapes", ()) if s is not None]
        ins = [g.edges[u, node].get("elements") for u in g.predecessors(node)]
        if not outs or any(n is None for n in ins):
            uncosted[op_type] = uncosted.get(op_type, 0) + 1
            continue
        cost = operator_cost(target, op_type=op_type, input_elements=ins, output_elements=outs,
                             param_elements=int(data.get("param_elements") or 0),
                             window=data.get("window"))
        per_type.setdefault(op_type, []).append(cost)
    if uncosted:
        logger.info("%s: %d operators between layers have unknown shapes and are not costed (%s)",
                    network.name, sum(uncosted.values()),
                    ", ".join(f"{k} x{v}" for k, v in uncosted.items()))
    by_type = tuple(OperatorTypeCost(op, len(cs), _add(cs)) for op, cs in per_type.items())
    return OtherOperators(
        by_op_type=by_type, total=_add(t.cost for t in by_type), uncosted=uncosted,
        ops_per_cycle=target.vector_ops_per_cycle, energy_per_op_pj=target.vector_energy_per_op_pj,
        vector_unit_declared=target.vector_unit is not None,
        global_buffer_bytes=global_buffer_bytes(target),
        static_power_pj_per_cycle=static_power_pj_per_cycle(target),
        precision_bits=target.precision_bits)
