"""Issue 11 item 14: the README's commands work on a fresh machine by themselves. The test command
is `.ci/run` (which installs everything, browser included, then runs pytest); the compile command
installs no torch, and compiling works with torch impossible to import."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
CI = (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def block_after(heading: str) -> str:
    """The first ```bash block after the line starting with ``heading``."""
    m = re.search(re.escape(heading) + r".*?```bash\n(.*?)\n```", README, re.S)
    assert m, f"no command block after {heading!r}"
    return m.group(1).strip()


def test_readme_commands() -> None:
    assert block_after("**Compile a zoo model") == \
        "pip install -e . && rlsched-compile model_zoo/resnet50.onnx --target eyeriss"
    assert block_after("**Run the tests") == "bash .ci/run"


def test_ci_script_installs_everything_then_runs_pytest() -> None:
    lines = [ln.strip() for ln in CI.splitlines() if ln.strip() and not ln.strip().startswith("#")]
    torch = lines.index("python -m pip install -q torch==2.13.0")
    project = next(i for i, ln in enumerate(lines) if ln.startswith('python -m pip install -q -e ".[train,test'))
    assert torch < project  # torch first: the `train` extra then pulls no CUDA wheels
    assert any("apt-get install" in ln and "chromium" in ln for ln in lines[project:])
    assert lines[-1] == "python -m pytest -q"
    assert os.access(ROOT / ".ci" / "run", os.R_OK)


def test_compiling_never_imports_torch(tmp_path: Path) -> None:
    """The compile command must not need torch: run it with `import torch` made to fail."""
    code = ("import sys; sys.modules['torch'] = None\n"
            "from rlsched_compile.cli import main\n"
            f"rc = main(['model_zoo/mobilenet_v3_small.onnx', '--target', 'eyeriss', '--out', {str(tmp_path / 'o')!r},"
            " '-q', '-j', '1'])\n"
            "assert 'torch' not in sys.modules or sys.modules['torch'] is None\n"
            "sys.exit(rc)\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "RLSCHED_CACHE_DIR": str(tmp_path / "cache")}
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "o" / "report.json").is_file()


def test_readme_names_only_existing_bench_scripts() -> None:
    """Every benchmark the README tells a reader to run exists (no pointer to a removed script)."""
    scripts = set(re.findall(r"bench/[\w]+\.py", README))
    assert "bench/bench_compile.py" in scripts
    assert [s for s in sorted(scripts) if not (ROOT / s).is_file()] == []
