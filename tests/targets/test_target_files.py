"""Shipped target files, the authoritative JSON targets, golden-vector targets, round trips,
name resolution and listing."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

import rlsched_compile
from rlsched_compile.errors import TargetError
from rlsched_compile.targets import (
    Capacity,
    PerType,
    SpatialLevel,
    Target,
    list_target_names,
    list_targets,
    load_target,
    target_from_dict,
)
from rlsched_compile.targets.documents import shipped_dir

REPO = Path(__file__).resolve().parents[2]
ACCELERATORS = REPO / "accelerators"
SHARED = REPO.parent / "shared"
PAPER_TARGETS = ("eyeriss", "eyeriss_v2", "simba", "tpu_v3")

needs_shared = pytest.mark.skipif(not SHARED.is_dir(), reason=f"{SHARED} (read-only inputs) absent")


def _shipped_files() -> list[Path]:
    return sorted(p for p in ACCELERATORS.iterdir() if p.suffix in (".yaml", ".yml", ".json"))


def _schema(path: Path) -> str:
    import yaml

    return yaml.safe_load(path.read_text())["schema"]


def _golden_targets() -> list[dict]:
    path = SHARED / "golden" / "cost_vectors.jsonl"
    if not path.is_file():
        return []
    seen: dict[str, dict] = {}
    for line in path.read_text().splitlines():
        t = json.loads(line)["target"]
        seen.setdefault(json.dumps(t, sort_keys=True), t)
    return list(seen.values())


@pytest.mark.parametrize("path", _shipped_files(), ids=lambda p: p.name)
def test_every_shipped_file_loads_or_is_a_pipeline_target(path: Path) -> None:
    if _schema(path) == "rlsched-target-v1":
        target = load_target(path)
        assert target.name == path.stem
        assert load_target(path.stem) == target
    else:
        with pytest.raises(TargetError, match="rlsched-compile pipeline"):
            load_target(path)


@needs_shared
@pytest.mark.parametrize("name", PAPER_TARGETS)
def test_yaml_matches_authoritative_json(name: str) -> None:
    from_yaml = load_target(name)
    from_json = load_target(SHARED / "targets" / f"{name}.json")
    assert from_yaml == from_json
    assert from_yaml.to_dict() == from_json.to_dict()
    assert from_yaml.sha256 == from_json.sha256


def test_simba_values_in_full() -> None:
    t = load_target("simba")
    assert (t.precision_bits, t.frequency_mhz, t.mac_energy_pj, t.mac_static_power_mw) == (
        8, 800.0, 0.56, 0.0036)
    assert t.mac_array == SpatialLevel(8, 8)
    assert t.pe_array == SpatialLevel(4, 4)
    assert t.chip_array == SpatialLevel(6, 6)
    lb, gb, dram = t.local_buffer, t.global_buffer, t.dram
    assert lb.dataflow == "WS" and lb.bypass == ()
    assert lb.capacity == Capacity("separate", per_type_bytes=PerType(4096, 8192, 2048))
    assert lb.access_energy_pj == PerType(0.71, 1.45, 0.42)
    assert lb.static_power_mw == PerType(0.000364, 0.001663, 0.000149)
    assert lb.access_cycles == PerType(1, 1, 1) and lb.bandwidth_bits_per_cycle == 8
    assert gb is not None and gb.dataflow == "OS" and gb.bypass == ("weight",)
    assert gb.capacity == Capacity("shared", shared_bytes=65536)
    assert gb.access_energy_pj == PerType(2.23, 0.0, 2.23)
    assert gb.static_power_mw == PerType(0.002699, 0.0, 0.002699)
    assert gb.bandwidth_bits_per_cycle == 64
    assert dram.dataflow is None and dram.capacity is None
    assert dram.access_energy_pj == PerType(64, 64, 64)
    assert dram.access_cycles == PerType(8, 8, 8) and dram.bandwidth_bits_per_cycle == 64


def test_paper_target_key_figures() -> None:
    eyeriss, v2, tpu = load_target("eyeriss"), load_target("eyeriss_v2"), load_target("tpu_v3")
    assert eyeriss.mac_array is None and eyeriss.chip_array is None
    assert eyeriss.local_buffer.capacity == Capacity("separate", per_type_bytes=PerType(24, 448, 48))
    assert eyeriss.global_buffer.capacity == Capacity("shared", shared_bytes=102400)
    assert (v2.mac_array, v2.pe_array, v2.chip_array) == (
        SpatialLevel(2, 1), SpatialLevel(4, 3), SpatialLevel(2, 8))
    assert tpu.pe_array == SpatialLevel(256, 128) and tpu.chip_array == SpatialLevel(2, 4)
    assert tpu.global_buffer.capacity == Capacity("shared", shared_bytes=33554432)
    assert tpu.global_buffer.access_cycles == PerType(2, 2, 2)
    assert tpu.dram.access_cycles == PerType(2, 2, 2)
    for t in (eyeriss, v2, tpu):
        assert t.global_buffer.bypass == ("weight",)


@needs_shared
@pytest.mark.parametrize("path", sorted((SHARED / "golden" / "targets").glob("*.json")),
                         ids=lambda p: p.name)
def test_golden_target_files_load(path: Path) -> None:
    raw = json.loads(path.read_text())
    t = load_target(path)
    assert t.name == raw["name"]
    assert t.source == raw["source"]
    # Innermost first, same roles as the file.
    assert [role for role, _ in t.levels()] == [lv["level"] for lv in raw["levels"]]


@needs_shared
def test_golden_vector_targets_load_and_round_trip() -> None:
    targets = _golden_targets()
    assert len(targets) == 34
    built = [target_from_dict(d) for d in targets]
    assert len({t.sha256 for t in built}) == 34
    for d, t in zip(targets, built):
        assert load_target(d) == t
        assert target_from_dict(t.to_dict()) == t
        # to_dict gives back the golden object (up to int/float spelling and informational keys).
        expected = {k: v for k, v in d.items() if k not in ("source", "notes")}
        assert json.loads(json.dumps(t.to_dict())) == expected


@needs_shared
def test_flexflow_partially_shared_and_pe_restrictions() -> None:
    t = load_target(SHARED / "golden" / "targets" / "flexflow.json")
    assert t.global_buffer.capacity == Capacity(
        "partially_shared", shared_bytes=32768, dedicated_type="weight", dedicated_bytes=32768)
    assert t.local_buffer.bypass == ("output",)
    assert t.local_buffer.capacity.per_type_bytes == PerType(256, 256, 0)
    assert t.pe_array.allowed_x == ("K", "B", "P", "Q")
    assert t.pe_array.allowed_y == ("C", "R", "S")


@pytest.mark.parametrize("name", PAPER_TARGETS)
def test_round_trip_shipped(name: str) -> None:
    t = load_target(name)
    assert target_from_dict(t.to_dict()) == t
    assert load_target(t) is t


def test_unit_spatial_level_is_treated_as_absent() -> None:
    d = load_target("eyeriss").to_dict()
    d["levels"].insert(0, {"level": "mac_array", "type": "spatial", "x": 1, "y": 1})
    t = target_from_dict(d)
    assert t.mac_array is None
    assert t == load_target("eyeriss")


def test_json_file_in_outer_to_inner_order_with_version(tmp_path: Path) -> None:
    d = load_target("simba").to_dict()
    d["levels"].reverse()
    d["version"] = 1
    path = tmp_path / "mine.json"
    path.write_text(json.dumps(d))
    assert load_target(path) == load_target("simba")
    assert load_target(str(path)) == load_target("simba")


def test_yaml_1_2_floats_without_dot(tmp_path: Path) -> None:
    text = (ACCELERATORS / "eyeriss.yaml").read_text().replace("6.0e-7", "6e-7")
    assert "6e-7" in text
    path = tmp_path / "e.yml"
    path.write_text(text)
    assert load_target(path).local_buffer.static_power_mw.input == 6e-7


def test_list_targets_skips_pipeline_targets() -> None:
    infos = list_targets()
    assert [i.name for i in infos] == list(PAPER_TARGETS)
    assert list_target_names() == list(PAPER_TARGETS)
    simba = next(i for i in infos if i.name == "simba")
    assert (simba.pe_array, simba.mac_array, simba.chip_array) == ((4, 4), (8, 8), (6, 6))
    assert simba.local_buffer_bytes == "4096/8192/2048"
    assert simba.global_buffer_bytes == "65536 shared"
    assert (simba.precision_bits, simba.frequency_mhz) == (8, 800.0)
    eyeriss = next(i for i in infos if i.name == "eyeriss")
    assert (eyeriss.mac_array, eyeriss.chip_array) == ((1, 1), (1, 1))


def test_package_root_exports() -> None:
    assert rlsched_compile.load_target is load_target
    assert rlsched_compile.list_targets is list_targets
    assert isinstance(rlsched_compile.load_target("tpu_v3"), Target)


def test_shipped_folder_is_the_repository_accelerators() -> None:
    # In a checkout the packaged link resolves to accelerators/; wheels carry copies of it.
    assert shipped_dir().resolve() == ACCELERATORS.resolve()


def test_unknown_name_suggests_close_match() -> None:
    with pytest.raises(TargetError) as e:
        load_target("simab")
    msg = str(e.value)
    assert 'unknown target "simab"; did you mean "simba"?' in msg
    assert "shipped targets: eyeriss, eyeriss_v2, simba, tpu_v3" in msg
    assert "\n" not in msg


def test_unknown_name_without_close_match() -> None:
    with pytest.raises(TargetError, match=r'unknown target "zzz"; shipped targets: eyeriss'):
        load_target("zzz")


def test_missing_file_names_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(TargetError, match=f"target file not found: {missing}"):
        load_target(missing)
    with pytest.raises(TargetError, match="target file not found: .*nope.yaml"):
        load_target(str(missing))


def test_pipeline_schema_file_gives_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "pipe.yaml"
    path.write_text("version: 1\nschema: rlsched-pipeline-v1\nname: chips\n")
    with pytest.raises(TargetError) as e:
        load_target(path)
    assert str(e.value) == (f"{path} is a pipeline target, not a per-layer target; this command takes a "
                            "per-layer target: --target eyeriss, eyeriss_v2, simba or tpu_v3 (or a per-layer "
                            "target file, schema rlsched-target-v1); use "
                            f"{path} with `rlsched-compile pipeline MODEL.onnx --target {path}`")


def test_unsupported_suffix(tmp_path: Path) -> None:
    path = tmp_path / "t.txt"
    path.write_text("{}")
    with pytest.raises(TargetError, match=r"unsupported suffix; use \.yaml, \.yml, \.json"):
        load_target(path)


def test_wrong_argument_type() -> None:
    with pytest.raises(TargetError, match="a target must be a shipped name, a file path, a dict "
                                          r"or a Target \(got int\)"):
        load_target(3)  # type: ignore[arg-type]
