"""``python -m rlsched_compile``: the same command as ``rlsched-compile``."""
from __future__ import annotations

import sys

from .cli import main

sys.exit(main())
