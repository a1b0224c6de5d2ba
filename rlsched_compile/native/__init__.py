"""The C library (cost model and searches) and its typed Python wrappers.

Only this package touches cffi. Import the wrappers (``costmodel``, ``search``), not ``_rls``.
"""
