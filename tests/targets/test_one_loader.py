"""Issue 12 item 6: one target loader for both schemas.

Pipeline targets are read by ``targets/`` like per-layer targets: the shipped files are found by
one lookup, parsed by one strict loader, and checked against tables of the same declared ``Key``.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from rlsched_compile.errors import TargetError
from rlsched_compile.pipeline.target import PipelineTarget, load_pipeline_target
from rlsched_compile.targets import documents, pipeline, schema
from rlsched_compile.targets.kind import PIPELINE, shipped_target_names

REPO = Path(__file__).resolve().parents[2]
EDGETPU = (REPO / "accelerators" / "edgetpu.yaml").read_text(encoding="utf-8")


def test_the_pipeline_schema_is_declared_with_the_per_layer_key_type():
    assert all(isinstance(k, schema.Key) for k in pipeline.TOP_KEYS.values())
    declared = {k.name for keys in pipeline.SECTION_KEYS.values() for k in keys.values()}
    # every constant of the value class is declared once, with a known number kind and a unit slot
    assert declared | {"name"} == set(PipelineTarget.__dataclass_fields__)
    assert all(k.kind in pipeline.NUMBER_KINDS for keys in pipeline.SECTION_KEYS.values() for k in keys.values())


def test_both_kinds_resolve_shipped_names_from_one_listing():
    files = documents.shipped_files()
    assert pipeline.resolve_pipeline_target("edgetpu") == files["edgetpu"]
    assert shipped_target_names(PIPELINE) == ["edgetpu"]


def test_a_shipped_name_cannot_climb_out_of_the_shipped_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no such relative file here: only the shipped lookup could find it
    with pytest.raises(TargetError, match=r"^pipeline target '\.\./accelerators/edgetpu' not found: "):
        load_pipeline_target("../accelerators/edgetpu")


def test_an_unhashable_key_is_a_one_line_error_not_a_crash(tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text(EDGETPU + "? [1]\n: 2\n", encoding="utf-8")
    with pytest.raises(TargetError) as exc:
        load_pipeline_target(path)
    assert str(exc.value).startswith("t.yaml: not valid YAML (") and "found unhashable key" in str(exc.value)
    assert "\n" not in str(exc.value)


def test_the_pipeline_reader_keeps_yaml_1_1_floats_and_the_per_layer_one_reads_1_2():
    text = "a: 2.0e12\n"
    from rlsched_compile._dataload import load_yaml

    assert load_yaml(text, source="x", loader=documents.StrictLoader)[0] == {"a": "2.0e12"}
    assert load_yaml(text, source="x", loader=documents.Yaml12Loader)[0] == {"a": 2.0e12}
