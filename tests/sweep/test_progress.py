"""The sweep's progress: a redrawn line with points, layers and an ETA on a terminal; a log line
per tenth of the points otherwise; log records clear the drawn line first."""
from __future__ import annotations

import io
import logging

from rlsched_compile.cli import configure_logging, reset_logging
from rlsched_compile.cli._logging import SweepProgressBar


class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_bar_on_a_terminal_with_eta_and_log_lines_above_it() -> None:
    stream = FakeTTY()
    configure_logging(0, stream)
    try:
        bar = SweepProgressBar(stream)
        bar(0, 8, 0, 20)
        bar(2, 8, 5, 20)
        logging.getLogger("rlsched_compile.sweep").warning("something")
        bar(8, 8, 20, 20)
        bar.close()
    finally:
        reset_logging()
    text = stream.getvalue()
    frames = [f for f in text.split("\r") if f.startswith("[")]
    assert frames[0].startswith("[" + "." * 24 + "] 0/8 points  0/20 layers  ETA      ?")
    assert frames[1].startswith("[" + "#" * 6 + "." * 18 + "] 2/8 points  5/20 layers  ETA ")
    assert frames[-1].startswith("[" + "#" * 24 + "] 8/8 points  20/20 layers  ETA     0s")
    assert "\r\033[Krlsched-compile: warning: something\n" in text  # the bar's line was cleared first
    assert text.endswith("\n")


def test_log_lines_when_not_a_terminal() -> None:
    stream = io.StringIO()
    configure_logging(0, stream)
    try:
        bar = SweepProgressBar(stream)
        for i in range(21):
            bar(i, 20, i, 20)
        bar.close()
    finally:
        reset_logging()
    lines = stream.getvalue().splitlines()
    assert "\r" not in stream.getvalue()
    assert len(lines) == 10  # one per tenth
    assert lines[0].startswith("rlsched-compile: 2/20 points done, 2/20 layers solved (")
    assert lines[-1].startswith("rlsched-compile: 20/20 points done")


def test_quiet_shows_nothing() -> None:
    stream = FakeTTY()
    bar = SweepProgressBar(stream, enabled=False)
    bar(1, 2, 1, 2)
    bar.close()
    assert stream.getvalue() == ""
