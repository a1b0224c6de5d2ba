"""Sweep files: validation (every problem listed with its path, exit 2), the constraint language
(parsed, never evaluated as Python), ranges, and target points derived through the loader."""
from __future__ import annotations

import json
import operator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rlsched_compile.cli import main
from rlsched_compile.errors import TargetError
from rlsched_compile.sweep import SweepError, derive_target, expand_points, load_sweep
from rlsched_compile.sweep.constraint import NUMBER, TEXT, ConstraintError, parse_constraint
from rlsched_compile.targets import load_target

from .conftest import write_models

BAD = """\
version: 2
models: [twoconv.onnx, missing.onnx, twoconv.onnx]
targets: [eyeriss, eyeris]
objectives: [energy, latency]
search: {strategy: rl-hybird, seed: -1, budget: 0, depth: 3}
parameters:
  gb: {level: global_bufer, field: capacity_bytes.shared, values: [1024]}
  pe_x: {level: pe_array, field: z, values: [7, 7]}
  lb: {level: local_buffer, field: capacity_bytes.total, range: {start: 8, stop: 4, step: 2}}
  n2: {level: pe_array, field: y, values: [2], range: {start: 1, stop: 2, step: 1}}
  energy_pj: {level: target, field: frequency_mhz, range: {start: 100, stop: 200, step: -5}}
  ok1: {level: dram, field: bandwidth_bits_per_cycle, range: {start: 1, stop: 1000000, step: 1}}
constraint: "pe_x * 2 <= "
colour: blue
"""

EXPECTED = [
    "version: unsupported version, accepted: 1 (got 2)",
    "colour: unknown key, accepted keys: version, name, models, batch, targets, objectives, search, parameters, constraint",
    "objectives[1]: unknown objective \"latency\", accepted: energy, cycles, edp",
    "search.depth: unknown key, accepted keys: strategy, seed, budget",
    "search.strategy: unknown strategy \"rl-hybird\" (did you mean \"rl-hybrid\"?)",
    "search.seed: must be an integer >= 0 (got -1)",
    "search.budget: must be an integer >= 1 or null (got 0)",
    "parameters.gb.level: unknown level \"global_bufer\" (did you mean \"global_buffer\"?)",
    "parameters.pe_x.field: pe_array has no field \"z\", accepted: x, y, allowed_x, allowed_y",
    "parameters.pe_x.values[1]: 7 is listed twice",
    "parameters.lb.field: capacity_bytes is set per entry: use one of capacity_bytes.input, capacity_bytes.weight, "
    "capacity_bytes.output, capacity_bytes.shared",
    "parameters.lb.range: stop (4) is below start (8)",
    "parameters.n2: give exactly one of values (a list) or range",
    "parameters.energy_pj: \"energy_pj\" is a reserved name",
    "parameters.energy_pj.range.step: must be a number > 0 (got -5)",
    "parameters.ok1.range: gives 1000000 values, more than the 10000 allowed per parameter",
    "constraint: the expression ends too early",
    "models[2]: \"twoconv.onnx\" is listed twice",
    "models[1]: no such file",
    "targets[1]: unknown target \"eyeris\"; did you mean \"eyeriss\"?",
]


def test_every_problem_is_listed_with_its_path(tmp_path: Path) -> None:
    write_models(tmp_path)
    path = tmp_path / "bad.yaml"
    path.write_text(BAD)
    with pytest.raises(SweepError) as exc:
        load_sweep(path)
    msg = str(exc.value)
    assert "\n" not in msg
    assert msg.startswith(f"invalid sweep file {path}: {len(EXPECTED)} problems: ")
    for text in EXPECTED:
        assert text in msg, text


def test_cli_exit_2_with_one_error_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_models(tmp_path)
    path = tmp_path / "bad.yaml"
    path.write_text(BAD)
    assert main(["sweep", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: invalid sweep file")
    assert not (tmp_path / "out").exists()  # nothing written for a bad file


@pytest.mark.parametrize("text, expected", [
    ("version: 1\nmodels: [a]\nmodels: [b]\ntargets: [eyeriss]\n", "line 3: duplicate key \"models\" (first given at line 2)"),
    ("version: 1\nmodels: [a\n", "is not valid YAML"),
    ("- 1\n- 2\n", "a sweep file must be a mapping"),
    ("name: x\n", "version: required field is missing; models: required field is missing; targets: required"),
])
def test_file_level_problems(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(text)
    with pytest.raises(SweepError) as exc:
        load_sweep(path)
    assert expected in str(exc.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SweepError, match="sweep file not found"):
        load_sweep(tmp_path / "nope.yaml")


def _spec(tmp_path: Path, body: str) -> Path:
    write_models(tmp_path)
    path = tmp_path / "s.yaml"
    path.write_text("version: 1\nmodels: [twoconv.onnx]\ntargets: [eyeriss]\n" + body)
    return path


def test_ranges_and_constraint_filter_points(tmp_path: Path) -> None:
    spec = load_sweep(_spec(tmp_path, """\
parameters:
  gb: {level: global_buffer, field: capacity_bytes.shared, range: {start: 16384, stop: 131072, factor: 2}}
  pe_x: {level: pe_array, field: x, range: {start: 4, stop: 14, step: 4}}
  f: {level: target, field: frequency_mhz, range: {start: 0.5, stop: 0.7, step: 0.1}}
  flow: {level: local_buffer, field: dataflow, values: [WS, OS, null]}
constraint:
  - "gb / 1024 >= pe_x * 8 and not (flow == 'OS')"
  - "f < 0.65 or target != \\"eyeriss\\""
"""))
    assert [p.values for p in spec.parameters] == [(16384, 32768, 65536, 131072), (4, 8, 12), (0.5, 0.6, 0.7),
                                                   ("WS", "OS", None)]
    points = expand_points(spec)
    kept = {pt.values for pt in points}
    assert kept == {(gb, x, f, flow) for gb in (16384, 32768, 65536, 131072) for x in (4, 8, 12)
                    for f in (0.5, 0.6) for flow in ("WS", None) if gb / 1024 >= x * 8}
    assert all(pt.error is None for pt in points)
    pt = points[0]
    assert pt.target is not None
    assert pt.target.name == "eyeriss~gb=32768,pe_x=4,f=0.5,flow=WS"
    assert pt.target.pe_array.x == 4 and pt.target.global_buffer.capacity.shared_bytes == 32768
    assert pt.target.frequency_mhz == 0.5


def test_constraint_errors_at_a_point_and_empty_sweeps(tmp_path: Path) -> None:
    spec = load_sweep(_spec(tmp_path, "parameters:\n  x: {level: pe_array, field: x, values: [0, 2]}\n"
                                      "constraint: '14 / x > 1'\n"))
    with pytest.raises(SweepError, match=r"constraint: division by zero in `/` at the point x=0, target=\"eyeriss\""):
        expand_points(spec)
    spec = load_sweep(_spec(tmp_path, "parameters:\n  x: {level: pe_array, field: x, values: [1, 2]}\n"
                                      "constraint: 'x > 5'\n"))
    with pytest.raises(SweepError, match="the constraint excludes every point"):
        expand_points(spec)


@pytest.mark.parametrize("text, message", [
    ("__import__('os').system('true')", "unexpected character '.'"),
    ("pe_x ** 2 > 3", "unexpected '*'"),
    ("pe_x + 1", "must be a comparison or a boolean, not a number"),
    ("pe_x > 'WS'", "`>` needs numbers, got a text"),
    ("flow * 2 == 4", "`*` needs numbers, got a text"),
    ("pe_x and flow == 'WS'", "`and` joins booleans (comparisons), got a number"),
    ("1 < pe_x < 3", "chained comparisons are not supported"),
    ("pe_y > 2", "unknown name 'pe_y' (known names: flow, pe_x)"),
    ("(pe_x > 2", "expected ')'"),
    ("(" * 100 + "pe_x > 1" + ")" * 100, "nested deeper than 64 levels"),
    ("x" * 2001, "longer than 2000 characters"),
])
def test_constraint_language_refuses(text: str, message: str) -> None:
    with pytest.raises(ConstraintError) as exc:
        parse_constraint(text, {"pe_x": NUMBER, "flow": TEXT})
    assert message in str(exc.value)


_OPS = {"+": operator.add, "-": operator.sub, "*": operator.mul}
_CMP = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge, "==": operator.eq,
        "!=": operator.ne}


@settings(max_examples=200, deadline=None)
@given(a=st.integers(-1000, 1000), b=st.integers(-1000, 1000), c=st.integers(-10**6, 10**6),
       op=st.sampled_from(sorted(_OPS)), cmp=st.sampled_from(sorted(_CMP)), neg=st.booleans())
def test_constraint_matches_arithmetic(a: int, b: int, c: int, op: str, cmp: str, neg: bool) -> None:
    text = f"{'not ' if neg else ''}(a {op} b {cmp} {c})"
    got = parse_constraint(text, {"a": NUMBER, "b": NUMBER}).evaluate({"a": a, "b": b})
    want = _CMP[cmp](_OPS[op](a, b), c)
    assert got == (not want if neg else want)


def test_derived_targets(tmp_path: Path) -> None:
    from rlsched_compile.sweep.spec import Parameter

    base = load_target("eyeriss")
    mac = Parameter("mx", "mac_array", "x", (2,))
    t = derive_target(base, [mac], (2,))
    assert base.mac_array is None and t.mac_array is not None and (t.mac_array.x, t.mac_array.y) == (2, 1)
    same = derive_target(base, [mac], (1,))  # a 1x1 array is an absent one (spec Q19)
    assert same.mac_array is None and same.to_dict()["levels"] == base.to_dict()["levels"]
    with pytest.raises(TargetError, match=r"invalid target point eyeriss\[mx=0\]: 1 problem: mac_array.x: must be > 0"):
        derive_target(base, [mac], (0,))
    no_gb = base.to_dict()
    no_gb["levels"] = [lv for lv in no_gb["levels"] if lv["level"] != "global_buffer"]
    no_gb["name"] = "nogb"
    (tmp_path / "nogb.json").write_text(json.dumps(no_gb))
    write_models(tmp_path)
    (tmp_path / "s.yaml").write_text("version: 1\nmodels: [twoconv.onnx]\ntargets: [eyeriss, nogb.json]\n"
                                     "parameters:\n  gb: {level: global_buffer, field: capacity_bytes.shared, "
                                     "values: [65536]}\n")
    points = expand_points(load_sweep(tmp_path / "s.yaml"))
    assert [p.base for p in points] == ["eyeriss", "nogb"]
    assert points[0].error is None
    assert points[1].target is None and points[1].error == "target nogb has no global_buffer level for parameter gb to set"


def test_bounded_work(tmp_path: Path) -> None:
    body = "parameters:\n" + "".join(f"  p{i}: {{level: target, field: frequency_mhz, range: {{start: 1, stop: 100, step: 1}}}}\n"
                                     for i in range(3))
    with pytest.raises(SweepError, match="1000000 target points before the constraint, more than the 200000 allowed"):
        load_sweep(_spec(tmp_path, body))


def test_parameters_as_a_list(tmp_path: Path) -> None:
    spec = load_sweep(_spec(tmp_path, """\
objectives: edp
parameters:
  - {name: pe_y, level: pe_array, field: y, range: [6, 12, 6]}
  - {name: flow, level: global_buffer, field: dataflow, values: [OS, WS]}
"""))
    assert [(p.name, p.level, p.field, p.values) for p in spec.parameters] == [
        ("pe_y", "pe_array", "y", (6, 12)), ("flow", "global_buffer", "dataflow", ("OS", "WS"))]
    assert spec.objectives == ("edp",)
    with pytest.raises(SweepError) as exc:
        load_sweep(_spec(tmp_path, "parameters:\n  - {name: a, level: pe_array, field: y, values: [1]}\n"
                                   "  - {name: a, level: pe_array, field: x, values: [1]}\n  - 3\n"))
    assert "parameters[1].name: \"a\" is already the name of parameters[0]" in str(exc.value)
    assert "parameters[2]: must be a mapping with a name" in str(exc.value)


def test_the_shipped_example_sweep_is_valid() -> None:
    root = Path(__file__).resolve().parents[2]
    spec = load_sweep(root / "examples" / "sweep_eyeriss.yaml")
    assert [m.name for m in spec.models] == ["resnet50", "mobilenet_v3_small"]
    points = expand_points(spec)
    assert len(points) == 3 * 2 * 2 + 2  # pe_x 8 and 14 everywhere, 16 only with 200 KiB
    assert all(p.error is None for p in points)


def test_cli_constraint_failure_creates_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _spec(tmp_path, "parameters:\n  x: {level: pe_array, field: x, values: [1, 2]}\nconstraint: 'x > 5'\n")
    assert main(["sweep", str(path), "-o", str(tmp_path / "out")]) == 2
    assert capsys.readouterr().err.strip().endswith("the constraint excludes every point; loosen it")
    assert not (tmp_path / "out").exists()
