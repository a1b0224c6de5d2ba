"""Atomic file output shared by every writer of the package (reports, schedules, pipeline files,
training checkpoints): a reader never sees a half-written file, and an interrupted run leaves none."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path


def _file_mode() -> int:
    """Mode of an ordinary new file under the current umask (mkstemp alone would give 0600)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def write_bytes_atomic(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and ``os.replace``.

    A file that already holds exactly ``data`` is left untouched (warm re-runs do not rewrite it).
    """
    path = Path(path)
    try:
        if path.stat().st_size == len(data) and path.read_bytes() == data:
            return
    except OSError:
        pass
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, _file_mode())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def write_text_atomic(path: str | os.PathLike[str], text: str) -> None:
    """UTF-8 text version of :func:`write_bytes_atomic` (newlines written as ``\\n``)."""
    write_bytes_atomic(path, text.encode("utf-8"))
