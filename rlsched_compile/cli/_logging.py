"""Logging and progress of the command line: one ``rlsched-compile: ...`` line per record on stderr,
drawn above the progress bar when one is on the terminal.

:func:`configure_logging` is the one place of the package that configures logging (``main`` calls
it per run and undoes it with :func:`reset_logging`); nothing below the command line does.
"""
from __future__ import annotations

import logging
import sys
import time
from typing import TextIO

from .._options import PROG
from .._sanitize import terminal_safe

logger = logging.getLogger("rlsched_compile.cli")


class _Formatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        # names from input data are in many messages: one record is always one terminal line
        msg = terminal_safe(record.getMessage())
        if record.levelno >= logging.ERROR:
            return f"{PROG}: error: {msg}"
        if record.levelno >= logging.WARNING:
            return f"{PROG}: warning: {msg}"
        return f"{PROG}: {msg}"


class _CliHandler(logging.StreamHandler[TextIO]):
    """Writes log records above a progress bar that is being drawn on the same stream."""

    def emit(self, record: logging.LogRecord) -> None:
        bar = _ACTIVE_BAR[0]
        if bar is not None and bar.drawn and bar.stream is self.stream:
            self.stream.write("\r\033[K")
            super().emit(record)
            bar.redraw()
        else:
            super().emit(record)


#: The progress bar currently drawn on a terminal (at most one).
_ACTIVE_BAR: list[Progress | None] = [None]


def _remove_cli_handlers(root: logging.Logger) -> None:
    for h in list(root.handlers):
        if isinstance(h, _CliHandler):
            root.removeHandler(h)


def configure_logging(verbosity: int, stream: TextIO | None = None) -> None:
    """Set up the package logger: -1 quiet (warnings), 0 info, 1 debug."""
    level = {-1: logging.WARNING, 0: logging.INFO}.get(verbosity, logging.DEBUG)
    root = logging.getLogger("rlsched_compile")
    _remove_cli_handlers(root)
    handler = _CliHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(_Formatter())
    root.addHandler(handler)
    root.setLevel(level)


def reset_logging() -> None:
    """Undo :func:`configure_logging` (``main`` does this on return, so it can run in-process)."""
    root = logging.getLogger("rlsched_compile")
    _remove_cli_handlers(root)
    root.setLevel(logging.NOTSET)


class _Bar:
    """What both progress displays keep: the stream, whether it is a terminal, the start time and
    whether a bar line is drawn now.

    Args:
        stream: where to draw (stderr).
        enabled: False for ``-q``.
    """

    def __init__(self, stream: TextIO, *, enabled: bool = True) -> None:
        self.stream = stream
        self.enabled = enabled
        self.tty = enabled and hasattr(stream, "isatty") and stream.isatty()
        self.t0 = time.monotonic()
        self.drawn = False


class Progress(_Bar):
    """Progress over unique layers: a redrawn bar on a terminal, log lines otherwise.

    Args:
        stream: where to draw (stderr).
        enabled: False for ``-q``.
    """

    def __init__(self, stream: TextIO, *, enabled: bool = True) -> None:
        super().__init__(stream, enabled=enabled)
        self.last = ""

    def __call__(self, done: int, total: int, name: str) -> None:
        if not self.enabled or total == 0:
            return
        elapsed = time.monotonic() - self.t0
        eta = f"ETA {elapsed / done * (total - done):4.0f}s" if done else "ETA    ?"
        if self.tty:
            width = 28
            fill = int(width * done / total)
            shown = terminal_safe(name)[:40]
            self.last = f"\r[{'#' * fill}{'.' * (width - fill)}] {done}/{total} layers  {eta}  {shown:<40}"
            self.stream.write(self.last)
            self.stream.flush()
            self.drawn = True
            _ACTIVE_BAR[0] = self
            if done == total:
                self.close()
        elif done:
            logger.info("layer %d/%d done: %s (%.1f s elapsed, %s)", done, total, name, elapsed, eta)

    def redraw(self) -> None:
        """Draw the last frame again (after a log line was written above it)."""
        if self.drawn:
            self.stream.write(self.last)
            self.stream.flush()

    def close(self) -> None:
        """End the bar's line (when drawn) and stop drawing log records around it."""
        if self.drawn:
            self.stream.write("\n")
            self.stream.flush()
            self.drawn = False
        if _ACTIVE_BAR[0] is self:
            _ACTIVE_BAR[0] = None


class SweepProgressBar(_Bar):
    """Progress over points and layer tasks, with an ETA from the layer rate: a redrawn line on
    a terminal, a log line at every tenth of the points otherwise, nothing when disabled.

    While the bar is drawn, log records on the same stream first clear its line (a logging
    filter on the package's handlers), and the next update draws it again.
    """

    def __init__(self, stream: TextIO, *, enabled: bool = True) -> None:
        super().__init__(stream, enabled=enabled)
        self.last_decile = 0
        self._handlers: list[logging.Handler] = []
        if self.tty:
            for h in logging.getLogger("rlsched_compile").handlers:
                if getattr(h, "stream", None) is stream:
                    h.addFilter(self._clear)
                    self._handlers.append(h)

    def _clear(self, record: logging.LogRecord) -> bool:
        if self.drawn:
            self.stream.write("\r\033[K")
            self.drawn = False
        return True

    def __call__(self, points_done: int, points_total: int, layers_done: int, layers_total: int) -> None:
        if not self.enabled or points_total == 0:
            return
        elapsed = time.monotonic() - self.t0
        if layers_done and layers_total:
            eta = f"ETA {elapsed / layers_done * (layers_total - layers_done):5.0f}s"
        elif points_done == points_total:
            eta = "ETA     0s"
        else:
            eta = "ETA      ?"
        if self.tty:
            width = 24
            fill = int(width * points_done / points_total)
            self.stream.write(f"\r[{'#' * fill}{'.' * (width - fill)}] {points_done}/{points_total} points  "
                              f"{layers_done}/{layers_total} layers  {eta}\033[K")
            self.stream.flush()
            self.drawn = True
        else:
            decile = 10 * points_done // points_total
            if decile > self.last_decile and points_done:
                self.last_decile = decile
                logger.info("%d/%d points done, %d/%d layers solved (%.1f s elapsed, %s)", points_done,
                            points_total, layers_done, layers_total, elapsed, eta)

    def close(self) -> None:
        """End the bar's line (when drawn) and remove its filters."""
        if self.drawn:
            self.stream.write("\n")
            self.stream.flush()
            self.drawn = False
        for h in self._handlers:
            h.removeFilter(self._clear)
        self._handlers = []
