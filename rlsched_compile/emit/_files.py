"""Output helpers of the emitters: deterministic JSON text, and the package's atomic writers."""
from __future__ import annotations

import json
import re

from .._io import write_bytes_atomic, write_text_atomic

__all__ = ["dumps_json", "write_bytes_atomic", "write_text_atomic"]

#: A JSON list of plain values as ``json.dumps(indent=...)`` lays it out (one item per line).
_SCALAR_LIST = re.compile(r"\[\n([^\[\]{}]*?)\n *\]")


def dumps_json(obj: object, *, indent: int = 1) -> str:
    """JSON with one key per line but lists of plain values on one line (readable tables),
    keys in insertion order, ending with a newline. Deterministic for the same object.

    Raises ``ValueError`` on a NaN or infinite float (never written: such figures are refused
    upstream). Uses the C encoder, then folds each list of plain values onto one line (a list holding a
    string with a bracket or brace stays unfolded, which is still the same JSON).
    """
    text = json.dumps(obj, indent=indent, allow_nan=False)  # NaN/Infinity are not JSON: fail loudly
    return _SCALAR_LIST.sub(lambda m: "[" + " ".join(ln.strip() for ln in m.group(1).split("\n")) + "]",
                            text) + "\n"
