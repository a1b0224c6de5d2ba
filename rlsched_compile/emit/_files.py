"""Atomic file writes: a temporary file in the target directory, then ``os.replace``."""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path


def write_bytes_atomic(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the complete new one.

    Raises:
        OSError: the directory is not writable (no temporary file is left behind).
    """
    path = Path(path)
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


def dumps_json(obj: object, *, indent: int = 1) -> str:
    """JSON with one key per line but lists of plain values on one line (readable tables),
    keys in insertion order, ending with a newline. Deterministic for the same object."""

    def enc(o: object, level: int) -> str:
        pad, inner = " " * (indent * level), " " * (indent * (level + 1))
        if isinstance(o, dict):
            if not o:
                return "{}"
            items = [f"{inner}{json.dumps(str(k))}: {enc(v, level + 1)}" for k, v in o.items()]
            return "{\n" + ",\n".join(items) + "\n" + pad + "}"
        if isinstance(o, (list, tuple)):
            if all(not isinstance(v, (dict, list, tuple)) for v in o):
                return "[" + ", ".join(json.dumps(v) for v in o) + "]"
            return "[\n" + ",\n".join(inner + enc(v, level + 1) for v in o) + "\n" + pad + "]"
        return json.dumps(o)

    return enc(obj, 0) + "\n"
