"""``python -m rlsched_compile.pipeline.respect``: train the RESPECT pointer network (needs torch).

The command line of :mod:`.command`. As a command-line entry it is the one place of this package
that sets up logging (progress on stderr, undone on return), and it turns bad input into one
``error:`` line and exit code 2.
"""
from __future__ import annotations

import argparse
import importlib.util
import logging
import sys

from ...errors import RlschedError
from . import command

#: How the command is run (its name in usage and error lines).
PROG = "python -m rlsched_compile.pipeline.respect"


def main(argv: list[str] | None = None) -> int:
    """Run the training command; returns the exit code (0, or 2 on bad input)."""
    parser = argparse.ArgumentParser(prog=PROG, description="Train the RESPECT pointer network (needs torch).")
    command.add_arguments(parser)
    args = parser.parse_args(argv)
    if importlib.util.find_spec("torch") is None:
        print(f"{PROG}: error: training needs torch; install it with pip install 'rlsched_compile[train]'",
              file=sys.stderr)
        return 2
    root = logging.getLogger("rlsched_compile")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.WARNING if args.quiet else logging.INFO)
    try:
        return command.run(args)
    except RlschedError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


if __name__ == "__main__":
    sys.exit(main())
