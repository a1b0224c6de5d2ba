"""``python -m rlsched_compile.pipeline.respect``: train the RESPECT pointer network (needs torch).

The command line itself (options, logging, error lines) is :mod:`rlsched_compile.cli.train_respect`.
"""
from __future__ import annotations

import sys

from ...cli.train_respect import PROG, main

__all__ = ["PROG", "main"]

if __name__ == "__main__":
    sys.exit(main())
