"""The package version, in a module that imports nothing (so any module can import it without a
cycle through the package ``__init__``). ``pyproject.toml`` names the same version."""

__version__ = "0.1.0"
