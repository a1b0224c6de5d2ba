"""``--format json``: stdout is one JSON document and nothing else, for every subcommand and solver.

Each command runs as a real subprocess, so a native write to file descriptor 1 (HiGHS prints its
banner from the constructor of a process's first solver object) would reach the captured stdout.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import onnx
import pytest

from rlsched_compile.api import available_strategies
from rlsched_compile.pipeline.generate import random_dag
from rlsched_compile.pipeline.solvers import SOLVERS

from ._support import build_tiny_model

REPO = Path(__file__).resolve().parents[2]


def _cli(args: list[str], cwd: Path, *, code: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""),
           "RLSCHED_CACHE_DIR": str(cwd / "cache")}
    argv = [sys.executable, "-c", code] if code is not None else [sys.executable, "-m", "rlsched_compile", *args]
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False)


def _json_stdout(proc: subprocess.CompletedProcess[str]) -> object:
    """The whole of stdout parsed as one JSON document (fails on any other byte but whitespace)."""
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip(), "nothing on stdout"
    try:
        return json.loads(proc.stdout)
    except json.JSONDecodeError as exc:
        pytest.fail(f"stdout is not one JSON document ({exc}); it starts {proc.stdout[:200]!r}")


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("stdout_json")
    onnx.save(build_tiny_model(), str(d / "tiny.onnx"))
    # A general DAG (not chain-like), so the exact solver builds a HiGHS model instead of using the DP.
    (d / "net.json").write_text(json.dumps(random_dag(14, seed=5).to_json_dict()), encoding="utf-8")
    return d


@pytest.mark.parametrize("strategy", available_strategies()[0])
def test_compile_json_stdout_for_every_strategy(work, strategy):
    out = work / f"compile_{strategy}"
    proc = _cli(["tiny.onnx", "-t", "eyeriss", "--search", strategy, "--budget", "2000", "--no-cache",
                 "-j", "1", "-o", str(out), "--format", "json"], work)
    doc = _json_stdout(proc)
    assert isinstance(doc, dict) and doc == json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert "layer" in proc.stderr  # the progress lines went to stderr


@pytest.mark.parametrize("solver", sorted(SOLVERS))
def test_pipeline_json_stdout_for_every_solver(work, solver):
    out = work / f"pipeline_{solver}"
    proc = _cli(["pipeline", "net.json", "--solver", solver, "--stages", "3,4", "-o", str(out),
                 "--format", "json"], work)
    doc = _json_stdout(proc)
    assert isinstance(doc, dict) and [r["solver"] for r in doc["runs"]] == [solver, solver]
    assert proc.stdout == (out / "pipeline.json").read_text(encoding="utf-8")
    if solver == "exact":
        assert [r["method"] for r in doc["runs"]] == ["ilp", "ilp"]  # HiGHS really ran
    assert "HiGHS" not in proc.stderr  # silent without -v


def test_pipeline_exact_verbose_sends_the_solver_log_to_stderr(work):
    proc = _cli(["pipeline", "net.json", "--solver", "exact", "-o", str(work / "pv"), "--format", "json", "-v"],
                work)
    assert _json_stdout(proc)["runs"][0]["method"] == "ilp"
    assert "HiGHS" in proc.stderr and "rlsched-compile: HiGHS: " in proc.stderr


def test_targets_show_target_and_evaluate_json_stdout(work):
    names = [t["name"] for t in _json_stdout(_cli(["targets", "--format", "json"], work))]  # type: ignore[union-attr]
    assert "simba" in names and "edgetpu" not in names
    shown = _json_stdout(_cli(["show-target", "simba", "--format", "json"], work))
    assert isinstance(shown, dict) and shown["name"] == "simba"
    out = work / "for_evaluate"
    assert _cli(["tiny.onnx", "-t", "eyeriss", "--search", "bottom-up", "-j", "1", "-o", str(out), "-q"],
                work).returncode == 0
    schedule = sorted((out / "schedules").glob("*.json"))[0]
    ev = _json_stdout(_cli(["evaluate", str(schedule), "-t", "eyeriss", "--format", "json"], work))
    assert isinstance(ev, dict) and ev["valid"] is True


def test_native_writes_to_fd1_during_a_command_go_to_stderr(work):
    """The CLI's guard, not only HiGHS's options: a raw write to fd 1 never lands in the results."""
    code = ("import os, sys\n"
            "import types\n"
            "from rlsched_compile import cli\n"
            "inner = cli.SUBCOMMANDS['targets'].main\n"
            "def noisy(argv, stdout):\n"
            "    os.write(1, b'native noise\\n')\n"
            "    return inner(argv, stdout)\n"
            "cli.SUBCOMMANDS['targets'] = types.SimpleNamespace(main=noisy)\n"
            "code = cli.main(['targets', '--format', 'json'])\n"
            "os.write(1, b'after\\n')\n"
            "sys.exit(code)\n")
    proc = _cli([], work, code=code)
    assert proc.returncode == 0, proc.stderr
    body, _, tail = proc.stdout.rpartition("]\n")
    assert tail == "after\n"  # fd 1 is restored once the command returns
    assert isinstance(json.loads(body + "]"), list)
    assert "native noise" in proc.stderr and "native noise" not in proc.stdout


def test_exact_solver_prints_nothing_to_stdout_when_used_as_a_library(work):
    code = ("import json\n"
            "from rlsched_compile.pipeline.solvers import solve\n"
            "from rlsched_compile.pipeline.graph import load_graph\n"
            "from rlsched_compile.pipeline.target import load_pipeline_target\n"
            "t = load_pipeline_target('edgetpu')\n"
            "g = load_graph('net.json', data_type_bytes=t.data_type_bytes)\n"
            "r = solve(g, t, 4, solver='exact', time_limit_s=30)\n"
            "assert r.method == 'ilp', r.method\n")
    proc = _cli([], work, code=code)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    assert "HiGHS" not in proc.stderr
