"""The C cost model against every golden vector of the reference (../shared/golden)."""
from __future__ import annotations

import json
import math
from typing import Any

import pytest

from rlsched_compile import evaluate_table
from rlsched_compile.targets.loader import target_from_dict

REL_TOL = 1e-6


def mismatches(got: Any, want: Any, path: str = "expected") -> list[str]:
    """Every path where ``got`` differs from ``want`` (numbers within REL_TOL)."""
    if isinstance(want, dict):
        if not isinstance(got, dict) or set(got) != set(want):
            return [f"{path}: keys {sorted(got) if isinstance(got, dict) else got!r} != {sorted(want)}"]
        return [m for k in want for m in mismatches(got[k], want[k], f"{path}.{k}")]
    if isinstance(want, (int, float)) and not isinstance(want, bool):
        ok = got == want if want == 0 else math.isclose(got, want, rel_tol=REL_TOL, abs_tol=0.0)
        return [] if ok else [f"{path}: {got!r} != {want!r}"]
    return [] if got == want else [f"{path}: {got!r} != {want!r}"]


def test_mismatches_detects_differences() -> None:
    assert mismatches({"a": 1.0, "b": {"c": 2}}, {"a": 1.0, "b": {"c": 2}}) == []
    assert mismatches({"a": 1.00001}, {"a": 1.0}) == ["expected.a: 1.00001 != 1.0"]
    assert mismatches({"a": 1}, {"a": 1, "b": 2})


@pytest.fixture(scope="module")
def records(shared_dir) -> list[dict[str, Any]]:
    with open(shared_dir / "golden" / "cost_vectors.jsonl") as f:
        return [json.loads(line) for line in f]


def test_every_non_overflow_record_matches(records) -> None:
    targets: dict[str, Any] = {}
    matched, failures = 0, []
    for rec in records:
        if rec.get("overflow"):
            continue
        key = json.dumps(rec["target"], sort_keys=True)
        if key not in targets:
            targets[key] = target_from_dict(rec["target"], source=rec["id"])
        got = evaluate_table(targets[key], rec["layer"], rec["table"], strict=False).to_dict()
        diff = mismatches(got, rec["expected"])
        if diff:
            failures.append(f"{rec['id']} ({rec['target']['name']}): {diff[:3]}")
        else:
            matched += 1
    assert failures == []
    assert matched == 1515


def test_overflow_records_are_the_documented_twelve(records) -> None:
    # The reference wrapped uint32 there (spec Q14); our 64-bit model is expected to differ.
    assert sum(1 for r in records if r.get("overflow")) == 12


def test_overflow_records_are_valid_and_finite_in_64_bit(records) -> None:
    for rec in records:
        if not rec.get("overflow"):
            continue
        got = evaluate_table(target_from_dict(rec["target"]), rec["layer"], rec["table"], strict=False)
        assert got.valid == rec["expected"]["valid"]
        if got.valid:
            assert math.isfinite(got.energy_pj) and got.energy_pj > 0
            assert got.energy_pj >= got.energy_by_component_pj["mac_energy"]
