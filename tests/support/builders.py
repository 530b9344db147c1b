"""Builders shared by the tests and benchmarks: throw-away campaign repositories, files, git, the CLI."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from click.testing import CliRunner, Result

from campaign.cli import main

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout


def make_campaign(root: Path) -> Path:
    """A campaign repository at `root`: the real campaign.yaml, letters and catalogues; fixture missions."""
    (root / "data" / "signatories").mkdir(parents=True)
    (root / "data" / "actions").mkdir()
    shutil.copy(ROOT / "data" / "campaign.yaml", root / "data" / "campaign.yaml")
    shutil.copytree(ROOT / "data" / "letter", root / "data" / "letter")
    shutil.copytree(ROOT / "locale", root / "locale")
    shutil.copy(FIXTURES / "missions.yaml", root / "data" / "missions.yaml")
    shutil.copy(ROOT / ".gitignore", root / ".gitignore")
    return root


def init_repo(repo: Path) -> Path:
    """Make `repo` a git repository with one commit of everything on `main`."""
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "maintainer@example.org")
    git(repo, "config", "user.name", "Maintainer")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "campaign")
    return repo


def run(root: Path, *args: str) -> Result:
    """Run the real CLI against `root`; output and exit code as a user would see them."""
    return CliRunner().invoke(main, ["--root", str(root), *args], catch_exceptions=False)


def write(root: Path, rel: str, text: str | bytes) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path
