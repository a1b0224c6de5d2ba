"""Issue 12 item 6: every file the package writes goes through ``_io`` (one atomic writer).

``atomic_path`` serves writers that need a file name (``shutil.copyfile``, ``np.savez``,
``torch.save``); the source check below finds any writer that bypasses ``_io``.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pytest

from rlsched_compile._io import atomic_path

PACKAGE = Path(__file__).resolve().parents[1] / "rlsched_compile"

#: Calls that write a file (or make the temporary of one) by themselves.
_WRITES = re.compile(r"""open\([^)]*["'][wax]b?["']|\.write_text\(|\.write_bytes\(|tempfile\.mkstemp|os\.replace\(|"""
                     r"""json\.dump\(|np\.savez|torch\.save\(|onnx\.save""")
#: A write is fine when its line or the line before names one of these: a temporary from
#: ``atomic_path``, or an in-memory buffer handed to ``write_bytes_atomic`` afterwards.
_THROUGH_IO = ("atomic_path", "BytesIO")
#: Lines (module, text) that may make a file themselves, and why.
_ALLOWED = {
    ("_stdout.py", "open(results_fd"): "reopens the inherited standard-output descriptor (no file name)",
    ("api.py", 'mkstemp(prefix=".probe."'): "a probe that the output folder is writable, removed at once",
}


def test_a_name_writer_replaces_the_file_whole_with_the_umask_mode(tmp_path: Path) -> None:
    path = tmp_path / "w.npz"
    path.write_bytes(b"old")
    old = os.umask(0o022)
    try:
        with atomic_path(path) as tmp, open(tmp, "wb") as f:
            assert tmp.parent == tmp_path and tmp != path
            np.savez(f, a=np.arange(3))
    finally:
        os.umask(old)
    with np.load(path) as data:
        assert data["a"].tolist() == [0, 1, 2]
    assert path.stat().st_mode & 0o777 == 0o644
    assert [p.name for p in tmp_path.iterdir()] == ["w.npz"]


def test_a_failed_name_writer_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    path = tmp_path / "w.bin"
    path.write_bytes(b"old")
    with pytest.raises(RuntimeError):
        with atomic_path(path) as tmp:
            tmp.write_bytes(b"half")
            raise RuntimeError("interrupted")
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["w.bin"]


def test_no_module_writes_a_file_past_io() -> None:
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "_io.py":
            continue
        module = str(path.relative_to(PACKAGE))
        lines = path.read_text(encoding="utf-8").splitlines()
        for n, line in enumerate(lines):
            context = line + (lines[n - 1] if n else "")
            allowed = any(module == m and text in line for m, text in _ALLOWED)
            if _WRITES.search(line) and not allowed and not any(word in context for word in _THROUGH_IO):
                offenders.append(f"{module}:{n + 1}: {line.strip()}")
    assert offenders == []
