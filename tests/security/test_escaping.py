"""Issue 11 item 3: hostile layer and model names are escaped in every output format (report.md,
report.html, schedule .txt) and on the terminal (stdout, stderr): no raw HTML, no broken Markdown
table, no raw newline or ESC sequence, so no forged ``error:`` line in a run that exits 0."""
from __future__ import annotations

import re

import pytest

from rlsched_compile._sanitize import terminal_safe
from rlsched_compile.cli import main
from rlsched_compile.emit._escape import md_cell

from cli._support import build_tiny_model  # tests/ is on sys.path (rootdir-relative packages)

HOSTILE = "<svg onload=alert(1)>|x`y`[z](u)\nerror: forged line\x1b[31mRED\x1b]0;title\x07\r\u2028!"


def _unescaped_pipes(line: str) -> int:
    return len(re.findall(r"(?<!\\)\|", line))


@pytest.fixture()
def hostile_run(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("RLSCHED_CACHE_DIR", str(tmp_path / "cache"))
    model = build_tiny_model("tiny")
    model.graph.node[0].name = HOSTILE
    model.graph.node[8].name = "fc|" + HOSTILE  # the Gemm
    path = tmp_path / "tiny.onnx"
    path.write_bytes(model.SerializeToString())
    out = tmp_path / "out"
    code = main([str(path), "-t", "eyeriss", "--search", "bottom-up", "--no-cache", "-o", str(out), "-v"])
    captured = capsys.readouterr()
    return code, out, captured.out, captured.err


def test_terminal_gets_no_raw_control_characters(hostile_run):
    code, _, stdout, stderr = hostile_run
    assert code == 0
    for stream in (stdout, stderr):
        assert "\x1b" not in stream and "\r" not in stream and "\x07" not in stream and "\u2028" not in stream
        assert not any(re.match(r"(rlsched-compile: )?error:", line) for line in stream.splitlines())
    assert "\\nerror: forged line\\x1b[31mRED" in stdout


def test_markdown_report_escapes_names(hostile_run):
    _, out, _, _ = hostile_run
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "<svg" not in md and "\x1b" not in md and "\r" not in md
    assert "&lt;svg onload=alert(1)&gt;" in md
    assert not any(line.startswith("error:") for line in md.splitlines())
    lines = md.splitlines()
    for header in ("| # | layer | count |", "| # | layer | op |"):
        start = next(i for i, ln in enumerate(lines) if ln.startswith(header))
        cells = _unescaped_pipes(lines[start])
        body = []
        for ln in lines[start + 2:]:
            if not ln.startswith("|"):
                break
            body.append(ln)
        assert len(body) >= 4 and all(_unescaped_pipes(ln) == cells for ln in body), body


def test_html_report_escapes_names(hostile_run):
    _, out, _, _ = hostile_run
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "<svg onload" not in page and "onload=alert(1)>" not in page
    assert "&lt;svg onload=alert(1)&gt;" in page


def test_schedule_text_files_escape_names(hostile_run):
    _, out, _, _ = hostile_run
    texts = [p.read_text(encoding="utf-8") for p in sorted((out / "schedules").glob("*.txt"))]
    assert len(texts) == 5
    for text in texts:
        assert "\x1b" not in text and "\r" not in text
        assert not any(line.startswith("error:") for line in text.splitlines())
    assert any("<svg onload=alert(1)>|x`y`[z](u)\\nerror: forged line\\x1b[31mRED" in t for t in texts)


def test_error_messages_are_escaped_too(tmp_path, capsys):
    bad = tmp_path / "bad\x1b[2J\nerror: nothing.yaml"
    assert main(["show-target", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "\x1b" not in err and err.count("\n") == 1 and err.startswith("error: target file not found")


def test_helpers():
    assert terminal_safe("a\nb\x1bc\x9bd\u2028") == "a\\nb\\x1bc\\x9bd\\u2028"
    assert md_cell("a|b") == "a\\|b" and md_cell("<b>") == "&lt;b&gt;"
