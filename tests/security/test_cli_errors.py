"""Issue 11 item 11: inputs that used to end in a traceback are one ``error:`` line and exit code 2.

(Target integers >= 2^63 / reals like 1e400 are in test_extreme_targets.py, deep nesting in
test_bounded_inputs.py, corrupt checkpoints in tests/rl/test_checkpoint_safety.py, external-data
paths in test_external_data.py.)"""
from __future__ import annotations

import json

import numpy as np
import pytest

from rlsched_compile.cli import main
from rlsched_compile.errors import TableError
from rlsched_compile.native.costmodel import evaluate_batch, evaluate_table
from rlsched_compile.table import ROW_NAMES

from cli._support import build_tiny_model  # tests/ is on sys.path (rootdir-relative packages)

LAYER = {"name": "l", "K": 64, "B": 1, "P": 56, "Q": 56, "C": 64, "R": 3, "S": 3}


def _table() -> list[list[int]]:
    t = [[1] * 8 for _ in range(10)]
    t[9] = [64, 1, 56, 56, 64, 3, 3, 1]
    return t


def _one_error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in err, err
    return lines[0]


def test_batch_beyond_any_layer_size_is_one_error_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("RLSCHED_CACHE_DIR", str(tmp_path / "cache"))
    model = build_tiny_model("dyn")
    for vi in (model.graph.input[0], model.graph.output[0]):
        vi.type.tensor_type.shape.dim[0].dim_param = "N"
    path = tmp_path / "dyn.onnx"
    path.write_bytes(model.SerializeToString())
    assert main([str(path), "-t", "eyeriss", "--batch", str(2 ** 70), "-q", "-o", str(tmp_path / "o")]) == 2
    assert "batch 1180591620717411303424 is larger than the largest supported size 2^52" in _one_error(capsys)
    assert not (tmp_path / "o").exists()


def _evaluate(tmp_path, capsys, doc) -> str:
    path = tmp_path / "s.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    assert main(["evaluate", str(path), "--target", "eyeriss"]) == 2
    return _one_error(capsys)


def test_evaluate_entry_beyond_int64(tmp_path, capsys):
    table = _table()
    table[0][0] = 2 ** 63
    assert "table entry Register/K = 9223372036854775808: larger than 2^63 - 1" in _evaluate(
        tmp_path, capsys, {"layer": LAYER, "table": table})


def test_evaluate_layer_parameter_beyond_int64(tmp_path, capsys):
    assert "K=18446744073709551616 is larger than the largest supported size 2^52" in _evaluate(
        tmp_path, capsys, {"layer": {**LAYER, "K": 2 ** 64}, "table": _table()})


@pytest.mark.parametrize("table, message", [
    (None, "table must be 10 rows x 8 columns (K, B, P, Q, C, R, S, G) of integers, got NoneType"),
    ({"rows": 5}, "of integers, got int"),
    ("1,2,3", "of integers, got str"),
    ([{"row": n} for n in ROW_NAMES], "table row 'Register' has no `values`"),
    ([{"row": n, "values": [1] * 8} for n in ROW_NAMES[:9]] + [{"row": "DRAM"}], "table row 'DRAM' has no `values`"),
    ([[1.9] * 8] * 10, "table entry Register/K = 1.9: every entry must be an integer >= 1"),
], ids=["null", "rows-int", "string", "no-values", "last-no-values", "float"])
def test_evaluate_malformed_tables(tmp_path, capsys, table, message):
    assert message in _evaluate(tmp_path, capsys, {"layer": LAYER, "table": table})


def test_one_entry_rule_for_single_and_batch_evaluation():
    table = np.array(_table(), dtype=float)
    table[3, 0] = 1.9
    with pytest.raises(TableError, match="Register|LocalBuffer"):
        evaluate_table("eyeriss", LAYER, table.tolist())
    with pytest.raises(TableError, match=r"LocalBuffer/K = 1\.9.*never truncated"):
        evaluate_batch("eyeriss", LAYER, table[None])
    with pytest.raises(TableError, match=r"Register/K = 1\.0: every entry must be an integer"):
        evaluate_batch("eyeriss", LAYER, [table.tolist()])  # 1.0 is a float too: refused as by evaluate_table
    with pytest.raises(TableError, match="integer"):
        evaluate_batch("eyeriss", LAYER, np.ones((1, 10, 8), dtype=bool))
    big = np.array(_table(), dtype=np.uint64)[None]
    big[0, 0, 0] = 2 ** 63
    with pytest.raises(TableError, match="larger than 2"):
        evaluate_batch("eyeriss", LAYER, big)
    # integers are unchanged: an int32 batch is the int64 batch, entries < 1 give an invalid table
    t = np.array(_table(), dtype=np.int32)[None].repeat(2, axis=0)
    t[1, 0, 0] = 0
    res = evaluate_batch("eyeriss", LAYER, t)
    assert list(res.valid) == [True, False]
    assert res.energy_pj[0] == evaluate_table("eyeriss", LAYER, _table()).energy_pj
