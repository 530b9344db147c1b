"""Forges: where confirmed signatures become commits and pull requests, behind one interface.

    forge.publish(files, branch=..., message=..., title=..., body=...) -> Published

commits `files` (repository path -> bytes) as ONE commit on `branch`, deleting the paths in
`removed` (a withdrawal's removal pull request), and opens or updates the pull request from
`branch` to the base branch. `local` (the default) commits to a branch of a
git repository on disk with git plumbing only: the user's working tree, index and checked-out
branch are never touched, and a local "pull request" is the branch itself (review it with
`git log main..intake/signatures`). `github` (in `github.py`) does the same through the REST API.

A flush may be retried after a crash: the same files with the same content commit to the same
tree, so a retry duplicates nothing.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from campaign.core.errors import CampaignError, ForgeError, Problem
from campaign.core.git import Git
from campaign.core.retry import backoff

SAFE_PATH = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9._-]*(/[A-Za-z0-9_-][A-Za-z0-9._-]*)*$")
BOT_NAME = "Campaign intake"
BOT_EMAIL = "intake@campaign.invalid"
"""The identity of intake commits: a fixed address of the reserved `.invalid` domain, never a signer's."""


@dataclass(frozen=True)
class Published:
    """One published commit: the branch, the commit id and the pull request (if the forge has them)."""

    branch: str
    commit: str
    base: str
    url: str | None = None
    number: int | None = None
    opened: bool = False

    def describe(self) -> str:
        where = f"pull request {self.url}" if self.url else f"review with `git log {self.base}..{self.branch}`"
        return f"committed {self.commit[:12]} on {self.branch} ({where})"


class Forge(Protocol):
    name: str

    def publish(self, files: dict[str, bytes], *, branch: str, message: str, title: str, body: str,
                fresh: bool = False, removed: Sequence[str] = ()) -> Published:
        """Commit `files` (and delete `removed`) on `branch` and open or update its pull request.

        The branch continues from its tip while its pull request is open (local: while it is
        not merged into the base); otherwise, and always with `fresh`, it starts again from
        the base branch's tip.
        """
        ...

    def comment(self, issue: int, body: str) -> None: ...

    def close_issue(self, issue: int) -> None: ...


def check_paths(files: Iterable[str]) -> None:
    for path in files:
        if not SAFE_PATH.match(path) or ".." in path.split("/"):
            raise ForgeError(f"refusing to commit the unsafe path {path!r}")


@dataclass
class LocalForge:
    """A git repository on disk; commits are written with `git fast-import` and `update-ref`."""

    root: Path
    base: str | None = None
    name: str = "local"
    notes: list[str] = field(default_factory=list)

    @property
    def git(self) -> Git:
        env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_") or k in ("GIT_EXEC_PATH",)}
        return Git(self.root, env, where=str(self.root), error=ForgeError, timeout=300)

    def _git(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[bytes]:
        return self.git.run(*args, check=check)

    def base_branch(self) -> str:
        if self.base:
            return self.base
        done = self._git("symbolic-ref", "--quiet", "--short", "HEAD", check=False)
        current = done.stdout.decode().strip()
        return current if done.returncode == 0 and current and not current.startswith("intake/") else "main"

    def publish(self, files: dict[str, bytes], *, branch: str, message: str, title: str, body: str,
                fresh: bool = False, removed: Sequence[str] = ()) -> Published:
        check_paths([*files, *removed])
        if self._git("rev-parse", "--git-dir", check=False).returncode != 0:
            raise ForgeError(f"{self.root} is not a git repository; run `git init` there or use another forge")
        head = self._git("symbolic-ref", "--quiet", "HEAD", check=False).stdout.decode().strip()
        if head == f"refs/heads/{branch}":
            raise ForgeError(f"{branch} is checked out in {self.root}; switch to another branch so the intake "
                             "can commit to it without touching your working tree")
        base = self.base_branch()
        for attempt in range(20):
            base_sha = self.git.rev(base)
            if base_sha is None:
                raise ForgeError(f"the base branch {base!r} does not exist in {self.root}; commit to it first or pass --base")
            tip = self.git.rev(f"refs/heads/{branch}")
            parent = base_sha
            if tip and not fresh:
                merged = self._git("merge-base", "--is-ancestor", tip, base_sha, check=False).returncode == 0
                parent = base_sha if merged else tip
            commit = self.git.write_commit(files, message, f"{BOT_NAME} <{BOT_EMAIL}>", parent, "refs/campaign-intake",
                                           removed=removed)
            done = self._git("update-ref", "-m", "campaign intake", f"refs/heads/{branch}", commit, tip or "0" * 40,
                             check=False)
            if done.returncode == 0:
                self.notes.append(f"{title}: {commit[:12]} on {branch}")
                return Published(branch, commit, base)
            time.sleep(backoff(attempt + 1, 0.02, cap=0.3, jitter=True))  # another flush moved the branch: retry on its tip
        raise ForgeError(f"{branch} kept moving while committing; try the flush again")

    def comment(self, issue: int, body: str) -> None:
        self.notes.append(f"comment on #{issue}:\n{body}")

    def close_issue(self, issue: int) -> None:
        self.notes.append(f"close #{issue}")


def get_forge(name: str, root: Path, *, base: str | None = None, repository: str | None = None,
              env: dict[str, str] | None = None) -> Forge:
    """A forge by name; `github` takes its token from CAMPAIGN_GITHUB_TOKEN (or GITHUB_TOKEN)."""
    if name == "local":
        return LocalForge(root, base)
    if name == "github":
        from campaign.forge.github import GitHubForge

        return GitHubForge.from_env(repository, base=base, env=env)
    raise CampaignError([Problem("data/campaign.yaml", 1, f"unknown forge {name!r}; use local or github")])
