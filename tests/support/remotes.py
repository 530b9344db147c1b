"""A bare "remote" for the ledger branch tests: clones, a protected branch (a pre-receive hook),
a remote that will not be read, and what a branch holds there."""

from __future__ import annotations

import subprocess
from pathlib import Path

from support.builders import git

HOOK = """#!/bin/sh
# Refuse pushes to the protected branches, as GitHub does for a branch protection rule.
while read -r old new ref; do
  for protected in {refs}; do
    if [ "$ref" = "$protected" ]; then
      echo "GH006: Protected branch update failed for $ref." >&2
      exit 1
    fi
  done
done
exit 0
"""


def clone(remote: Path, where: Path, shallow: bool = True) -> Path:
    """A clone of `remote` as a workflow's checkout makes it (one branch, depth 1 when `shallow`)."""
    args = ["git", "clone", "-q", *(["--depth", "1"] if shallow else []), f"file://{remote}", str(where)]
    subprocess.run(args, check=True, capture_output=True)
    git(where, "config", "user.email", "bot@example.org")
    git(where, "config", "user.name", "Bot")
    return where


def protect(remote: Path, *branches: str) -> None:
    """Make the bare `remote` refuse every push to `branches` (a pre-receive hook)."""
    hook = remote / "hooks" / "pre-receive"
    hook.write_text(HOOK.replace("{refs}", " ".join(f"refs/heads/{b}" for b in branches)), encoding="utf-8")
    hook.chmod(0o755)


def refuse_reads(clone: Path, remote: str = "origin") -> None:
    """Make every fetch and ls-remote of `clone` from `remote` fail as a server refusing the read
    does (a revoked token, no access): the program git runs on the remote's side says no."""
    deny = clone / ".git" / "deny-upload-pack"
    deny.write_text('#!/bin/sh\necho "ERROR: Permission to free-assange/letter.git denied." >&2\nexit 128\n',
                    encoding="utf-8")
    deny.chmod(0o755)
    git(clone, "config", f"remote.{remote}.uploadpack", str(deny))


def tip(repo: Path, ref: str) -> str | None:
    done = subprocess.run(["git", "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], cwd=repo,
                          capture_output=True, text=True, check=False)
    return done.stdout.strip() or None


def log(repo: Path, ref: str) -> list[str]:
    """The subjects of `ref`'s history, newest first."""
    return git(repo, "log", "--format=%s", ref).splitlines()


def files(repo: Path, ref: str) -> list[str]:
    """Every file `ref`'s tree holds."""
    return git(repo, "ls-tree", "-r", "--name-only", "--full-tree", ref).split()


def show(repo: Path, ref: str, path: str) -> str:
    return git(repo, "show", f"{ref}:{path}")
