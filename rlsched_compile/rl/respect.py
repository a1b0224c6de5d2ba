"""Deprecated alias of the RESPECT training command, kept for one release.

``python -m rlsched_compile.rl.respect`` runs ``python -m rlsched_compile.pipeline.respect`` (RESPECT
now lives in :mod:`rlsched_compile.pipeline.respect`; ``rl/`` is the PPO agent only) after a one-line
note on stderr. Unlike the old command, the output folder defaults to ``rlsched_out/respect/``, not
the package. Removed in 0.2.0.
"""
from __future__ import annotations

import sys

from .._options import REMOVAL_VERSION

#: The note printed on every run.
NOTE = (f"note: `python -m rlsched_compile.rl.respect` is deprecated and goes in {REMOVAL_VERSION}: use "
        "`python -m rlsched_compile.pipeline.respect` (output now defaults to rlsched_out/respect/, not the package)")


def main(argv: list[str] | None = None) -> int:
    """Print :data:`NOTE` on stderr, then run the training command."""
    print(NOTE, file=sys.stderr)
    from ..pipeline.respect.__main__ import main as train_main  # noqa: PLC0415  (the alias only)
    return train_main(argv)


if __name__ == "__main__":
    sys.exit(main())
