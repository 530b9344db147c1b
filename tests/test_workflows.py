"""Every workflow in .github/workflows/ passes actionlint and zizmor (offline) without a finding."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = sorted([*ROOT.glob(".github/workflows/*.yml"), *ROOT.glob(".github/workflows/*.yaml")])


def tool(name: str) -> str:
    found = shutil.which(name) or shutil.which(name, path=str(Path(sys.executable).parent))
    if not found:
        pytest.fail(f"{name} is not installed; run scripts/setup (it comes with the dev extras)")
    return found


def test_there_are_workflows() -> None:
    assert WORKFLOWS, "no workflow files found"


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=[p.name for p in WORKFLOWS])
def test_actionlint_is_clean(workflow: Path) -> None:
    done = subprocess.run([tool("actionlint"), "-no-color", str(workflow.relative_to(ROOT))], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and not done.stdout.strip(), done.stdout + done.stderr


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=[p.name for p in WORKFLOWS])
def test_zizmor_is_clean(workflow: Path) -> None:
    done = subprocess.run([tool("zizmor"), "--offline", "--no-progress", "--format", "plain", str(workflow.relative_to(ROOT))],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "No findings to report" in done.stdout, done.stdout + done.stderr
