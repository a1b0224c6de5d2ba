"""``MODEL.scheduled.onnx``: the input model with every scheduled node annotated.

Each scheduled node gets ``metadata_props`` entries (all values are strings):

* ``rlsched.schedule``: compact JSON ``{"target", "target_sha256", "objective", "strategy",
  "columns", "rows", "table", "dataflows", "loop_nest"}``;
* ``rlsched.energy_pj``, ``rlsched.cycles``: the layer's cost (``repr`` of the float);
* ``rlsched.schedule_file``: the schedule file, relative to the output directory.

A node that became several layers (attention, LSTM, a transposed convolution's phases) or one
layer that runs several times (``repeat``) gets instead ``rlsched.layers``: a compact JSON list
with one ``{"layer", "repeat", "schedule", "energy_pj", "cycles", "schedule_file"}`` per layer
(cost of one run), and ``rlsched.energy_pj`` / ``rlsched.cycles`` summed over every run.

The model gets ``rlsched.version``, ``rlsched.target``, ``rlsched.target_sha256``,
``rlsched.objective``, ``rlsched.energy_pj`` and ``rlsched.cycles`` (network totals) in its own
``metadata_props``. Nothing else in the model changes, so it still passes ``onnx.checker``.
"""
from __future__ import annotations

import json
import logging
from typing import Any, Mapping, Sequence

import onnx

from .._version import __version__
from ..layer import PARAMS
from ..table import ROW_NAMES
from ..targets.model import Target
from .schedule import LayerSchedule, dataflows, file_stem, loop_nest, target_sha256

logger = logging.getLogger(__name__)

PREFIX = "rlsched."


def _set(props: Any, key: str, value: str) -> None:
    """Set a StringStringEntryProto list entry, replacing an existing one with the same key."""
    for entry in props:
        if entry.key == key:
            entry.value = value
            return
    entry = props.add()
    entry.key, entry.value = key, value


def annotate_model(model: onnx.ModelProto, schedules: Sequence[LayerSchedule], *, target: Target,
                   node_index: Mapping[str, int], totals_energy_pj: float, totals_cycles: float) -> onnx.ModelProto:
    """A copy of ``model`` with schedule metadata on every scheduled node.

    Args:
        model: the model the network was read from (not modified).
        schedules: the layer schedules; ``layer.name`` is the ONNX node name.
        target: the target scheduled for.
        node_index: layer name -> index in ``model.graph.node`` (from the frontend); names not in
            it are looked up by node name.
        totals_energy_pj, totals_cycles: network totals, stored in the model's metadata.

    Returns:
        The annotated copy.
    """
    out = onnx.ModelProto()
    out.CopyFrom(model)
    nodes = out.graph.node
    by_name = {n.name: i for i, n in enumerate(nodes) if n.name}
    per_node: dict[int, list[LayerSchedule]] = {}
    for s in schedules:
        idx = node_index.get(s.layer.name, by_name.get(s.layer.name))
        if idx is None or idx >= len(nodes):
            logger.debug("layer %s has no node in the model; not annotated", s.layer.name)
            continue
        per_node.setdefault(idx, []).append(s)
    for idx, group in per_node.items():
        props = nodes[idx].metadata_props
        docs = [{"target": target.name, "target_sha256": target_sha256(target), "objective": s.objective.value,
                 "strategy": s.strategy, "columns": list(PARAMS), "rows": list(ROW_NAMES),
                 "table": s.table.to_lists(), "dataflows": dataflows(s.effective_target(target)),
                 "loop_nest": loop_nest(s.effective_target(target), s.table)} for s in group]
        files = [f"schedules/{file_stem(s.index, s.layer.name)}.json" for s in group]
        if len(group) == 1 and group[0].layer.repeat == 1:
            s = group[0]
            _set(props, PREFIX + "schedule", json.dumps(docs[0], separators=(",", ":"), sort_keys=True))
            _set(props, PREFIX + "energy_pj", repr(float(s.energy_pj)))
            _set(props, PREFIX + "cycles", repr(float(s.cycles)))
            _set(props, PREFIX + "schedule_file", files[0])
            continue
        entries = [{"layer": s.layer.name, "repeat": s.layer.repeat, "schedule": doc,
                    "energy_pj": float(s.energy_pj), "cycles": float(s.cycles), "schedule_file": f}
                   for s, doc, f in zip(group, docs, files)]
        _set(props, PREFIX + "layers", json.dumps(entries, separators=(",", ":"), sort_keys=True))
        _set(props, PREFIX + "energy_pj", repr(float(sum(s.energy_pj * s.layer.repeat for s in group))))
        _set(props, PREFIX + "cycles", repr(float(sum(s.cycles * s.layer.repeat for s in group))))
    for key, value in (("version", __version__), ("target", target.name), ("target_sha256", target_sha256(target)),
                       ("objective", str(schedules[0].objective) if schedules else ""),
                       ("energy_pj", repr(float(totals_energy_pj))), ("cycles", repr(float(totals_cycles)))):
        _set(out.metadata_props, PREFIX + key, value)
    return out
