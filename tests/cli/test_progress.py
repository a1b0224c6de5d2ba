"""Progress display: a redrawn bar on a terminal, plain log lines otherwise, nothing with -q."""
from __future__ import annotations

import io
import logging

import pytest

from rlsched_compile.cli import Progress, configure_logging, reset_logging


class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_bar_on_a_terminal() -> None:
    stream = FakeTTY()
    p = Progress(stream)
    p(0, 4, "conv0")
    p(1, 4, "conv0")
    p(4, 4, "fc")
    text = stream.getvalue()
    frames = text.split("\r")[1:]
    assert len(frames) == 3
    assert frames[0].startswith("[" + "." * 28 + "] 0/4 layers  ETA    ?  conv0")
    assert frames[1].startswith("[" + "#" * 7 + "." * 21 + "] 1/4 layers  ETA ")
    assert frames[2].startswith("[" + "#" * 28 + "] 4/4 layers  ETA    0s  fc")
    assert text.endswith("\n")  # the finished bar is closed with a newline


def test_log_lines_when_not_a_terminal(caplog: pytest.LogCaptureFixture) -> None:
    stream = io.StringIO()
    configure_logging(0, stream)
    try:
        p = Progress(stream)
        p(0, 2, "conv0")
        p(1, 2, "conv0")
        p(2, 2, "conv1")
        lines = stream.getvalue().splitlines()
    finally:
        reset_logging()
    assert "\r" not in stream.getvalue()
    assert len(lines) == 2
    assert lines[0].startswith("rlsched-compile: layer 1/2 done: conv0 (")
    assert lines[1].startswith("rlsched-compile: layer 2/2 done: conv1 (")


def test_quiet_shows_nothing() -> None:
    stream = FakeTTY()
    p = Progress(stream, enabled=False)
    p(0, 3, "a")
    p(3, 3, "a")
    p.close()
    assert stream.getvalue() == ""
    configure_logging(-1, stream)
    try:
        logging.getLogger("rlsched_compile.api").info("hidden")
        logging.getLogger("rlsched_compile.api").warning("shown")
    finally:
        reset_logging()
    assert stream.getvalue() == "rlsched-compile: warning: shown\n"


def test_log_lines_go_above_a_drawn_bar() -> None:
    stream = FakeTTY()
    configure_logging(0, stream)
    try:
        p = Progress(stream)
        p(1, 3, "conv0")
        logging.getLogger("rlsched_compile.api").warning("careful")
        p.close()
    finally:
        reset_logging()
    frame = "\r[" + "#" * 9 + "." * 19 + "] 1/3 layers"
    text = stream.getvalue()
    assert text.startswith(frame)
    # the bar line is cleared, the warning written on its own line, and the bar drawn again
    after = text.split("\r\033[K", 1)[1]
    assert after.startswith("rlsched-compile: warning: careful\n" + frame)
    assert text.endswith("\n")
