"""A campaign repository with the real site (docs/, mkdocs.yml, the hooks) and `mkdocs build
--strict` run in it as a user runs it (test_site_build, test_browser, the ledger branch tests);
`campaign build` served by the intake itself (test_browser_languages, test_accessibility)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


@dataclass
class Served:
    """A site built by `campaign build` and served by the intake service itself on loopback."""

    url: str
    intake: Any
    outbox: Path
    root: Path
    site: Path


@contextmanager
def served_by_intake(root: Path, base: Path, languages: str | None = None, burst: int = 100) -> Iterator[Served]:
    """`campaign build` of `root` (every language, or the comma-separated `languages`), the form
    posting to the same origin, served with the intake as `campaign serve` does; confirmation
    mails go to a file outbox."""
    from campaign.data.models import IntakeLimits
    from campaign.intake.app import create_app
    from campaign.intake.service import Intake, Settings
    from support.http import serve_in_thread

    outbox = base / "outbox"
    intake = Intake(Settings(root=root, db=base / "intake.sqlite3", public_url="http://127.0.0.1:1", key=b"k" * 32,
                             mail_backend="file", mail_options={"outbox": outbox},
                             limits=IntakeLimits(burst=burst, hourly=burst * 10, max_body=4096)))
    site = root / "site"
    site.mkdir()
    (site / "index.html").write_text("building")  # served from the start; the build replaces the folder
    server, thread, url = serve_in_thread(create_app(intake, site_dir=site, background=False))
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CAMPAIGN_")}
        done = subprocess.run([sys.executable, "-m", "campaign", "--root", str(root), "build", "-d", str(site),
                               *(["--languages", languages] if languages else [])], cwd=root, check=False,
                              env={**env, "CAMPAIGN_INTAKE_ENDPOINT": "/", "CAMPAIGN_SITE_URL": url + "/",
                                   "NO_MKDOCS_2_WARNING": "1"}, capture_output=True, text=True, timeout=900)
        assert done.returncode == 0, done.stderr[-4000:]
        intake.settings.public_url = url
        yield Served(url, intake, outbox, root, site)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        intake.close()
