"""A campaign repository with the real site (docs/, mkdocs.yml, the hooks) and `mkdocs build
--strict` run in it as a user runs it (test_site_build, test_browser, the ledger branch tests)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from support.builders import ROOT, make_campaign

HOOKS = "scripts/campaign/site/mkdocs_hooks.py"


def copy_hooks(root: Path) -> None:
    """The MkDocs hooks file, where mkdocs.yml names it."""
    hooks = root / HOOKS
    hooks.parent.mkdir(parents=True)
    shutil.copy(ROOT / HOOKS, hooks)


def make_repo(base: Path) -> Path:
    """A campaign repository to build: real settings, letter and site; fixture missions."""
    root = make_campaign(base / "repo")
    shutil.copytree(ROOT / "docs", root / "docs")
    shutil.copy(ROOT / "mkdocs.yml", root / "mkdocs.yml")
    copy_hooks(root)
    return root


def build(root: Path, dest: str = "site", *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`mkdocs build --strict` in `root`, as a user runs it."""
    environ = {k: v for k, v in os.environ.items() if k not in {"CAMPAIGN_INTAKE_ENDPOINT", "CAMPAIGN_SITE_URL"}}
    environ.update({"NO_MKDOCS_2_WARNING": "1", **(env or {})})
    return subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-d", dest, *args], check=False,
                          cwd=root, env=environ, capture_output=True, text=True, timeout=600)
