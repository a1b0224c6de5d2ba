"""The package's one atomic writer module: single files, safe reads, the output-folder lock and
the staged, swapped output set."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from rlsched_compile._io import (MANIFEST_NAME, OutputFolderError, UnsafeFileError, check_replaceable,
                                 foreign_entries, lock_path, output_lock, read_regular_file, staged_output_dir,
                                 write_bytes_atomic, write_text_atomic)


def test_writes_whole_file_with_umask_mode_and_leaves_no_temporary(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        write_text_atomic(tmp_path / "a.json", "{}\n")
    finally:
        os.umask(old)
    assert (tmp_path / "a.json").read_text() == "{}\n"
    assert (tmp_path / "a.json").stat().st_mode & 0o777 == 0o644
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]


def test_unchanged_content_is_not_rewritten(tmp_path: Path) -> None:
    path = tmp_path / "b.bin"
    write_bytes_atomic(path, b"xyz")
    os.utime(path, ns=(1, 1))
    write_bytes_atomic(path, b"xyz")
    assert path.stat().st_mtime_ns == 1
    write_bytes_atomic(path, b"xy")
    assert path.read_bytes() == b"xy"


def test_failure_leaves_neither_file_nor_temporary(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        write_bytes_atomic(tmp_path / "missing" / "c.bin", b"1")
    assert list(tmp_path.iterdir()) == []


# ---- safe reads, the output lock, the staged output set (issue 11 items 6, 7, 9) -------------

def test_read_regular_file_refuses_what_is_not_a_bounded_regular_file(tmp_path: Path) -> None:
    f = tmp_path / "f"
    f.write_bytes(b"12345")
    assert read_regular_file(f, max_bytes=5) == b"12345"
    with pytest.raises(UnsafeFileError, match="larger than 4 bytes"):
        read_regular_file(f, max_bytes=4)
    (tmp_path / "link").symlink_to(f)
    with pytest.raises(UnsafeFileError, match="symbolic link"):
        read_regular_file(tmp_path / "link", max_bytes=10)
    with pytest.raises(UnsafeFileError, match="not a regular file"):
        read_regular_file(tmp_path, max_bytes=10)
    if hasattr(os, "mkfifo"):
        os.mkfifo(tmp_path / "fifo")  # no writer: a plain open() would block for ever
        with pytest.raises(UnsafeFileError, match="not a regular file"):
            read_regular_file(tmp_path / "fifo", max_bytes=10)
        write_bytes_atomic(tmp_path / "fifo", b"x")  # replaced, never read
        assert (tmp_path / "fifo").read_bytes() == b"x"
    with pytest.raises(FileNotFoundError):
        read_regular_file(tmp_path / "missing", max_bytes=10)


def test_output_lock_is_exclusive_reentrant_and_leaves_nothing(tmp_path: Path) -> None:
    import fcntl

    out = tmp_path / "a" / "b" / "out"
    with output_lock(out):
        assert lock_path(out).is_file()
        with output_lock(out):  # the same process again: re-entrant
            pass
        assert lock_path(out).is_file()
        fd = os.open(lock_path(out), os.O_RDWR)
        try:
            with pytest.raises(BlockingIOError):  # another open file (another run) cannot take it
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        finally:
            os.close(fd)
    assert not (tmp_path / "a").exists()  # the lock file and the parents it created are gone


def test_staged_output_dir_swaps_whole_sets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from rlsched_compile import _io

    out = tmp_path / "out"
    for generation, names in enumerate((["a", "sub/b"], ["c"], ["d", "sub/e"])):
        if generation == 2:  # the portable two-rename swap, as on a platform without RENAME_EXCHANGE
            monkeypatch.setattr(_io, "_exchange", lambda a, b: False)
        with staged_output_dir(out) as stage:
            assert stage.parent == tmp_path and stage.name.startswith(".out.tmp-")
            for n in names:
                (stage / n).parent.mkdir(exist_ok=True)
                write_text_atomic(stage / n, str(generation))
        files = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
        assert files == sorted([*names, MANIFEST_NAME])
        assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no staging, old set or lock left
        assert foreign_entries(out) == []


def test_staged_output_dir_keeps_the_old_set_when_the_block_fails(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with staged_output_dir(out) as stage:
        write_text_atomic(stage / "report.json", "old")
    for exc in (RuntimeError("boom"), KeyboardInterrupt()):
        with pytest.raises(type(exc)):
            with staged_output_dir(out) as stage:
                write_text_atomic(stage / "report.json", "new")
                write_text_atomic(stage / "extra.json", "new")
                raise exc
        assert (out / "report.json").read_text() == "old" and not (out / "extra.json").exists()
        assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_manifest_cannot_claim_files_outside_or_be_malformed(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "mine.txt").write_text("x")
    for manifest in ('{"tool": "rlsched_compile", "format": 1, "files": ["../mine.txt"], "folders": []}',
                     '{"tool": "rlsched_compile", "format": 1, "files": "mine.txt", "folders": []}',
                     '{"tool": "other", "format": 1, "files": ["mine.txt"], "folders": []}',
                     "[" * 10000):
        (out / MANIFEST_NAME).write_text(manifest)
        with pytest.raises(OutputFolderError, match=r"holds 1 file\(s\) rlsched-compile did not write \(mine.txt\)"):
            check_replaceable(out)
    (out / MANIFEST_NAME).write_text('{"tool": "rlsched_compile", "format": 1, "files": ["mine.txt"], "folders": []}')
    check_replaceable(out)  # listed: the tool's own
    (out / "empty").mkdir()
    assert foreign_entries(out) == ["empty/"]


def test_a_killed_runs_staging_folder_is_removed_by_the_next_run_only_if_it_is_ours(tmp_path: Path) -> None:
    out = tmp_path / "out"
    stale = tmp_path / ".out.tmp-killed"
    stale.mkdir()
    (stale / ".rlsched-staging").write_text("")
    (stale / "report.json").write_text("half")
    unmarked = tmp_path / ".out.tmp-killedbeforemarking"  # empty: removed (rmdir cannot delete files)
    unmarked.mkdir()
    lookalike = tmp_path / ".out.tmp-users"
    lookalike.mkdir()
    (lookalike / "keep.txt").write_text("mine")
    with staged_output_dir(out) as stage:
        write_text_atomic(stage / "report.json", "new")
    assert not stale.exists() and not unmarked.exists() and (lookalike / "keep.txt").read_text() == "mine"
