"""One command-line convention: the wrong kind of target, output folders, deprecated spellings."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest
import yaml

from rlsched_compile import cli
from rlsched_compile.pipeline.generate import random_dag
from rlsched_compile.cli import train as train_command
from rlsched_compile.targets.kind import PER_LAYER, PIPELINE, target_kind

pytestmark = pytest.mark.usefixtures("cache_dir")

REPO = Path(__file__).resolve().parents[2]
PER_LAYER_NAMES = "eyeriss, eyeriss_v2, simba or tpu_v3"


def run(capsys: pytest.CaptureFixture[str], *argv: object) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def one_line(err: str) -> str:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    return lines[0]


@pytest.fixture()
def graph_file(tmp_path: Path) -> Path:
    path = tmp_path / "net.json"
    path.write_text(json.dumps(random_dag(14, seed=5).to_json_dict()), encoding="utf-8")
    return path


# ---- the wrong kind of target ------------------------------------------------------------------

@pytest.mark.parametrize("flag", ["--target", "-t"])
def test_pipeline_with_a_per_layer_target_names_the_pipeline_targets(graph_file, tmp_path, capsys, flag):
    code, out, err = run(capsys, "pipeline", graph_file, flag, "simba", "-o", tmp_path / "o")
    assert code == 2 and out == ""
    assert one_line(err) == (
        "error: simba is a per-layer target, not a pipeline target; `rlsched-compile pipeline` takes a "
        "pipeline target: --target edgetpu (or a pipeline target file, schema rlsched-pipeline-v1); "
        "use simba with `rlsched-compile MODEL.onnx --target simba`")
    assert not (tmp_path / "o").exists()


def test_compile_with_a_pipeline_target_names_the_per_layer_targets(tiny_model, tmp_path, capsys):
    code, out, err = run(capsys, tiny_model, "-t", "edgetpu", "-o", tmp_path / "o")
    assert code == 2 and out == ""
    assert one_line(err) == (
        f"error: edgetpu is a pipeline target, not a per-layer target; this command takes a per-layer "
        f"target: --target {PER_LAYER_NAMES} (or a per-layer target file, schema rlsched-target-v1); "
        "use edgetpu with `rlsched-compile pipeline MODEL.onnx --target edgetpu`")
    assert not (tmp_path / "o").exists()


def test_evaluate_with_a_pipeline_target_is_refused_the_same_way(tmp_path, capsys):
    sched = tmp_path / "s.json"
    sched.write_text(json.dumps({"table": [[1] * 8] * 10, "layer": {"K": 1, "B": 1, "P": 1, "Q": 1, "C": 1,
                                                                   "R": 1, "S": 1}}))
    code, out, err = run(capsys, "evaluate", sched, "-t", "edgetpu")
    assert code == 2 and out == ""
    assert one_line(err).startswith("error: edgetpu is a pipeline target, not a per-layer target; this command")


def test_kind_is_told_from_the_keys_without_a_schema_key(graph_file, tiny_model, tmp_path, capsys):
    """A per-layer target in the spec's own JSON form has no `schema` key: its `levels` tell."""
    per_layer = yaml.safe_load((REPO / "accelerators" / "eyeriss.yaml").read_text())
    del per_layer["schema"]
    layer_file = tmp_path / "mine.json"
    layer_file.write_text(json.dumps(per_layer))
    code, _, err = run(capsys, "pipeline", graph_file, "-t", layer_file, "-o", tmp_path / "o")
    assert code == 2
    assert one_line(err).startswith(f"error: {layer_file} is a per-layer target, not a pipeline target; ")
    pipe = yaml.safe_load((REPO / "accelerators" / "edgetpu.yaml").read_text())
    del pipe["schema"]
    pipe_file = tmp_path / "chips.yaml"
    pipe_file.write_text(yaml.safe_dump(pipe))
    code, _, err = run(capsys, tiny_model, "-t", pipe_file, "-o", tmp_path / "o")
    assert code == 2
    assert one_line(err).startswith(f"error: {pipe_file} is a pipeline target, not a per-layer target; ")
    assert not (tmp_path / "o").exists()
    assert target_kind(per_layer) == PER_LAYER and target_kind(pipe) == PIPELINE
    assert target_kind({"name": "x"}) is None and target_kind([1]) is None
    assert target_kind({"name": "x", "schema": "rlsched-pipeline-v1"}) == PIPELINE


def test_a_pipeline_target_file_with_bad_values_still_lists_its_problems(graph_file, tmp_path, capsys):
    doc = yaml.safe_load((REPO / "accelerators" / "edgetpu.yaml").read_text())
    doc["compute"]["efficiency_ratio"] = 1.5
    path = tmp_path / "t.yaml"
    path.write_text(yaml.safe_dump(doc))
    code, _, err = run(capsys, "pipeline", graph_file, "-t", path, "-o", tmp_path / "o")
    assert code == 2
    assert one_line(err) == ("error: t.yaml: invalid pipeline target: compute.efficiency_ratio: must be <= 1, "
                             "got 1.5")


# ---- output folders ----------------------------------------------------------------------------

def test_pipeline_writes_under_rlsched_out_by_default(graph_file, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "pipeline", graph_file, "--solver", "greedy", "-q")
    assert code == 0 and err == ""
    assert (tmp_path / "rlsched_out" / "net__edgetpu" / "pipeline.json").is_file()
    assert (tmp_path / "rlsched_out" / "net__edgetpu" / "pipeline.svg").is_file()
    assert not (tmp_path / "out").exists()


def test_pipeline_out_is_the_folder_itself_with_a_one_release_note(graph_file, tmp_path, capsys):
    code, _, err = run(capsys, "pipeline", graph_file, "--solver", "greedy", "-o", tmp_path / "p", "-q")
    assert code == 0
    assert sorted(p.name for p in (tmp_path / "p").iterdir()) == [".rlsched-manifest.json", "pipeline.json",
                                                                   "pipeline.svg"]
    assert one_line(err) == ("rlsched-compile: warning: pipeline --out DIR now writes into DIR itself, as every "
                             "subcommand does (earlier versions wrote DIR/net__edgetpu/); this note goes in 0.2.0")


def test_train_defaults_to_rlsched_out_and_points_at_an_old_run(tmp_path, monkeypatch, caplog):
    monkeypatch.chdir(tmp_path)
    parser = argparse.ArgumentParser()
    train_command.add_arguments(parser)
    assert parser.parse_args([]).out is None
    assert train_command._default_out() == Path("rlsched_out/policy")
    assert not caplog.records
    (tmp_path / "rl_runs" / "policy").mkdir(parents=True)
    (tmp_path / "rl_runs" / "policy" / "checkpoint.pt").write_bytes(b"")
    assert train_command._default_out() == Path("rlsched_out/policy")
    assert [r.getMessage() for r in caplog.records] == [
        "the default output folder is now rlsched_out/policy (it was rl_runs/policy, which holds an earlier run: "
        "pass --out rl_runs/policy to resume it); this note goes in 0.2.0"]


# ---- one spelling, old spellings deprecated ----------------------------------------------------

def test_train_time_limit_s_is_a_deprecated_alias_of_time_limit(capsys):
    parser = argparse.ArgumentParser()
    train_command.add_arguments(parser)
    assert parser.parse_args(["--time-limit", "5"]).time_limit == 5.0
    assert capsys.readouterr().err == ""
    assert parser.parse_args(["--time-limit-s", "7"]).time_limit == 7.0
    assert one_line(capsys.readouterr().err) == (
        "rlsched-compile: warning: --time-limit-s is deprecated, use --time-limit "
        "(--time-limit-s stops working in 0.2.0)")
    assert parser.parse_args([]).time_limit is None
    assert "--time-limit-s" not in parser.format_help()
    assert parser.parse_args(["-o", "x"]).out == "x"


def test_show_target_format_text_is_a_deprecated_alias_of_table(capsys):
    code, table, err = run(capsys, "show-target", "simba", "--format", "table")
    assert code == 0 and err == "" and table.startswith("target simba  (sha256 ")
    code, text, err = run(capsys, "show-target", "simba", "--format", "text")
    assert code == 0 and text == table
    assert one_line(err) == ("rlsched-compile: warning: --format text is deprecated, use --format table "
                             "(--format text stops working in 0.2.0)")


@pytest.mark.parametrize("argv", [["targets"], ["show-target", "simba"], ["pipeline", "x.json"]])
def test_an_unknown_format_is_a_usage_error(capsys, argv):
    code, out, err = run(capsys, *argv, "--format", "yaml")
    assert code == 2 and out == ""
    assert err.rstrip().endswith("error: argument --format: invalid choice: 'yaml' (choose from table, json)")


@pytest.mark.parametrize("sub", ["pipeline", "zoo", "train", None])
def test_every_writing_subcommand_takes_o_and_out(capsys, sub):
    code, out, _ = run(capsys, *([sub] if sub else []), "-h")
    assert code == 0 and "--out DIR, -o DIR" in out
    if sub != "zoo":
        assert "rlsched_out" in out
    if sub in ("pipeline", "train"):
        assert "--time-limit SECONDS" in out


def test_split_list_takes_commas_and_spaces():
    assert train_command._split_list(["a,b", " c ", "d,,"]) == ["a", "b", "c", "d"]
