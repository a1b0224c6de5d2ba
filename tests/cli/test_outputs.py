"""Issue 11, items 6-8 and 12 (part): whole-run atomic outputs, one run per output folder, files of
the user's own never deleted, workers that die with the compiler, SIGTERM like Ctrl-C, --jobs capped.

The kill tests run the real CLI in a subprocess. They are made deterministic without any debug
hook: the test polls for the run's staging folder (``.<out>.tmp-*``) or its lock (``/proc/locks``)
and freezes the run with SIGSTOP the moment it appears, so the kill lands while the run is frozen
mid-write (or while it holds the lock), however fast or slow the machine is; the test then knows
from the staging folder whether the swap could have begun, and checks accordingly.
"""
from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from rlsched_compile import cli, compile_model
from rlsched_compile._io import MANIFEST_NAME, OutputFolderError, lock_path, output_lock
from rlsched_compile._workers import usable_cores

from ._support import build_model_with_conv_transpose, out_files

pytestmark = pytest.mark.usefixtures("cache_dir")
linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses /proc and POSIX signals")
ROOT = Path(__file__).resolve().parents[2]


def run(capsys: pytest.CaptureFixture[str], *argv: object) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def build_chain(n: int, name: str = "chain") -> onnx.ModelProto:
    """``n`` identical 3x3 convolutions in a row: one unique layer (solved in a blink), ``2n``
    schedule files (a write phase long enough to be caught)."""
    w = numpy_helper.from_array(np.random.default_rng(0).standard_normal((8, 8, 3, 3)).astype(np.float32), "w")
    nodes, prev = [], "x"
    for i in range(n):
        nodes.append(helper.make_node("Conv", [prev, "w"], [f"c{i}"], name=f"conv{i}", pads=[1, 1, 1, 1]))
        prev = f"c{i}"
    graph = helper.make_graph(nodes, name, [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8, 16, 16])],
                              [helper.make_tensor_value_info(prev, TensorProto.FLOAT, [1, 8, 16, 16])], [w])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    return model


def spawn(*argv: object, cache_dir: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "RLSCHED_CACHE_DIR": str(cache_dir), "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "rlsched_compile", *map(str, argv)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)


def wait_for(what: str, cond: Callable[[], object], proc: subprocess.Popen[str], timeout_s: float = 120) -> object:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        got = cond()
        if got:
            return got
        if proc.poll() is not None:
            raise AssertionError(f"the run ended (rc {proc.returncode}) before {what}: {proc.stderr.read()}")
        time.sleep(0.002)
    proc.kill()
    raise AssertionError(f"timed out waiting for {what}")


def staging_dirs(out: Path) -> list[Path]:
    return sorted(out.parent.glob(f".{out.name}.tmp-*"))


def flock_held(path: Path) -> bool:
    """Whether some process holds a flock on ``path`` (read from /proc/locks, without locking)."""
    try:
        ino = os.stat(path).st_ino
    except FileNotFoundError:
        return False
    for line in Path("/proc/locks").read_text().splitlines():
        fields = line.split()
        if "FLOCK" in fields and any(f.endswith(f":{ino}") for f in fields):
            return True
    return False


def children(pid: int) -> list[int]:
    kids = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                stat = (d / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                kids.append(int(d.name))
    return kids


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


# ---- item 7: never delete a file the tool did not write ------------------------------------

def test_user_files_in_the_output_folder_are_never_deleted(tiny_model: Path, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "o"
    (out / "schedules").mkdir(parents=True)
    mine = out / "schedules" / "007_my_notes.json"  # looks like a schedule file, is the user's
    mine.write_text("{\"mine\": true}")
    code, stdout, err = run(capsys, tiny_model, "-t", "eyeriss", "--out", out, "-j", "1")
    assert code == 2 and stdout == ""
    assert err.strip() == (f"error: output directory {out} holds 1 file(s) rlsched-compile did not write "
                           "(schedules/007_my_notes.json); a run replaces the whole folder, so move them away "
                           "or choose another --out")
    assert mine.read_text() == "{\"mine\": true}"
    assert sorted(p.name for p in out.rglob("*")) == ["007_my_notes.json", "schedules"]  # nothing written

    # the tool's own folder, with a file of the user's added later: refused as well
    mine.unlink()
    (out / "schedules").rmdir()
    assert run(capsys, tiny_model, "-t", "eyeriss", "--out", out, "-j", "1", "-q")[0] == 0
    listed = json.loads((out / MANIFEST_NAME).read_text())
    assert sorted(listed["files"]) == sorted(str(p.relative_to(out)) for p in out.rglob("*")
                                             if p.is_file() and p.name != MANIFEST_NAME)
    before = out_files(out)
    (out / "schedules" / "000_conv0.md").write_text("my notes")
    code, _, err = run(capsys, tiny_model, "-t", "eyeriss", "--out", out, "-j", "1", "-q")
    assert code == 2 and "(schedules/000_conv0.md)" in err
    assert (out / "schedules" / "000_conv0.md").read_text() == "my notes"
    assert {k: v for k, v in out_files(out).items() if k != "schedules/000_conv0.md"} == before


def test_the_api_refuses_foreign_files_too(tiny_model: Path, tmp_path: Path) -> None:
    res = compile_model(str(tiny_model), "eyeriss", jobs=1)
    out = tmp_path / "o"
    out.mkdir()
    (out / "README").write_text("keep me")
    with pytest.raises(OutputFolderError, match=r"holds 1 file\(s\) rlsched-compile did not write \(README\)"):
        res.write(out)
    assert [p.name for p in out.iterdir()] == ["README"]
    assert not staging_dirs(out) and not lock_path(out).exists()


def test_pipeline_outputs_are_one_set_and_user_files_survive(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    model = tmp_path / "m.onnx"
    model.write_bytes(build_chain(6, "pchain").SerializeToString())
    folder = tmp_path / "p"
    argv = (model, "--stages", "2", "--solver", "param-balance", "--out", folder, "-q")
    assert run(capsys, "pipeline", *argv)[0] == 0
    assert sorted(p.name for p in folder.iterdir()) == [MANIFEST_NAME, "pipeline.json", "pipeline.svg"]
    assert run(capsys, "pipeline", *argv[:1], "--stages", "3", *argv[3:])[0] == 0
    assert [r["k"] for r in json.loads((folder / "pipeline.json").read_text())["runs"]] == [3]
    (folder / "notes.txt").write_text("mine")
    code, _, err = run(capsys, "pipeline", *argv)
    assert code == 2 and "did not write (notes.txt)" in err
    assert (folder / "notes.txt").read_text() == "mine"
    assert [r["k"] for r in json.loads((folder / "pipeline.json").read_text())["runs"]] == [3]
    # the folder holding the model itself is refused, never replaced
    code, _, err = run(capsys, "pipeline", *argv[:-3], "--out", tmp_path, "-q")
    assert code == 2 and "rlsched-compile did not write (" in err and "m.onnx" in err and model.is_file()


# ---- item 6: one run per folder; outputs all at once or not at all --------------------------

def test_a_folder_in_use_is_refused_in_process(tiny_model: Path, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    import fcntl

    out = tmp_path / "o"
    fd = os.open(lock_path(out), os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # as another run holds it (another open file, so it conflicts)
        code, stdout, err = run(capsys, tiny_model, "-t", "eyeriss", "--out", out, "-j", "1")
        with pytest.raises(OutputFolderError, match="is in use by another rlsched-compile run"):
            with output_lock(out):
                pass
    finally:
        os.unlink(lock_path(out))
        os.close(fd)
    assert code == 2 and stdout == ""
    assert err.strip() == (f"error: output directory {out} is in use by another rlsched-compile run (lock file "
                           f"{lock_path(out)}); wait for that run to finish or choose another --out")
    assert not out.exists() and not lock_path(out).exists()
    assert run(capsys, tiny_model, "-t", "eyeriss", "--out", out, "-j", "1", "-q")[0] == 0  # lock released


@linux_only
def test_two_concurrent_runs_into_one_folder_never_mix(tiny_model: Path, tmp_path: Path, cache_dir: Path) -> None:
    """The issue: two runs into one --out both exited 0 with one model's report and the other's
    .scheduled.onnx. Now the second fails at once (exit 2) and the first writes its whole set."""
    out = tmp_path / "o"
    other = tmp_path / "upsampler.onnx"
    other.write_bytes(build_model_with_conv_transpose().SerializeToString())
    a = spawn(tiny_model, "-t", "eyeriss", "--out", out, "-j", "1", "-q", cache_dir=cache_dir)
    try:
        wait_for("run A to hold the lock", lambda: flock_held(lock_path(out)), a)
        a.send_signal(signal.SIGSTOP)  # A holds the folder for as long as the test needs
        b = spawn(other, "-t", "eyeriss", "--out", out, "-j", "1", "-q", cache_dir=cache_dir)
        b_out, b_err = b.communicate(timeout=120)
        assert b.returncode == 2 and b_out == ""
        assert b_err.strip().startswith(f"error: output directory {out} is in use by another rlsched-compile run")
        assert len(b_err.strip().splitlines()) == 1
    finally:
        a.send_signal(signal.SIGCONT)
    _, a_err = a.communicate(timeout=300)
    assert a.returncode == 0, a_err
    assert json.loads((out / "report.json").read_text())["model"]["name"] == "tiny"
    assert (out / "tiny.scheduled.onnx").is_file() and not (out / "upsampler.scheduled.onnx").exists()
    assert not lock_path(out).exists() and not staging_dirs(out)


def _old_and_new_sets(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[Path, Path, dict[str, bytes],
                                                                                  dict[str, bytes]]:
    """A 150-layer model, an earlier run's folder (objective cycles) and the files the interrupted
    run (objective energy) would write (from a run into another folder, which also warms the cache)."""
    model = tmp_path / "chain.onnx"
    model.write_bytes(build_chain(150).SerializeToString())
    out, ref = tmp_path / "o", tmp_path / "ref"
    assert run(capsys, model, "-t", "eyeriss", "--out", out, "-j", "1", "-q", "--objective", "cycles")[0] == 0
    assert run(capsys, model, "-t", "eyeriss", "--out", ref, "-j", "1", "-q")[0] == 0
    old, new = out_files(out), out_files(ref)
    assert old != new and len(old) == len(new) == 305  # 300 schedule files, 3 reports, ONNX, manifest
    return model, out, old, new


def _interrupt_mid_write(model: Path, out: Path, cache_dir: Path, signals: tuple[signal.Signals, ...],
                         restore_old: Callable[[], None]) -> tuple[subprocess.Popen[str], str, str, bool]:
    """Start a run into ``out``, freeze it (SIGSTOP) the moment its staging folder appears, send
    ``signals``, and collect it. Returns the process, its stdout and stderr, and whether it was
    frozen mid-write (no manifest in the staging folder yet: the swap cannot have begun).

    On a very loaded machine the poller may not see the staging folder before the run ends; the
    old set is then restored and the attempt repeated (at most 3 times).
    """
    for _ in range(3):
        proc = spawn(model, "-t", "eyeriss", "--out", out, "-j", "1", "-q", cache_dir=cache_dir)
        while not staging_dirs(out) and proc.poll() is None:
            time.sleep(0.001)
        if proc.poll() is not None:  # finished before the poller looked
            proc.communicate()
            restore_old()
            continue
        proc.send_signal(signal.SIGSTOP)
        stage = staging_dirs(out)[0]
        mid_write = not (stage / MANIFEST_NAME).exists()  # written just before the swap
        for sig in signals:
            proc.send_signal(sig)
        if signal.SIGKILL not in signals:
            proc.send_signal(signal.SIGCONT)
        stdout, stderr = proc.communicate(timeout=120)
        return proc, stdout, stderr, mid_write
    raise AssertionError("three runs ended before their staging folder could be seen")


@linux_only
def test_sigkill_during_the_write_phase_leaves_the_old_set_whole(tmp_path: Path, cache_dir: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    model, out, old, new = _old_and_new_sets(tmp_path, capsys)

    def restore_old() -> None:
        assert run(capsys, model, "-t", "eyeriss", "--out", out, "-j", "1", "-q", "--objective", "cycles")[0] == 0

    proc, _, _, mid_write = _interrupt_mid_write(model, out, cache_dir, (signal.SIGKILL,), restore_old)
    assert proc.returncode == -signal.SIGKILL
    if mid_write:
        assert out_files(out) == old  # not one file lost, none of the new set mixed in
        assert len(staging_dirs(out)) == 1  # the killed run's hidden leftover, beside the folder
    else:  # frozen inside the swap itself: either whole set, never a mix
        assert out_files(out) in (old, new)
    # the next run removes the killed run's leftovers and swaps in the new set
    assert run(capsys, model, "-t", "eyeriss", "--out", out, "-j", "1", "-q")[0] == 0
    assert out_files(out) == new and not staging_dirs(out) and not lock_path(out).exists()


@linux_only
def test_sigterm_during_the_write_phase_exits_143_and_leaves_the_old_set(
        tmp_path: Path, cache_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model, out, old, new = _old_and_new_sets(tmp_path, capsys)

    def restore_old() -> None:
        assert run(capsys, model, "-t", "eyeriss", "--out", out, "-j", "1", "-q", "--objective", "cycles")[0] == 0

    proc, stdout, stderr, mid_write = _interrupt_mid_write(model, out, cache_dir, (signal.SIGTERM,), restore_old)
    assert proc.returncode == 143
    assert stderr == "error: terminated (SIGTERM) before finishing; no partial output was written\n"
    assert stdout == ""
    assert out_files(out) == old if mid_write else out_files(out) in (old, new)
    assert not staging_dirs(out) and not lock_path(out).exists()


# ---- item 8: workers die with their parent; SIGTERM like Ctrl-C ------------------------------

def _slow_parallel_run(tiny_model: Path, out: Path, cache_dir: Path) -> tuple[subprocess.Popen[str], list[int]]:
    """A --jobs 2 run whose workers search for many seconds; returns it once both workers run."""
    proc = spawn(tiny_model, "-t", "eyeriss", "--out", out, "--jobs", "2", "--no-cache", "-q", "--search", "random",
                 "--budget", "5000000", cache_dir=cache_dir)
    workers = wait_for("two workers", lambda: (lambda k: k if len(k) >= 2 else None)(children(proc.pid)), proc)
    assert isinstance(workers, list)
    time.sleep(0.5)  # let them get into their searches (blocked on nothing but the CPU)
    return proc, workers


def _kill_leftovers(proc: subprocess.Popen[str], workers: list[int]) -> None:
    """Clean up after a failed check: kill the workers this test started, by pid."""
    for p in workers:
        if alive(p):
            os.kill(p, signal.SIGKILL)
    if proc.poll() is None:
        proc.kill()


def _wait_dead(pids: list[int], timeout_s: float) -> list[int]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and any(alive(p) for p in pids):
        time.sleep(0.05)
    return [p for p in pids if alive(p)]


@linux_only
def test_kill_9_of_the_compiler_kills_its_workers(tiny_model: Path, tmp_path: Path, cache_dir: Path) -> None:
    proc, workers = _slow_parallel_run(tiny_model, tmp_path / "o", cache_dir)
    try:
        proc.kill()
        proc.wait(timeout=60)  # not communicate(): orphans would hold its pipes open
        assert _wait_dead(workers, 5.0) == [], "workers outlived their parent"
    finally:
        _kill_leftovers(proc, workers)
    assert not (tmp_path / "o").exists()


@linux_only
def test_sigterm_of_the_compiler_exits_143_and_stops_its_workers(tiny_model: Path, tmp_path: Path,
                                                                 cache_dir: Path) -> None:
    proc, workers = _slow_parallel_run(tiny_model, tmp_path / "o", cache_dir)
    try:
        proc.terminate()
        proc.wait(timeout=60)
        assert _wait_dead(workers, 5.0) == [], "workers outlived their parent"
    finally:
        _kill_leftovers(proc, workers)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 143
    assert stderr == "error: terminated (SIGTERM) before finishing; no partial output was written\n"
    assert stdout == ""
    assert not (tmp_path / "o").exists() and not lock_path(tmp_path / "o").exists()


# ---- item 12 (part): --jobs capped at the usable cores -----------------------------------------

def test_jobs_above_the_core_count_are_capped(tiny_model: Path, caplog: pytest.LogCaptureFixture) -> None:
    cores = usable_cores()
    with caplog.at_level(logging.INFO, logger="rlsched_compile"):
        res = compile_model(str(tiny_model), "eyeriss", jobs=64, cache=False)
    assert res.timing["jobs"] == min(cores, 4)  # 4 unique layers
    notes = [r.getMessage() for r in caplog.records if "capped" in r.getMessage()]
    assert notes == [f"--jobs 64 capped at {cores}, the CPU cores this process may use"]
