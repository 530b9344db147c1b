"""The benchmark scripts still run: a renamed module or command breaks them silently otherwise.

Each script's `--help` (its imports), and the quick ones end to end at a tiny size. The numbers
they print are not judged here: speed is measured by running the scripts, not by tests.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = sorted(p.name for p in (ROOT / "benchmarks").glob("*.py") if p.name not in {"measure.py", "synthetic.py"})


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("script", SCRIPTS)
def test_every_benchmark_script_starts(script: str) -> None:
    done = _run(f"benchmarks/{script}", "--help")
    assert done.returncode == 0, done.stderr


def test_the_dispatch_benchmark_sends_through_every_path(tmp_path: Path) -> None:
    out = tmp_path / "dispatch.json"
    done = _run("benchmarks/dispatch_smtp.py", "--letters", "5", "--rounds", "1", "--servers", "aiosmtpd", "--json", str(out))
    assert done.returncode == 0, done.stdout + done.stderr
    rows = json.loads(out.read_text())["servers"]["aiosmtpd"]
    assert len(rows) == 3 and all(row["seconds"] > 0 for row in rows.values()), rows


def test_the_paper_benchmark_reads_every_name_back(tmp_path: Path) -> None:
    out = tmp_path / "paper.json"
    done = _run("benchmarks/paper.py", "--sizes", "2", "--no-directory", "--json", str(out))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "| yes |" in done.stdout, done.stdout
