"""Validation of target documents: every rule's message, several problems in one error,
duplicate keys, syntax errors, defaults."""
from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any, Callable

import pytest

from rlsched_compile.errors import TargetError
from rlsched_compile.targets import PerType, load_target, target_from_dict

# simba in the spec's JSON form, innermost first:
# levels[0] mac_array, [1] local_buffer, [2] pe_array, [3] global_buffer, [4] chip_array, [5] dram
BASE: dict[str, Any] = load_target("simba").to_dict()
TOP_ACCEPTED = ("version, schema, name, precision_bits, frequency_mhz, mac_energy_pj, "
                "mac_static_power_mw, levels, source, notes")
BUFFER_ACCEPTED = ("level, type, dataflow, capacity_bytes, bypass, access_energy_pj, "
                   "static_power_mw, access_cycles, bandwidth_bits_per_cycle, fixed_mapping")
DRAM_ACCEPTED = ("level, type, dataflow, access_energy_pj, static_power_mw, access_cycles, "
                 "bandwidth_bits_per_cycle, fixed_mapping")


def _base() -> dict[str, Any]:
    return copy.deepcopy(BASE)


def _error(d: Any) -> str:
    with pytest.raises(TargetError) as e:
        target_from_dict(d)
    msg = str(e.value)
    assert "\n" not in msg
    assert msg.startswith("invalid target <dict>: ")
    return msg


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """A mutation setting ``levels.1.capacity_bytes.input``-style paths."""
    def apply(d: dict[str, Any]) -> None:
        *head, last = path.split(".")
        node: Any = d
        for k in head:
            node = node[int(k)] if isinstance(node, list) else node[k]
        node[int(last) if isinstance(node, list) else last] = value
    return apply


def _del(path: str) -> Callable[[dict[str, Any]], None]:
    def apply(d: dict[str, Any]) -> None:
        *head, last = path.split(".")
        node: Any = d
        for k in head:
            node = node[int(k)] if isinstance(node, list) else node[k]
        del node[int(last) if isinstance(node, list) else last]
    return apply


CASES: list[tuple[str, Callable[[dict[str, Any]], None], str]] = [
    ("unknown top key", _set("frequency", 200),
     f"frequency: unknown key, accepted keys: {TOP_ACCEPTED}"),
    ("unknown level key", _set("levels.1.size", 3),
     f"levels[1].size: unknown key, accepted keys: {BUFFER_ACCEPTED}"),
    ("unknown spatial key", _set("levels.2.z", 3),
     "levels[2].z: unknown key, accepted keys: level, type, x, y, allowed_x, allowed_y"),
    ("allowed_x off the PE array", _set("levels.0.allowed_x", ["K"]),
     "levels[0].allowed_x: unknown key, accepted keys: level, type, x, y (only pe_array honours "
     "allowed_x/allowed_y (spec Q21))"),
    ("dram capacity", _set("levels.5.capacity_bytes", {"shared": 1}),
     f"levels[5].capacity_bytes: unknown key, accepted keys: {DRAM_ACCEPTED} "
     "(DRAM capacity is not modelled (spec Q22))"),
    ("missing top field", _del("name"), "name: required field is missing"),
    ("missing level field", _del("levels.1.bandwidth_bits_per_cycle"),
     "levels[1].bandwidth_bits_per_cycle: required field is missing"),
    ("missing capacity", _del("levels.3.capacity_bytes"),
     "levels[3].capacity_bytes: required field is missing"),
    ("missing dataflow", _del("levels.1.dataflow"), "levels[1].dataflow: required field is missing"),
    ("missing array dim", _del("levels.2.y"), "levels[2].y: required field is missing"),
    ("bool is not int", _set("precision_bits", True), "precision_bits: must be an integer (got true)"),
    ("string dim", _set("levels.2.x", "4"), 'levels[2].x: must be an integer (got "4")'),
    ("float capacity", _set("levels.1.capacity_bytes.weight", 8192.5),
     "levels[1].capacity_bytes.weight: must be an integer (got 8192.5)"),
    ("string energy", _set("mac_energy_pj", "0.56"),
     'mac_energy_pj: must be a finite number (got "0.56")'),
    ("nan energy", _set("levels.3.access_energy_pj.input", float("nan")),
     "levels[3].access_energy_pj.input: must be a finite number (got NaN)"),
    ("name not a string", _set("name", 3), "name: must be a non-empty string (got 3)"),
    ("zero capacity", _set("levels.1.capacity_bytes.input", 0),
     "levels[1].capacity_bytes.input: must be > 0 (got 0), 0 is allowed only for a bypassed type "
     "(input is not bypassed here)"),
    ("negative capacity", _set("levels.1.capacity_bytes.output", -8),
     "levels[1].capacity_bytes.output: must be > 0 (got -8)"),
    ("zero shared capacity", _set("levels.3.capacity_bytes.shared", 0),
     "levels[3].capacity_bytes.shared: must be > 0 (got 0)"),
    ("zero array dim", _set("levels.2.x", 0), "levels[2].x: must be > 0 (got 0)"),
    ("negative chip dim", _set("levels.4.y", -6), "levels[4].y: must be > 0 (got -6)"),
    ("precision not multiple of 8", _set("precision_bits", 12),
     "precision_bits: must be a positive multiple of 8 (got 12)"),
    ("zero precision", _set("precision_bits", 0),
     "precision_bits: must be a positive multiple of 8 (got 0)"),
    ("zero frequency", _set("frequency_mhz", 0), "frequency_mhz: must be > 0 (got 0)"),
    ("negative frequency", _set("frequency_mhz", -200.0), "frequency_mhz: must be > 0 (got -200.0)"),
    ("negative MAC energy", _set("mac_energy_pj", -1), "mac_energy_pj: must be >= 0 (got -1)"),
    ("negative MAC static", _set("mac_static_power_mw", -0.5),
     "mac_static_power_mw: must be >= 0 (got -0.5)"),
    ("negative static power", _set("levels.3.static_power_mw.input", -0.1),
     "levels[3].static_power_mw.input: must be >= 0 (got -0.1)"),
    ("negative cycles", _set("levels.5.access_cycles.output", -1),
     "levels[5].access_cycles.output: must be >= 0 (got -1)"),
    ("zero bandwidth", _set("levels.1.bandwidth_bits_per_cycle", 0),
     "levels[1].bandwidth_bits_per_cycle: must be > 0 (got 0)"),
    ("unknown dataflow", _set("levels.1.dataflow", "XS"),
     'levels[1].dataflow: unknown dataflow, accepted: IS, WS, OS or null (got "XS")'),
    ("dram dataflow", _set("levels.5.dataflow", "OS"),
     'levels[5].dataflow: must be null for dram (got "OS")'),
    ("stationary type bypassed", _set("levels.3.dataflow", "WS"),
     'levels[3].bypass: "weight" is the stationary type of dataflow WS and cannot be bypassed '
     "at this level"),
    ("unknown bypass type", _set("levels.3.bypass", ["psum"]),
     'levels[3].bypass[0]: unknown data type "psum", accepted: input, weight, output'),
    ("bypass listed twice", _set("levels.3.bypass", ["weight", "weight"]),
     'levels[3].bypass[1]: "weight" is listed twice'),
    ("unknown per-type key", _set("levels.1.access_energy_pj", {"inputs": 1}),
     "levels[1].access_energy_pj.inputs: unknown key, accepted keys: input, weight, output"),
    ("per-type not a mapping", _set("levels.1.access_cycles", [1, 1, 1]),
     "levels[1].access_cycles: must be a mapping with keys input, weight, output (got [1, 1, 1])"),
    ("unknown role", _set("levels.2.level", "pe"),
     'levels[2].level: unknown level role "pe", accepted: mac_array, local_buffer, pe_array, '
     "global_buffer, chip_array, dram"),
    ("level without role", _del("levels.2.level"),
     "levels[2].level: required field is missing, accepted: mac_array, local_buffer"),
    ("type does not match role", _set("levels.2.type", "temporal"),
     'levels[2].type: pe_array is a spatial level (got "temporal")'),
    ("duplicate level", lambda d: d["levels"].append(copy.deepcopy(d["levels"][5])),
     'levels[6].level: duplicate level "dram" (already given at levels[5])'),
    ("out of order", lambda d: d["levels"].insert(2, d["levels"].pop(3)),
     "levels: levels are out of order: list them innermost first (or outermost first with "
     "'version: 1'): mac_array, local_buffer, pe_array, global_buffer, chip_array, dram "
     "(got mac_array, local_buffer, global_buffer, pe_array, chip_array, dram)"),
    ("missing local buffer", lambda d: d["levels"].pop(1),
     "levels: a local_buffer level is required (spec Q2)"),
    ("missing dram", lambda d: d["levels"].pop(5), "levels: a dram level is required (spec Q2)"),
    ("empty levels", _set("levels", []), "levels: must be a non-empty list of levels (got [])"),
    ("dedicated not first bypassed",
     _set("levels.3.capacity_bytes", {"shared": 1024, "dedicated": {"input": 512}}),
     'levels[3].capacity_bytes.dedicated: the dedicated type must be the first bypassed type '
     '(weight) (got "input")'),
    ("dedicated without bypass",
     lambda d: (_set("levels.3.capacity_bytes", {"shared": 1024, "dedicated": {"weight": 512}})(d),
                _set("levels.3.bypass", [])(d)),
     'levels[3].capacity_bytes.dedicated: dedicated capacity for "weight" needs that type in '
     "bypass"),
    ("dedicated on the local buffer",
     _set("levels.1.capacity_bytes", {"shared": 1024, "dedicated": {"weight": 512}}),
     "levels[1].capacity_bytes.dedicated: a partially shared capacity is allowed only on "
     "global_buffer"),
    ("mixed capacity forms", _set("levels.3.capacity_bytes", {"shared": 1024, "input": 5}),
     "levels[3].capacity_bytes: mixes per-type and shared forms"),
    ("separate capacity incomplete", _set("levels.1.capacity_bytes", {"input": 5, "weight": 5}),
     "levels[1].capacity_bytes.output: required field is missing (a separate capacity gives all "
     "three types"),
    ("unknown capacity key", _set("levels.3.capacity_bytes", {"total": 5}),
     "levels[3].capacity_bytes.total: unknown key, accepted keys: input, weight, output, shared, "
     "dedicated"),
    ("fixed mapping too short", _set("levels.3.fixed_mapping", [0] * 7),
     "levels[3].fixed_mapping: must be a list of 8 non-negative integers in K,B,P,Q,C,R,S,G order "
     "(0 = free) (got [0, 0, 0, 0, 0, 0, 0])"),
    ("fixed mapping negative", _set("levels.3.fixed_mapping", [0, 0, 0, 0, 0, -1, 1, 0]),
     "levels[3].fixed_mapping: must be a list of 8 non-negative integers"),
    ("allowed_x unknown column", _set("levels.2.allowed_x", ["K", "Z"]),
     'levels[2].allowed_x[1]: unknown column "Z", accepted: K, B, P, Q, C, R, S, G'),
    ("allowed_y column twice", _set("levels.2.allowed_y", ["C", "C"]),
     'levels[2].allowed_y[1]: column "C" is listed twice'),
    ("wrong schema", _set("schema", "rlsched-target-v2"),
     'schema: must be "rlsched-target-v1" (got "rlsched-target-v2")'),
    ("missing schema", _del("schema"), "schema: required field is missing"),
    ("unsupported version", _set("version", 2), "version: unsupported version, accepted: 1 (got 2)"),
    ("notes of wrong type", _set("notes", {"a": 1}),
     'notes: must be a string or a list of strings (got {"a": 1})'),
]


@pytest.mark.parametrize("mutate, expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_rule_message(mutate: Callable[[dict[str, Any]], None], expected: str) -> None:
    d = _base()
    mutate(d)
    msg = _error(d)
    assert expected in msg


def test_every_problem_is_listed_at_once() -> None:
    d = _base()
    d["levels"][1]["capacity_bytes"]["input"] = 0
    d["precision_bits"] = 12
    d["levels"][3]["dataflow"] = "WS"
    d["levels"][2]["allowed_x"] = ["Z"]
    d["colour"] = "red"
    del d["levels"][5]["bandwidth_bits_per_cycle"]
    msg = _error(d)
    assert msg.startswith("invalid target <dict>: 6 problems: ")
    for part in ("colour: unknown key", "precision_bits: must be a positive multiple of 8 (got 12)",
                 "levels[1].capacity_bytes.input: must be > 0 (got 0)",
                 'levels[2].allowed_x[0]: unknown column "Z"',
                 'levels[3].bypass: "weight" is the stationary type of dataflow WS',
                 "levels[5].bandwidth_bits_per_cycle: required field is missing"):
        assert part in msg
    # "; " separates problems and appears nowhere else.
    assert len(msg.split(" 6 problems: ", 1)[1].split("; ")) == 6


def test_single_problem_is_singular() -> None:
    d = _base()
    d["frequency_mhz"] = 0
    assert _error(d) == "invalid target <dict>: 1 problem: frequency_mhz: must be > 0 (got 0)"


def test_not_a_mapping() -> None:
    assert "a target must be a mapping of keys" in _error([1, 2])


def test_source_label_in_message() -> None:
    d = _base()
    d["frequency_mhz"] = -1
    with pytest.raises(TargetError, match=r"^invalid target golden g-00001: 1 problem: "):
        target_from_dict(d, source="golden g-00001")


def test_zero_capacity_allowed_for_bypassed_type() -> None:
    d = _base()
    d["levels"][1]["capacity_bytes"]["output"] = 0
    d["levels"][1]["bypass"] = ["output"]
    t = target_from_dict(d)
    assert t.local_buffer.capacity.per_type_bytes == PerType(4096, 8192, 0)
    assert t.local_buffer.bypass == ("output",)


def test_defaults_for_missing_entries() -> None:
    d = _base()
    d["levels"][1]["access_energy_pj"] = {"input": 0.5}
    del d["levels"][1]["static_power_mw"]
    del d["levels"][3]["access_cycles"]
    del d["levels"][3]["bypass"]
    d["levels"][3]["capacity_bytes"] = {"shared": 65536}
    del d["mac_static_power_mw"]
    d["levels"][5].pop("dataflow")
    t = target_from_dict(d)
    assert t.local_buffer.access_energy_pj == PerType(0.5, 0.0, 0.0)
    assert t.local_buffer.static_power_mw == PerType(0.0, 0.0, 0.0)
    assert t.global_buffer.access_cycles == PerType(0.0, 0.0, 0.0)
    assert t.global_buffer.bypass == ()
    assert t.mac_static_power_mw == 0.0
    assert t.dram.dataflow is None


def test_bypass_normalised_to_iwo_order() -> None:
    d = _base()
    d["levels"][3]["bypass"] = ["output", "weight"]
    d["levels"][3]["dataflow"] = "IS"
    assert target_from_dict(d).global_buffer.bypass == ("weight", "output")


def test_null_dataflow_allowed_on_buffers() -> None:
    d = _base()
    d["levels"][1]["dataflow"] = None
    assert target_from_dict(d).local_buffer.dataflow is None


# --- files: duplicate keys, syntax errors, the file named in the message ---------------------

def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _file_error(path: Path) -> str:
    with pytest.raises(TargetError) as e:
        load_target(path)
    msg = str(e.value)
    assert "\n" not in msg
    return msg


def test_yaml_duplicate_keys_rejected(tmp_path: Path) -> None:
    text = Path(__file__).resolve().parents[2].joinpath("accelerators", "simba.yaml").read_text()
    text = text.replace("name: simba\n", "name: simba\nname: simba2\n", 1)
    text = text.replace("    bandwidth_bits_per_cycle: 8\n",
                        "    bandwidth_bits_per_cycle: 8\n    bandwidth_bits_per_cycle: 16\n", 1)
    path = _write(tmp_path, "dup.yaml", text)
    msg = _file_error(path)
    lines = text.splitlines()
    name_line = lines.index("name: simba2") + 1
    bw_line = lines.index("    bandwidth_bits_per_cycle: 16") + 1
    assert msg.startswith(f"invalid target file {path}: 2 problems: ")
    assert f'line {name_line}: duplicate key "name" (first given at line {name_line - 1})' in msg
    assert (f'line {bw_line}: duplicate key "bandwidth_bits_per_cycle" '
            f"(first given at line {bw_line - 1})") in msg


def test_yaml_duplicates_listed_with_other_problems(tmp_path: Path) -> None:
    text = ("version: 1\nschema: rlsched-target-v1\nname: t\nname: u\nprecision_bits: 12\n"
            "frequency_mhz: 200\nmac_energy_pj: 1\nlevels: []\n")
    msg = _file_error(_write(tmp_path, "t.yaml", text))
    assert "3 problems" in msg
    assert 'line 4: duplicate key "name" (first given at line 3)' in msg
    assert "precision_bits: must be a positive multiple of 8 (got 12)" in msg
    assert "levels: must be a non-empty list of levels (got [])" in msg


def test_json_duplicate_keys_rejected(tmp_path: Path) -> None:
    d = _base()
    text = json.dumps(d).replace('"name": "simba"', '"name": "simba", "name": "other"', 1)
    msg = _file_error(_write(tmp_path, "t.json", text))
    assert 'duplicate key "name"' in msg


def test_yaml_syntax_error(tmp_path: Path) -> None:
    path = _write(tmp_path, "bad.yaml", "version: 1\nlevels: [\n  - a: 1\n")
    msg = _file_error(path)
    assert msg.startswith(f"target file {path} is not valid YAML: ")
    assert "at line" in msg and msg.endswith("fix the syntax")


def test_json_syntax_error(tmp_path: Path) -> None:
    path = _write(tmp_path, "bad.json", '{"schema": "rlsched-target-v1",}')
    msg = _file_error(path)
    assert msg.startswith(f"target file {path} is not valid JSON: ")
    assert "line 1 column 32" in msg


def test_yaml_outer_to_inner_requires_version(tmp_path: Path) -> None:
    # Without `version: 1` a document is read innermost first, so a DRAM-first list is refused.
    text = Path(__file__).resolve().parents[2].joinpath("accelerators", "eyeriss.yaml").read_text()
    path = _write(tmp_path, "noversion.yaml", text.replace("version: 1\n", "", 1))
    msg = _file_error(path)
    assert ("levels: levels are out of order: list them innermost first (or outermost first "
            "with 'version: 1')") in msg
    assert "(got dram, global_buffer, pe_array, local_buffer)" in msg
