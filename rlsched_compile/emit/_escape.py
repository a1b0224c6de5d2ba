"""One escape helper per output format, for text that comes from the input (layer and node
names, operator types, messages): :func:`html_text` for HTML, :func:`md_cell` for Markdown."""
from __future__ import annotations

import html
import re

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")  # U+2028/9: line separators too
#: Markdown punctuation that can open code spans or links, end a table cell, or escape.
_MD_PUNCT = re.compile(r"([\\`|\[\]])")


def html_text(text: object) -> str:
    """``text`` as HTML character data or a quoted attribute value (``& < > " '`` escaped)."""
    return html.escape(str(text), quote=True)


def md_cell(text: object) -> str:
    """``text`` safe inside a Markdown paragraph or table cell.

    Control characters become U+FFFD, newlines and tabs a space; ``& < >`` become HTML entities
    (no raw HTML survives rendering); backslashes, backticks, ``|`` and square brackets are
    backslash-escaped, so the text cannot open a code span or a link, nor break a table row.
    (Emphasis characters are left alone: at worst they change the look of a name.)
    """
    s = str(text).replace("\r\n", " ").replace("\n", " ").replace("\r", " ").replace("\t", " ")
    s = _CONTROL.sub("\ufffd", s)
    s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_PUNCT.sub(r"\\\1", s)
