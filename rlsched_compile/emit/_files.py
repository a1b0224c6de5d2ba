"""Atomic file writes: a temporary file in the target directory, then ``os.replace``."""
from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path


def write_bytes_atomic(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the complete new one.

    A file that already holds exactly ``data`` is left alone (a warm re-run into the same
    directory rewrites nothing and keeps modification times).

    Raises:
        OSError: the directory is not writable (no temporary file is left behind).
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


#: A JSON list of plain values as ``json.dumps(indent=...)`` lays it out (one item per line).
_SCALAR_LIST = re.compile(r"\[\n([^\[\]{}]*?)\n *\]")


def dumps_json(obj: object, *, indent: int = 1) -> str:
    """JSON with one key per line but lists of plain values on one line (readable tables),
    keys in insertion order, ending with a newline. Deterministic for the same object.

    Uses the C encoder, then folds each list of plain values onto one line (a list holding a
    string with a bracket or brace stays unfolded, which is still the same JSON).
    """
    text = json.dumps(obj, indent=indent)
    return _SCALAR_LIST.sub(lambda m: "[" + " ".join(ln.strip() for ln in m.group(1).split("\n")) + "]",
                            text) + "\n"
