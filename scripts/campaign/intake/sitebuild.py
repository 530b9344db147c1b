"""Building the site for `campaign serve` and `campaign doctor`: `campaign build` (every
language, strict) into a folder, in a child process (the site package is not the intake's to
import, and the build forks one process per language).

`campaign serve` serves the site from the same origin as the intake, so the form posts to
/api/signatures without CORS. A failed build does not stop the intake: `campaign serve` says
why and serves the API alone. `campaign doctor` builds the site as the deploy workflow does
(the campaign's own `site_url` and `intake.endpoint`) into a temporary folder.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

SITE_DIR = ".cache/intake/site"
OVERRIDES = ("CAMPAIGN_INTAKE_ENDPOINT", "CAMPAIGN_SITE_URL")
"""What the site's hooks read instead of `intake.endpoint` and `site_url`: set only from `build`'s arguments."""


def build(root: Path, target: Path | None = None, site_url: str | None = None,
          timeout: float = 600, endpoint: str | None = "/") -> tuple[Path | None, str | None]:
    """(site folder, None) after a successful build, or (None, why it failed: a line, then the
    last lines the build printed).

    The form is built to post to `endpoint` (default `/`: this origin; None: `intake.endpoint`
    as configured) and, with `site_url`, the site's own links point at the local server
    (without it: `site_url` as configured). Neither is inherited from this environment.
    """
    config = root / "mkdocs.yml"
    if not config.is_file():
        return None, "there is no mkdocs.yml in the repository yet"
    target = target or root / SITE_DIR
    staging = target.with_name(target.name + ".new")
    shutil.rmtree(staging, ignore_errors=True)
    env = {name: value for name, value in os.environ.items() if name not in OVERRIDES}
    if endpoint is not None:
        env["CAMPAIGN_INTAKE_ENDPOINT"] = endpoint
    if site_url:
        env["CAMPAIGN_SITE_URL"] = site_url
    try:
        done = subprocess.run([sys.executable, "-m", "campaign", "--root", str(root), "build", "--site-dir", str(staging)],
                              cwd=root, capture_output=True, text=True, timeout=timeout, env=env)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, f"the site build could not run: {exc}"
    if done.returncode != 0 or not (staging / "index.html").is_file():
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-15:])
        return None, f"`campaign build` failed (exit {done.returncode}):\n{tail}"
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    return target, None
