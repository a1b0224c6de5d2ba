"""Build hook: setuptools compiles the C cost model through cffi (out-of-line API mode)."""
from setuptools import setup

setup(cffi_modules=["rlsched_compile/native/_build.py:ffibuilder"])
