"""The package's one atomic writer."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from rlsched_compile._io import write_bytes_atomic, write_text_atomic


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
