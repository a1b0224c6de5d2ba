"""Names that come from input data (ONNX node and graph names, target names, pipeline target
names), made safe for the places they end up in: file names and the terminal.

One helper per destination, used everywhere that destination is written:

* :func:`safe_file_name`: a single path component of letters, digits, ``.``, ``_`` and ``-``
  (no separator, no ``..``, no leading dot, never empty), so a name like ``../../x`` or ``/tmp/x``
  cannot place a file outside the output folder. Schedule files, ``<model>.scheduled.onnx`` and the
  pipeline command's ``<graph>__<target>`` folder all go through it.
* :func:`terminal_safe`: control characters (newline, carriage return, ESC and the rest of C0/C1,
  DEL) and Unicode line/paragraph separators written as visible escapes (``\\n``, ``\\x1b``), so a
  name cannot start a new line (a forged ``error:`` line) or send terminal escape sequences.

Markdown and HTML escaping live with their emitters (``emit/report.py``, ``emit/html.py``).
"""
from __future__ import annotations

import re

#: Characters kept in file names; every run of other characters becomes one ``_``.
_UNSAFE_FILE_CHARS = re.compile(r"[^A-Za-z0-9._-]+")
#: Longest file-name part taken from a name (the rest is cut).
MAX_FILE_NAME_CHARS = 80
#: C0 controls, DEL, C1 controls and the Unicode line/paragraph separators.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u0085]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def safe_file_name(name: str, *, fallback: str = "unnamed", max_chars: int = MAX_FILE_NAME_CHARS) -> str:
    """``name`` reduced to one safe path component.

    Args:
        name: any text from input data.
        fallback: returned when nothing usable is left (``""``, ``".."``, ``"///"``).
        max_chars: the longest result.

    Returns:
        A non-empty string of ``[A-Za-z0-9._-]`` that does not start with ``.`` or ``_`` (so
        never ``.``, ``..`` or a hidden file), at most ``max_chars`` long.
    """
    safe = _UNSAFE_FILE_CHARS.sub("_", str(name)).strip("._") or fallback
    return safe[:max_chars]


def terminal_safe(text: str) -> str:
    """``text`` with every control character shown as an escape (``\\n``, ``\\x1b``, ``\\u2028``)."""

    def esc(m: re.Match[str]) -> str:
        ch = m.group(0)
        if ch in _NAMED:
            return _NAMED[ch]
        code = ord(ch)
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"

    return _CONTROL.sub(esc, str(text))
