"""The worked examples of spec §11 through the Python API, with shipped and dict targets."""
from __future__ import annotations

import json

import pytest

from rlsched_compile import Layer, evaluate_table, load_target
from rlsched_compile.errors import LayerError, TableError


def conv1_table() -> list[list[int]]:
    t = [[1] * 8 for _ in range(10)]
    t[3] = [16, 1, 1, 1, 1, 1, 7, 1]
    t[4] = [1, 1, 1, 2, 1, 7, 1, 1]
    t[5] = [4, 1, 1, 1, 3, 1, 1, 1]
    t[6] = [1, 1, 28, 8, 1, 1, 1, 1]
    t[9] = [1, 1, 4, 7, 1, 1, 1, 1]
    return t


CONV1 = Layer("conv1", K=64, B=1, P=112, Q=112, C=3, R=7, S=7, stride_h=2, stride_w=2)


def test_example1_resnet50_conv1_on_shipped_eyeriss() -> None:
    ev = evaluate_table("eyeriss", CONV1, conv1_table())
    assert ev.valid
    assert ev.cycles == 4510072
    assert ev.energy_pj == pytest.approx(611750400, rel=1e-6)
    assert ev.energy_by_component_pj["dram_energy"] == pytest.approx(128231936, rel=1e-6)
    assert ev.tile_sizes["global_buffer"]["alloc"] == {"input": 6771, "weight": 9408, "output": 28672}
    assert ev.access_counts["global_buffer"] == {"input_read": 6272, "weight_read": 1, "output_read": 0,
                                                  "output_write": 6272}


def test_example2_simba_is_variant(shared_dir) -> None:
    target = json.loads((shared_dir / "golden" / "targets" / "simba.json").read_text())
    target["levels"][1]["dataflow"] = "IS"
    layer = {"name": "ex2", "K": 64, "B": 2, "P": 14, "Q": 14, "C": 32, "R": 3, "S": 3, "G": 1, "stride": 1}
    rows = {1: [1, 1, 1, 1, 8, 1, 1, 1], 2: [8, 1, 1, 1, 1, 1, 1, 1], 3: [1, 1, 1, 7, 1, 3, 3, 1],
            4: [4, 1, 1, 1, 1, 1, 1, 1], 5: [1, 1, 2, 1, 1, 1, 1, 1], 6: [1, 1, 7, 1, 4, 1, 1, 1],
            7: [2, 1, 1, 1, 1, 1, 1, 1], 8: [1, 1, 1, 2, 1, 1, 1, 1], 9: [1, 2, 1, 1, 1, 1, 1, 1]}
    table = [rows.get(r, [1] * 8) for r in range(10)]
    ev = evaluate_table(target, layer, table)
    assert ev.cycles == 329560
    assert ev.energy_pj == pytest.approx(78362160, rel=1e-6)
    assert ev.access_counts["dram"] == {"input_read": 2, "weight_read": 2, "output_read": 0, "output_write": 2}


def test_example3_no_global_buffer(shared_dir) -> None:
    target = json.loads((shared_dir / "golden" / "targets" / "acc_1lv.json").read_text())
    target["levels"][0]["dataflow"] = "OS"
    layer = Layer("ex3", K=16, B=1, P=6, Q=6, C=8, R=3, S=3)
    table = [[1] * 8 for _ in range(10)]
    table[3] = [1, 1, 1, 2, 2, 1, 3, 1]
    table[4] = [4, 1, 1, 1, 1, 1, 1, 1]
    table[9] = [4, 1, 6, 3, 4, 3, 1, 1]
    ev = evaluate_table(target, layer, table)
    assert ev.cycles == 108144
    assert ev.energy_pj == pytest.approx(3852690.5, rel=1e-6)
    assert ev.energy_by_component_pj["gb_energy"] == 0


def test_golden_table_form_and_numpy_form_agree() -> None:
    import numpy as np

    from rlsched_compile.table import ROW_NAMES

    golden_form = [{"row": n, "values": v} for n, v in zip(ROW_NAMES, conv1_table())]
    a = evaluate_table("eyeriss", CONV1, golden_form)
    b = evaluate_table("eyeriss", CONV1, np.array(conv1_table()))
    assert a == b


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ([[1] * 8] * 9, "table must be 10 rows x 8 columns (K, B, P, Q, C, R, S, G), got shape 9x8"),
        ([[1] * 7] * 10, "table must be 10 rows x 8 columns (K, B, P, Q, C, R, S, G), got shape 10x7"),
        ([[1] * 8] * 5 + [[1, 1, 0, 1, 1, 1, 1, 1]] + [[1] * 8] * 4,
         "table entry PE(Y)/P = 0: every entry must be an integer >= 1 (use 1 for an unused loop)"),
        ([[1] * 8] * 3 + [[-2] + [1] * 7] + [[1] * 8] * 6,
         "table entry LocalBuffer/K = -2: every entry must be an integer >= 1 (use 1 for an unused loop)"),
        ([[1] * 8] * 3 + [[1.5] + [1] * 7] + [[1] * 8] * 6,
         "table entry LocalBuffer/K = 1.5: every entry must be an integer >= 1 (use 1 for an unused loop)"),
    ],
)
def test_malformed_tables_raise_clear_errors(table, message) -> None:
    with pytest.raises(TableError) as exc:
        evaluate_table("eyeriss", CONV1, table)
    assert str(exc.value) == message


def test_wrong_column_product_is_an_error_when_strict_and_a_reason_otherwise() -> None:
    table = conv1_table()
    table[9][0] = 2  # K now multiplies to 128
    with pytest.raises(TableError) as exc:
        evaluate_table("eyeriss", CONV1, table)
    assert str(exc.value) == ("column K multiplies to 128 but layer 'conv1' needs K/G = 64: make each "
                              "column's product equal the layer's parameter")
    ev = evaluate_table("eyeriss", CONV1, table, strict=False)
    assert not ev.valid and ev.invalid_reason == "column_product"
    assert ev.to_dict()["invalid_reason"] == "column_product"
    assert "energy_pj" not in ev.to_dict()


def test_invalid_layer_is_rejected_with_its_reason() -> None:
    with pytest.raises(LayerError, match="C=3 is not divisible by G=2"):
        Layer("bad", K=64, B=1, P=1, Q=1, C=3, R=1, S=1, G=2)
    with pytest.raises(LayerError, match="P=0 must be a positive integer"):
        evaluate_table("eyeriss", {"name": "x", "K": 1, "B": 1, "P": 0, "Q": 1, "C": 1, "R": 1, "S": 1},
                       [[1] * 8] * 10)


def test_capacity_violation_is_an_invalid_result_not_an_error() -> None:
    table = conv1_table()
    table[3][0], table[5][0] = 64, 1  # all of K in the 12-element input / 224-element weight LB
    ev = evaluate_table("eyeriss", CONV1, table)
    assert not ev.valid and ev.invalid_reason == "lb_capacity"
    assert ev.energy_pj == float("inf")


def test_load_target_by_name_matches_its_json(shared_dir) -> None:
    for name in ("eyeriss", "eyeriss_v2", "tpu_v3", "simba"):
        from_json = load_target(shared_dir / "targets" / f"{name}.json")
        assert load_target(name).to_dict() == from_json.to_dict()
