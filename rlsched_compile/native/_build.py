"""cffi builder (out-of-line API mode); runs at build time only.

``setup.py`` names ``ffibuilder`` in ``cffi_modules``. Every ``c/src/*.c`` is compiled into the
extension ``rlsched_compile.native._rls``; the cdef is read from ``c/rls.cdef`` and checked by the
compiler against ``c/include/rls.h``.
"""
from __future__ import annotations

import os
from pathlib import Path

from cffi import FFI

ROOT = Path(__file__).resolve().parents[2]
C_DIR = ROOT / "c"


def _relative(p: Path) -> str:
    # setuptools wants paths relative to the project root when building from it
    try:
        return os.path.relpath(p, Path.cwd())
    except ValueError:
        return str(p)


ffibuilder = FFI()
ffibuilder.cdef((C_DIR / "rls.cdef").read_text())
ffibuilder.set_source(
    "rlsched_compile.native._rls",
    '#include "rls.h"\n',
    sources=[_relative(p) for p in sorted((C_DIR / "src").glob("*.c"))],
    include_dirs=[_relative(C_DIR / "include"), _relative(C_DIR / "src")],
    extra_compile_args=["-std=c11", "-O3", "-Wall", "-Wextra", "-Werror",
                        "-Wno-unused-parameter", "-fno-strict-aliasing"],
    libraries=["m"],
)

if __name__ == "__main__":
    ffibuilder.compile(verbose=False)
