"""The C library on its own: warnings as errors, its C-level tests (also under AddressSanitizer
and UndefinedBehaviorSanitizer), the ABI check, and sharing a target handle between threads."""
from __future__ import annotations

import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from rlsched_compile import Layer, evaluate_batch, load_target

ROOT = Path(__file__).resolve().parents[2]
C_DIR = ROOT / "c"
WARNINGS = ["-std=c11", "-Wall", "-Wextra", "-Werror", "-Wno-unused-parameter"]
SANITIZE = ["-O1", "-g", "-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-fno-omit-frame-pointer"]

pytestmark = pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc is needed to build the C tests")


def c_tests() -> list[Path]:
    return sorted((C_DIR / "tests").glob("test_*.c"))


def build_and_run(test: Path, flags: list[str], out_dir: Path) -> subprocess.CompletedProcess[str]:
    exe = out_dir / test.stem
    sources = [str(p) for p in sorted((C_DIR / "src").glob("*.c"))]
    cmd = ["gcc", *WARNINGS, *flags, f"-I{C_DIR / 'include'}", f"-I{C_DIR / 'src'}", *sources, str(test),
           "-lm", "-o", str(exe)]
    build = subprocess.run(cmd, capture_output=True, text=True)
    assert build.returncode == 0, build.stderr
    return subprocess.run([str(exe)], capture_output=True, text=True, timeout=600,
                          env={"ASAN_OPTIONS": "detect_leaks=1", "UBSAN_OPTIONS": "print_stacktrace=1"})


@pytest.mark.parametrize("test", c_tests(), ids=lambda p: p.stem)
def test_c_tests_pass_optimised(test: Path, tmp_path: Path) -> None:
    run = build_and_run(test, ["-O2"], tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.strip().splitlines()[-1].endswith(" 0 failed")


@pytest.mark.parametrize("test", c_tests(), ids=lambda p: p.stem)
def test_c_tests_pass_under_asan_and_ubsan(test: Path, tmp_path: Path) -> None:
    run = build_and_run(test, SANITIZE, tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "runtime error" not in run.stderr and "AddressSanitizer" not in run.stderr


def test_abi_version_matches() -> None:
    from rlsched_compile.native._rls import lib

    assert lib.rls_abi_version() == lib.RLS_ABI_VERSION == 1


def test_extension_is_built_with_warnings_as_errors() -> None:
    build = (ROOT / "rlsched_compile" / "native" / "_build.py").read_text()
    for flag in ("-Wall", "-Wextra", "-Werror"):
        assert f'"{flag}"' in build


def test_shared_target_handle_from_many_threads() -> None:
    target = load_target("simba")
    layer = Layer("t", K=64, B=1, P=14, Q=14, C=64, R=3, S=3)
    tables = np.ones((500, 10, 8), dtype=np.int64)
    tables[:, 9] = layer.per_group()
    rng = np.random.default_rng(0)
    tables[:, 3, 0] = rng.choice([1, 2, 4], size=500)
    tables[:, 9, 0] //= tables[:, 3, 0]
    expected = evaluate_batch(target, layer, tables)
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: evaluate_batch(target, layer, tables), range(32)))
    for r in results:
        np.testing.assert_array_equal(r.energy_pj, expected.energy_pj)
        np.testing.assert_array_equal(r.valid, expected.valid)
