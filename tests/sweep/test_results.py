"""Result rows: the Pareto front against its definition, CSV cells that read back exactly."""
from __future__ import annotations

import csv
import io

from hypothesis import given, settings
from hypothesis import strategies as st

from rlsched_compile.sweep.results import error_row, ok_row, pareto_front, render_csv

_figures = st.lists(st.tuples(st.sampled_from([1.0, 2.0, 3.0, 4.5, 1e9]), st.sampled_from([10.0, 20.0, 35.0, 7.0]),
                              st.booleans()), min_size=0, max_size=30)


def _rows(items: list[tuple[float, float, bool]]) -> list[dict]:
    return [{"status": "ok" if ok else "error", "energy_pj": e if ok else None, "cycles": c if ok else None}
            for e, c, ok in items]


@settings(max_examples=300, deadline=None)
@given(_figures)
def test_pareto_front_is_exactly_the_non_dominated_ok_rows(items: list[tuple[float, float, bool]]) -> None:
    rows = _rows(items)
    ok = [i for i, r in enumerate(rows) if r["status"] == "ok"]

    def dominated(i: int) -> bool:
        a = rows[i]
        return any(rows[j]["energy_pj"] <= a["energy_pj"] and rows[j]["cycles"] <= a["cycles"]
                   and (rows[j]["energy_pj"], rows[j]["cycles"]) != (a["energy_pj"], a["cycles"]) for j in ok)

    front = pareto_front(rows)
    assert sorted(front) == sorted(i for i in ok if not dominated(i))
    assert [(rows[i]["energy_pj"], rows[i]["cycles"], i) for i in front] == sorted(
        (rows[i]["energy_pj"], rows[i]["cycles"], i) for i in front)


def test_csv_cells_read_back_exactly() -> None:
    ident = {"model": "m", "target": "t", "flow": None, "bypass": ["weight"], "objective": "energy"}
    totals = {"energy_pj": 0.1 + 0.2, "cycles": 3e20, "macs": 12, "mac_utilization": 1 / 3, "pe_utilization": 0.5,
              "compute_utilization": 2 / 7, "layers": 3, "unique_layers": 2}
    rows = [ok_row(ident, totals), error_row(ident, "bad\ntarget,  with \"quotes\"")]
    cols = list(rows[0])
    text = render_csv(rows, cols)
    back = list(csv.DictReader(io.StringIO(text)))
    assert float(back[0]["energy_pj"]) == 0.1 + 0.2 and float(back[0]["cycles"]) == 3e20
    assert float(back[0]["edp"]) == (0.1 + 0.2) * 3e20
    assert back[0]["mac_utilization"] == "0.333333333333"
    assert back[0]["flow"] == "null" and back[0]["bypass"] == '["weight"]'
    assert back[1]["status"] == "error" and back[1]["energy_pj"] == ""
    assert back[1]["message"] == 'bad target, with "quotes"'  # one line, whitespace folded
    assert "\r" not in text
