"""The objective: one parse with one message, its figure (agreeing with the C library's), its C
code, its comparison rule, and names that serialize as before."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

from rlsched_compile import api
from rlsched_compile.errors import RlschedError
from rlsched_compile.native._rls import ffi, lib
from rlsched_compile.native.costmodel import OBJECTIVE_CODES, evaluate_batch, evaluate_table
from rlsched_compile.objective import DEFAULT_OBJECTIVE, OBJECTIVE_NAMES, OBJECTIVES, Objective
from rlsched_compile.rl.mdp import paper_start_table, static_features
from rlsched_compile.search import schedule_layer
from rlsched_compile.layer import Layer
from rlsched_compile.targets import load_target

LAYER = Layer("l", K=16, B=1, P=7, Q=7, C=16, R=3, S=3)


def test_names_order_and_default() -> None:
    assert OBJECTIVE_NAMES == ("energy", "cycles", "edp") and OBJECTIVES == tuple(Objective)
    assert DEFAULT_OBJECTIVE is Objective.ENERGY
    assert [o.metric for o in OBJECTIVES] == ["energy_pj", "cycles", "edp"]


@pytest.mark.parametrize("name", ["energy", "cycles", "edp"])
def test_an_objective_reads_and_writes_as_its_name(name: str) -> None:
    o = Objective.parse(name)
    assert Objective.parse(o) is o and o == name and hash(o) == hash(name)
    assert str(o) == f"{o}" == f"{o:>0}" == "%s" % o == name
    assert json.dumps({"objective": o}, sort_keys=True) == json.dumps({"objective": name}, sort_keys=True)
    assert json.dumps([o], indent=1) == json.dumps([name], indent=1)


@pytest.mark.parametrize("bad, message", [
    ("latency", "unknown objective 'latency': use one of energy, cycles, edp"),
    ("enrgy", "unknown objective 'enrgy': use one of energy, cycles, edp (did you mean 'energy'?)"),
    ("EDP", "unknown objective 'EDP': use one of energy, cycles, edp"),
    (None, "unknown objective None: use one of energy, cycles, edp"),
])
def test_one_message_for_a_bad_name_everywhere(bad: object, message: str) -> None:
    with pytest.raises(RlschedError) as parsed:
        Objective.parse(bad)  # type: ignore[arg-type]
    assert str(parsed.value) == message
    target = load_target("eyeriss")
    with pytest.raises(RlschedError) as scheduled:
        schedule_layer(target, LAYER, objective=bad)  # type: ignore[arg-type]
    with pytest.raises(RlschedError) as compiled:
        api.compile_model("missing.onnx", target, objective=bad)  # type: ignore[arg-type]
    assert str(scheduled.value) == str(compiled.value) == message


def test_measure_is_the_c_librarys_objective_value() -> None:
    target = load_target("eyeriss")
    ev = evaluate_table(target, LAYER, paper_start_table(LAYER))
    s = ffi.new("rls_summary *", {"valid": 1, "reason": 0, "energy_pj": ev.energy_pj, "cycles": ev.cycles})
    for o in OBJECTIVES:
        assert lib.rls_objective_value(s, OBJECTIVE_CODES[o]) == o.measure(ev.energy_pj, ev.cycles) == ev.objective(o)
    assert Objective.EDP.measure(ev.energy_pj, ev.cycles) == ev.energy_pj * ev.cycles == ev.edp
    batch = evaluate_batch(target, LAYER, np.stack([paper_start_table(LAYER)] * 2))
    assert np.array_equal(Objective.EDP.measure(batch.energy_pj, batch.cycles), batch.energy_pj * batch.cycles)
    assert set(OBJECTIVE_CODES) == set(OBJECTIVES) and len(set(OBJECTIVE_CODES.values())) == 3


def test_ties_keep_the_incumbent() -> None:
    assert Objective.improves(1.0, 2.0) and not Objective.improves(2.0, 2.0) and not Objective.improves(3.0, 2.0)
    assert not Objective.improves(math.inf, math.inf)


def test_the_agents_objective_feature_keeps_the_trained_layout() -> None:
    target = load_target("eyeriss")
    assert [Objective(n).one_hot() for n in ("energy", "cycles", "edp")] == [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0],
                                                                             [0.0, 0.0, 1.0]]
    for o in OBJECTIVES:
        assert np.array_equal(static_features(target, LAYER, o), static_features(target, LAYER, o.value))
        assert static_features(target, LAYER, o)[-3:].tolist() == o.one_hot()
