"""Property tests: any JSON value anywhere in a target gives a Target or one TargetError line,
and valid targets survive dict and YAML round trips."""
from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from rlsched_compile.errors import TargetError
from rlsched_compile.targets import Target, load_target, target_from_dict

BASES = {name: load_target(name).to_dict() for name in ("eyeriss", "simba", "tpu_v3")}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 10**6) | st.floats(allow_nan=True)
    | st.text(max_size=6) | st.sampled_from(["IS", "WS", "OS", "input", "weight", "output",
                                              "dram", "pe_array", "shared", "K"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["input", "weight", "output", "shared", "dedicated", "x", "level"]),
        inner, max_size=3),
    max_leaves=8,
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, prefix + (i,))
    return out


@settings(max_examples=300, deadline=None)
@given(base=st.sampled_from(sorted(BASES)), data=st.data(), value=json_values,
       delete=st.booleans())
def test_any_corruption_gives_target_or_one_line_error(base: str, data: st.DataObject,
                                                       value: Any, delete: bool) -> None:
    d = copy.deepcopy(BASES[base])
    path = data.draw(st.sampled_from(_paths(d)))
    node = d
    for k in path[:-1]:
        node = node[k]
    if delete:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    try:
        t = target_from_dict(d)
    except TargetError as e:
        msg = str(e)
        assert "\n" not in msg and msg.startswith("invalid target <dict>: ")
    else:
        assert isinstance(t, Target)
        assert target_from_dict(t.to_dict()) == t


@settings(max_examples=60, deadline=None)
@given(base=st.sampled_from(sorted(BASES)),
       pe=st.tuples(st.integers(1, 64), st.integers(1, 64)),
       lb=st.tuples(st.integers(1, 1 << 16), st.integers(1, 1 << 16), st.integers(1, 1 << 16)),
       energy=st.floats(0, 1000, allow_nan=False),
       dataflow=st.sampled_from(["IS", "WS", "OS", None]),
       bits=st.sampled_from([8, 16, 32]))
def test_valid_targets_round_trip_through_yaml(tmp_path_factory: Any, base: str,
                                               pe: tuple[int, int], lb: tuple[int, int, int],
                                               energy: float, dataflow: str | None,
                                               bits: int) -> None:
    d = copy.deepcopy(BASES[base])
    levels = {lv["level"]: lv for lv in d["levels"]}
    levels["pe_array"]["x"], levels["pe_array"]["y"] = pe
    levels["local_buffer"]["capacity_bytes"] = dict(zip(("input", "weight", "output"), lb))
    levels["local_buffer"]["dataflow"] = dataflow
    levels["dram"]["access_energy_pj"]["weight"] = energy
    d["precision_bits"] = bits
    t = target_from_dict(d)
    assert target_from_dict(t.to_dict()) == t
    # The shipped-file form: version 1, levels outermost first.
    doc = {"version": 1, **t.to_dict()}
    doc["levels"] = list(reversed(doc["levels"]))
    path: Path = tmp_path_factory.mktemp("rt") / "t.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    assert load_target(path) == t
