"""``rlsched-compile zoo [list|regenerate|check] [NAMES...]``: list, rebuild or check the model zoo."""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Sequence, TextIO

from .._options import PROG, add_out
from ..errors import RlschedError
from ._common import add_verbosity, check_output_dir, verbosity
from ._logging import configure_logging


def main(argv: Sequence[str], stdout: TextIO) -> int:
    """Run the subcommand; returns 0, or 1 when ``check`` finds a stale file."""
    p = argparse.ArgumentParser(prog=f"{PROG} zoo", description="List or regenerate the model zoo.")
    p.add_argument("action", nargs="?", choices=("list", "regenerate", "check"), default="list",
                   help="list the zoo files (default), regenerate them, or check they match a rebuild")
    p.add_argument("names", nargs="*", help="models to regenerate (default: all)")
    add_out(p, "regenerate into the zoo folder in use")
    add_verbosity(p)
    args = p.parse_args(argv)
    configure_logging(verbosity(args))
    from ..emit.text import render_columns
    from ..errors import ModelError
    from ..frontend import zoo

    unknown = [n for n in args.names if n not in zoo.BUILDERS]
    if unknown:
        raise ModelError(f"unknown zoo model {unknown[0]!r}; choose from {', '.join(zoo.BUILDERS)}")
    if args.action == "list":
        rows = []
        for name in zoo.BUILDERS:
            counts = zoo.EXPECTED_COUNTS.get(name)
            try:
                path = zoo.zoo_path(name)
                size, where = f"{path.stat().st_size / 1024:.0f} KiB", str(path)
            except ModelError:
                size, where = "-", "(missing: run `zoo regenerate`)"
            rows.append((name, str(counts.conv) if counts else "?", str(counts.depthwise) if counts else "?",
                         str(counts.fc) if counts else "?", str(counts.other) if counts else "?", size, where))
        stdout.write(render_columns(("model", "conv", "depthwise", "fc", "other", "size", "file"), rows))
        return 0
    out_dir = Path(args.out) if args.out else _zoo_dir()
    if args.action == "check":
        stale = zoo.check_zoo(out_dir)
        for name in stale:
            stdout.write(f"{name}.onnx is missing or differs from a rebuild\n")
        if not stale:
            stdout.write(f"zoo in {out_dir} matches a rebuild\n")
        return 1 if stale else 0
    check_output_dir(out_dir)
    for path in zoo.build_all(out_dir, names=args.names or None):
        stdout.write(f"{path}\n")
    return 0


def _zoo_dir() -> Path:
    """The folder of the first zoo model found (``model_zoo`` when none is)."""
    from ..frontend import zoo

    for name in zoo.BUILDERS:
        try:
            return Path(zoo.zoo_path(name)).parent
        except RlschedError:
            continue
    return Path("model_zoo")
