"""Options shared by every ``rlsched-compile`` subcommand, spelled one way (see README, "Command-line conventions").

* ``-t/--target NAME|PATH``, ``-o/--out DIR`` (the output folder itself; default
  ``rlsched_out/<model>__<target>/``), ``--format table|json``, ``--time-limit SECONDS``,
  ``--seed N``, ``-q/--quiet`` and ``-v/--verbose``.
* Old spellings keep working for one release (until :data:`REMOVAL_VERSION`) and print one
  ``warning:`` line on stderr naming the new spelling (:func:`add_deprecated_alias`).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Sequence

#: The program name used in warnings.
PROG = "rlsched-compile"
#: Root of the default output folders.
OUTPUT_ROOT = Path("rlsched_out")
#: The release in which deprecated spellings stop working.
REMOVAL_VERSION = "0.2.0"
#: Values of ``--format``.
FORMATS: tuple[str, ...] = ("table", "json")


def warn(message: str) -> None:
    """Print one ``rlsched-compile: warning: ...`` line on stderr (before logging is set up)."""
    print(f"{PROG}: warning: {message}", file=sys.stderr)


def deprecation(old: str, new: str) -> str:
    """The deprecation note for an old spelling."""
    return f"{old} is deprecated, use {new} ({old} stops working in {REMOVAL_VERSION})"


class _DeprecatedAlias(argparse.Action):
    """Stores into the new option's destination and prints a deprecation warning."""

    def __init__(self, option_strings: Sequence[str], dest: str, *, new: str, **kwargs: Any) -> None:
        self.new = new
        super().__init__(option_strings, dest, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> None:
        warn(deprecation(option_string or self.option_strings[0], self.new))
        setattr(namespace, self.dest, values)


def add_deprecated_alias(parser: argparse.ArgumentParser, old: str, new: str, dest: str, **kwargs: Any) -> None:
    """Accept ``old`` as a hidden alias of the option ``new`` (same ``dest``), warning when used.

    Args:
        parser: the subcommand's parser (where ``new`` is already defined).
        old: the old spelling, e.g. ``--time-limit-s``.
        new: the new spelling, named in the warning.
        dest: the destination of ``new``.
        **kwargs: ``type`` and the like, as for ``new``.
    """
    parser.add_argument(old, dest=dest, action=_DeprecatedAlias, new=new, help=argparse.SUPPRESS,
                        default=argparse.SUPPRESS, **kwargs)


class _FormatAction(argparse.Action):
    """``--format``: one of :data:`FORMATS`; deprecated values are mapped with a warning."""

    def __init__(self, option_strings: Sequence[str], dest: str, *, aliases: dict[str, str], **kwargs: Any) -> None:
        self.aliases = aliases
        super().__init__(option_strings, dest, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> None:
        if values in self.aliases:
            warn(deprecation(f"--format {values}", f"--format {self.aliases[values]}"))
            values = self.aliases[values]
        elif values not in FORMATS:
            parser.error(f"argument --format: invalid choice: {values!r} (choose from {', '.join(FORMATS)})")
        setattr(namespace, self.dest, values)


def add_format(parser: argparse.ArgumentParser, *, aliases: dict[str, str] | None = None,
               json_help: str = "JSON") -> None:
    """Add ``--format table|json`` (default ``table``).

    Args:
        parser: the subcommand's parser.
        aliases: deprecated values and the value each stands for (e.g. ``{"text": "table"}``).
        json_help: what ``json`` prints.
    """
    parser.add_argument("--format", action=_FormatAction, aliases=dict(aliases or {}), default="table",
                        metavar="{table,json}",
                        help=f"stdout: human-readable text (table, the default) or {json_help}; "
                             "with json, stdout holds nothing but the JSON document")


def add_out(parser: argparse.ArgumentParser, default_help: str) -> None:
    """Add ``-o/--out DIR``: the output folder itself (default: None, the caller's default)."""
    parser.add_argument("--out", "-o", default=None, metavar="DIR",
                        help=f"output folder (default: {default_help})")

