"""The pipeline target file: shipped constants, validation messages, name resolution."""
from __future__ import annotations

from pathlib import Path

import pytest

from rlsched_compile.errors import TargetError
from rlsched_compile.pipeline.target import load_pipeline_target
from rlsched_compile.targets.pipeline import resolve_pipeline_target as resolve_target_path

REPO = Path(__file__).resolve().parents[2]


def test_shipped_edgetpu_has_the_issue_constants(edgetpu):
    assert edgetpu.name == "edgetpu"
    assert edgetpu.peak_macs_per_s == 2e12
    assert edgetpu.efficiency_ratio == 0.5
    assert edgetpu.on_chip_bytes == int(0.9 * 8 * 2**20)
    assert edgetpu.off_chip_bytes_per_s == 400e6
    assert edgetpu.link_bytes_per_s == 350e6
    assert edgetpu.hop_s == 0.2e-3
    assert edgetpu.data_type_bytes == 1
    assert resolve_target_path("edgetpu").resolve() == REPO / "accelerators" / "edgetpu.yaml"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "t.yaml"
    path.write_text(text, encoding="utf-8")
    return path


GOOD = (REPO / "accelerators" / "edgetpu.yaml").read_text(encoding="utf-8")


def test_explicit_path_loads_same_values(tmp_path, edgetpu):
    assert load_pipeline_target(_write(tmp_path, GOOD)) == edgetpu


def test_every_problem_listed_with_dotted_paths_on_one_line(tmp_path):
    text = (GOOD.replace("efficiency_ratio: 0.5", "efficiency_ratio: 1.5")
            .replace("hop_s: 2.0e-4", "hop_s: -1")
            .replace("data_type_bytes: 1", "data_type_bytes: 1.5\n  colour: red")
            .replace("link_bytes_per_s: 3.5e+8", "link_bytes_per_s: fast"))
    with pytest.raises(TargetError) as exc:
        load_pipeline_target(_write(tmp_path, text))
    msg = str(exc.value)
    assert "\n" not in msg
    assert msg == ("t.yaml: invalid pipeline target: compute.efficiency_ratio: must be <= 1, got 1.5; "
                   "link.link_bytes_per_s: must be a number, got 'fast'; link.hop_s: must be >= 0, got -1; "
                   "tensors.colour: unknown key (accepted: data_type_bytes); "
                   "tensors.data_type_bytes: must be an integer, got 1.5")


def test_non_positive_and_yaml_exponent_hint(tmp_path):
    text = GOOD.replace("on_chip_bytes: 7549747", "on_chip_bytes: 0").replace("2.0e+12", "2.0e12")
    with pytest.raises(TargetError, match=r"compute.peak_macs_per_s: must be a number, got '2.0e12' "
                                          r"\(YAML reads 2.0e12 as text: write 2.0e\+12\); "
                                          r"memory.on_chip_bytes: must be > 0, got 0$"):
        load_pipeline_target(_write(tmp_path, text))


def test_duplicate_key_rejected(tmp_path):
    text = GOOD.replace("  hop_s: 2.0e-4", "  hop_s: 2.0e-4\n  hop_s: 1.0e-4")
    with pytest.raises(TargetError, match=r"^t.yaml: not valid YAML \(.*duplicate key 'hop_s'"):
        load_pipeline_target(_write(tmp_path, text))


def test_wrong_schema_and_unknown_top_key(tmp_path):
    text = GOOD.replace("schema: rlsched-pipeline-v1", "schema: rlsched-target-v1") + "extra: 1\n"
    with pytest.raises(TargetError) as exc:
        load_pipeline_target(_write(tmp_path, text))
    assert str(exc.value) == (
        "t.yaml: invalid pipeline target: extra: unknown key (accepted: version, schema, name, compute, "
        "memory, link, tensors); schema: must be 'rlsched-pipeline-v1', got 'rlsched-target-v1'")


def test_unknown_name_lists_shipped_pipeline_targets():
    with pytest.raises(TargetError, match=r"^pipeline target 'tpu9' not found: give a YAML path or one of .*edgetpu"):
        load_pipeline_target("tpu9")
