"""Hand-built inputs for the writer tests: the reference bottom-up's ResNet-50 tables on eyeriss
(from ../shared/baselines), evaluated with the real cost model."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import networkx as nx

from rlsched_compile.emit.schedule import LayerSchedule
from rlsched_compile.layer import Layer
from rlsched_compile.native.costmodel import evaluate_table
from rlsched_compile.network import Network
from rlsched_compile.solved import SolvedLayer
from rlsched_compile.targets import load_target
from rlsched_compile.targets.model import Target

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
BASELINE = SHARED / "baselines" / "reference_bottom_up__resnet50__eyeriss__energy.json"


def reference_schedules() -> tuple[Target, Network, list[LayerSchedule]]:
    """Every layer of the reference's ResNet-50 list with the reference's own table."""
    doc = json.loads(BASELINE.read_text())
    target = load_target("eyeriss")
    layers, schedules = [], []
    for i, entry in enumerate(doc["layers"]):
        layer = Layer.from_dict({**entry["layer"], "op": "Conv"})
        table = tuple(tuple(int(v) for v in r["values"]) for r in entry["table"])
        ev = evaluate_table(target, layer, [list(r) for r in table])
        assert ev.valid
        layers.append(layer)
        solved = SolvedLayer(layer=layer, table=table, evaluation=ev, objective="energy", strategy="reference",
                             evaluations=0, finished=True, search_time_s=0.0)
        schedules.append(LayerSchedule(index=i, layer=layer, group=i, solved=solved))
    net = Network(name="resnet50_reference", source=None,
                  sha256=hashlib.sha256(BASELINE.read_bytes()).hexdigest(), batch=1,
                  layers=tuple(layers), graph=nx.DiGraph())
    return target, net, schedules
