"""Targets that declare a set of dataflows per buffer (``dataflow: [WS, OS]``)."""
from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from rlsched_compile import Layer, evaluate_table
from rlsched_compile.errors import TargetError
from rlsched_compile.native import search as native_search
from rlsched_compile.targets import load_target, target_from_dict

# simba in the spec's JSON form: levels[1] local_buffer, levels[3] global_buffer (bypasses weight)
BASE: dict[str, Any] = load_target("simba").to_dict()


def _with(lb: Any = None, gb: Any = None) -> dict[str, Any]:
    d = copy.deepcopy(BASE)
    if lb is not None:
        d["levels"][1]["dataflow"] = lb
    if gb is not None:
        d["levels"][3]["dataflow"] = gb
    return d


def _error(d: dict[str, Any]) -> str:
    with pytest.raises(TargetError) as exc:
        target_from_dict(d)
    return str(exc.value)


def test_a_set_loads_with_its_first_value_in_use() -> None:
    t = target_from_dict(_with(lb=["OS", "WS"], gb=["OS", "IS"]))
    assert t.local_buffer.dataflow == "OS" and t.local_buffer.dataflow_options == ("OS", "WS")
    assert t.global_buffer is not None and t.global_buffer.dataflow == "OS"
    assert t.local_buffer.allowed_dataflows() == ("OS", "WS")
    assert t.dataflow_choice() == ("OS", "OS")
    # the set survives the neutral schema and changes the content hash
    assert target_from_dict(t.to_dict()) == t
    assert t.to_dict()["levels"][1]["dataflow"] == ["OS", "WS"]
    assert t.sha256 != load_target("simba").sha256


def test_a_single_value_keeps_todays_meaning() -> None:
    simba = load_target("simba")
    assert target_from_dict(_with(lb=["WS"])) == simba  # a one-element list is the value itself
    assert simba.local_buffer.dataflow_options is None
    # flexible choices of a single value: IS/WS/OS minus the bypassed stationary type
    assert simba.local_buffer.allowed_dataflows() == ("IS", "WS", "OS")
    assert simba.global_buffer is not None and simba.global_buffer.allowed_dataflows() == ("IS", "OS")


def test_fixed_mode_of_a_set_is_its_first_value() -> None:
    """A target declaring [WS, OS] evaluates and searches exactly like one declaring WS."""
    simba = load_target("simba")
    with_set = target_from_dict(_with(lb=["WS", "OS"]))
    layer = Layer("c", K=64, B=1, P=14, Q=14, C=64, R=3, S=3)
    a = native_search.bottom_up(simba, layer, "energy")
    b = native_search.bottom_up(with_set, layer, "energy")
    assert np.array_equal(a.table, b.table) and a.energy_pj == b.energy_pj
    assert evaluate_table(simba, layer, a.table) == evaluate_table(with_set, layer, a.table)


@pytest.mark.parametrize("gb, member", [(["OS", "WS"], "WS"), (["WS"], "WS")])
def test_a_set_with_a_bypassed_stationary_type_is_refused(gb: list[str], member: str) -> None:
    msg = _error(_with(gb=gb))
    assert ('levels[3].bypass: "weight" is the stationary type of dataflow WS and cannot be bypassed '
            "at this level") in msg


@pytest.mark.parametrize("value, expected", [
    ([], "levels[1].dataflow: an empty list of dataflows: list at least one of IS, WS, OS (or write null)"),
    (["WS", "XS"], 'levels[1].dataflow: unknown dataflow "XS" in the list, accepted: IS, WS, OS '
                   "(null only alone, for no stationarity)"),
    (["WS", None], "levels[1].dataflow: unknown dataflow null in the list"),
    (["WS", "OS", "WS"], 'levels[1].dataflow: dataflow "WS" is listed twice'),
])
def test_bad_sets_name_the_problem(value: list[Any], expected: str) -> None:
    assert expected in _error(_with(lb=value))


def test_yaml_target_file_with_a_set(tmp_path: Path) -> None:
    text = (Path(__file__).resolve().parents[2] / "accelerators" / "simba.yaml").read_text()
    lines = text.splitlines()
    # the first dataflow line is the global buffer's or the local buffer's: replace both forms
    out = [ln.replace("dataflow: WS", "dataflow: [WS, OS]") for ln in lines]
    assert out != lines
    path = tmp_path / "simba_flex.yaml"
    path.write_text("\n".join(out) + "\n")
    t = load_target(str(path))
    assert t.local_buffer.dataflow_options == ("WS", "OS")
