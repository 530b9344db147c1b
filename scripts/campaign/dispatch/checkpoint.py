"""Commit the dispatch ledger and push it, retrying when another push got there first.

The dispatch workflow calls this during the run (checkpoints) and at the end, so the public
record survives a runner that dies. Only `data/dispatch/` is ever committed. On a rejected
push the branch is fetched, the ledger commit rebased on top and the push tried again, with
a growing pause. Credentials: with `GITHUB_TOKEN` in the environment and an https remote, the
token is handed to git through `GIT_CONFIG_*` environment variables (never on the command line
nor in .git/config), so the checkout can run with `persist-credentials: false`.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from campaign.core.errors import CampaignError, Problem
from campaign.core.git import Git, add_token
from campaign.core.retry import backoff
from campaign.records.ledger import FOLDER

BOT_NAME = "github-actions[bot]"
BOT_EMAIL = "41898282+github-actions[bot]@users.noreply.github.com"


def _environment(git: Git, remote: str) -> None:
    """Commit identity when none is configured, and the token for an https remote."""
    if not _said(git("config", "user.email", check=False)):
        for who in ("AUTHOR", "COMMITTER"):
            git.env.setdefault(f"GIT_{who}_NAME", BOT_NAME)
            git.env.setdefault(f"GIT_{who}_EMAIL", BOT_EMAIL)
    token = git.env.get("GITHUB_TOKEN")
    url = _said(git("remote", "get-url", remote, check=False))
    if token and url.startswith("https://"):
        add_token(git.env, url, token)
    git.env["GIT_TERMINAL_PROMPT"] = "0"


def commit(git: Git, message: str) -> bool:
    """Commit the ledger folder alone; False when it has no changes."""
    if not (git.root / FOLDER).is_dir():
        return False
    git("add", "--", FOLDER)
    if git.ok("diff", "--cached", "--quiet", "--", FOLDER):
        return False
    git("commit", "-q", "-m", message, "--", FOLDER)
    return True


def push_ledger(
    root: Path,
    remote: str = "origin",
    branch: str | None = None,
    attempts: int = 5,
    message: str = "dispatch: ledger checkpoint",
    environ: Mapping[str, str] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    pause: float = 2.0,
) -> str:
    """Commit `data/dispatch/` and push it to `remote`/`branch`; return what happened."""
    git = Git(root, environ, where=FOLDER)
    _environment(git, remote)
    committed = commit(git, message)
    if branch is None:
        branch = git.out("rev-parse", "--abbrev-ref", "HEAD")
        if branch == "HEAD":
            branch = git.env.get("GITHUB_REF_NAME") or ""
        if not branch:
            raise CampaignError([Problem(FOLDER, 1, "detached HEAD and no GITHUB_REF_NAME: pass --branch")])
    last = ""
    for attempt in range(1, attempts + 1):
        done = git("push", "-q", remote, f"HEAD:refs/heads/{branch}", check=False)
        if done.returncode == 0:
            return f"pushed the ledger to {remote}/{branch}" + ("" if committed else " (no new ledger lines)")
        last = _said(done, stderr=True)
        if attempt == attempts:
            break
        git("fetch", "-q", remote, branch)
        rebased = git("rebase", "-q", "--autostash", "FETCH_HEAD", check=False)
        if rebased.returncode != 0:
            git("rebase", "--abort", check=False)
            raise CampaignError([Problem(FOLDER, 1, "the ledger commit does not rebase on "
                                         f"{remote}/{branch}: {_said(rebased, stderr=True)}")])
        sleep(backoff(attempt, pause, jitter=True))
    raise CampaignError([Problem(FOLDER, 1, f"could not push the ledger after {attempts} attempts: {last}")])


def _said(done: subprocess.CompletedProcess[bytes], stderr: bool = False) -> str:
    """What a git command printed (its error output first, with `stderr`), as stripped text."""
    raw = (done.stderr or done.stdout) if stderr else done.stdout
    return raw.decode("utf-8", "replace").strip()
