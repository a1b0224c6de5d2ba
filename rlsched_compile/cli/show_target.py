"""``rlsched-compile show-target NAME|PATH``: one target in detail (text, or ``--format json``)."""
from __future__ import annotations

import argparse
import json
from typing import Sequence, TextIO

from .._options import PROG, add_format
from ._common import add_verbosity, verbosity
from ._logging import configure_logging


def main(argv: Sequence[str], stdout: TextIO) -> int:
    """Run the subcommand; returns 0."""
    p = argparse.ArgumentParser(prog=f"{PROG} show-target", description="Show one target in detail.")
    p.add_argument("target", metavar="NAME|PATH")
    add_format(p, aliases={"text": "table"}, json_help="the target as JSON")
    add_verbosity(p)
    args = p.parse_args(argv)
    configure_logging(verbosity(args))
    from ..emit.text import render_target
    from ..targets import load_target

    t = load_target(args.target)
    if args.format == "json":
        stdout.write(json.dumps({**t.to_dict(), "sha256": t.sha256}, indent=1, allow_nan=False) + "\n")
        return 0
    stdout.write(render_target(t))
    return 0
