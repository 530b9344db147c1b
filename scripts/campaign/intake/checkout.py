"""The production intake's own clone of the campaign repository (ARCHITECTURE.md, "Deployment").

The duplicate checks read `data/` and the settings come from `data/campaign.yaml`, so the
service runs on a clone kept on its state volume:

    Checkout(path, url, token=forge.bearer).ensure()   at start: clone, or update the clone kept there
    checkout.pull()                                    before each flush: exactly the branch's tip

The clone is shallow and single-branch: the service reads files, never history. It is the
service's alone and nothing is ever committed in it (the flush commits through the forge's
API), so `pull` resets it hard to the fetched tip: no merge, nothing to lose. The token is asked
for before every fetch (an App's installation token lives an hour) and reaches git through
`GIT_CONFIG_*` variables (`core.git.add_token`): never on a command line, never in `.git/config`.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from campaign.core.errors import CampaignError, Problem
from campaign.core.git import Git, add_token


@dataclass
class Checkout:
    path: Path
    url: str
    branch: str | None = None
    """The branch to follow (default: the remote's default branch)."""
    token: Callable[[], str] | None = None
    timeout: float = 300.0

    def _git(self, cwd: Path) -> Git:
        env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
        env["GIT_TERMINAL_PROMPT"] = "0"  # a missing or refused token fails at once instead of asking
        if self.token is not None:
            add_token(env, self.url, self.token())
        return Git(cwd, env, where=_shown(self.url), timeout=self.timeout)

    def ensure(self) -> str:
        """Clone the repository into `path`, or update the clone found there; the commit checked out."""
        if (self.path / ".git").is_dir():
            git = self._git(self.path)
            if git.out("remote", "get-url", "origin") != self.url:
                git("remote", "set-url", "origin", self.url)
            return self.pull()
        if self.path.exists() and any(self.path.iterdir()):
            raise CampaignError([Problem(str(self.path), 0, "exists and is not a clone of the repository; move it away "
                                         "(the service clones the repository there)")])
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_name(self.path.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)  # left by a clone that was cut short
        branch = ["--branch", self.branch] if self.branch else []
        self._git(self.path.parent)("clone", "--quiet", "--depth", "1", "--single-branch", "--no-tags", *branch,
                                    self.url, str(partial))
        if self.path.exists():
            self.path.rmdir()
        partial.rename(self.path)
        return self.head()

    def pull(self) -> str:
        """Fetch the branch's tip and check it out exactly; the commit."""
        git = self._git(self.path)
        branch = self.branch or git.out("symbolic-ref", "--short", "HEAD")
        git("fetch", "--quiet", "--depth", "1", "--no-tags", "origin", f"+refs/heads/{branch}:refs/remotes/origin/{branch}")
        git("reset", "--quiet", "--hard", f"refs/remotes/origin/{branch}")
        return self.head()

    def head(self) -> str:
        return self._git(self.path).out("rev-parse", "HEAD")


def _shown(url: str) -> str:
    """The URL for messages, without any credentials written into it."""
    scheme, sep, rest = url.partition("://")
    return f"{scheme}{sep}{rest.rpartition('@')[2]}" if sep else url
