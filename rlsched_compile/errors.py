"""Exception hierarchy. Every user-facing failure is an RlschedError whose message is one line
saying what is wrong and how to fix it; the CLI prints it as ``error: <message>`` and exits 2."""
from __future__ import annotations


class RlschedError(Exception):
    """Base class of every error the package raises on purpose."""

    exit_code = 2


class TargetError(RlschedError):
    """A target file or target description is missing or invalid."""


class LayerError(RlschedError):
    """A layer description is invalid (non-positive sizes, K or C not divisible by G, ...)."""


class TableError(RlschedError):
    """A scheduling table is malformed (shape, entries, column products)."""


class ModelError(RlschedError):
    """An ONNX model cannot be read or turned into layers."""


class SearchError(RlschedError):
    """A search could not produce a valid schedule (e.g. no valid table exists)."""

    exit_code = 1


class NativeError(RlschedError):
    """The C library returned an unexpected status (a bug, not bad input)."""

    exit_code = 1


class PipelineError(RlschedError):
    """A pipeline-stage input is invalid: graph structure (cycle, unknown/duplicate ids) or stage count."""


def short_repr(value: object) -> str:
    """``repr`` of a value for a one-line message, cut to 40 characters (an int may have thousands
    of digits, or be too large for ``repr`` at all)."""
    try:
        text = repr(value)
    except ValueError:  # an int beyond sys.get_int_max_str_digits
        return "<an integer too large to print>"
    return text if len(text) <= 40 else text[:37] + "..."
