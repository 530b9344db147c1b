"""Pull-request rules: a signature PR may only add signature and action files."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from .models import PHOTO_PATTERN
from .problems import CampaignError, Problem

# No hidden files or folders: validation skips them, so they could hold anything.
ALLOWED_ADDITIONS = (
    re.compile(r"^data/signatories/([^/.][^/]*/)*[^/.][^/]*\.yaml$"),
    re.compile(r"^data/actions/([^/.][^/]*/)*[^/.][^/]*\.yaml$"),
    re.compile("^docs/" + PHOTO_PATTERN.removeprefix("^")),
)
_VERBS = {"A": "adds", "M": "modifies", "D": "deletes", "T": "changes the type of"}


@dataclass(frozen=True)
class Change:
    status: str
    path: str


def _git(root: Path, *args: str) -> str:
    try:
        out = subprocess.run(["git", *args], cwd=root, capture_output=True, check=True)
    except FileNotFoundError:
        raise CampaignError([Problem(".", 1, "git is not installed; install git to use --base")]) from None
    except subprocess.CalledProcessError as exc:
        detail = exc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise CampaignError([Problem(".", 1, f"git {' '.join(args[:2])} failed: {detail[-1] if detail else exc}")]) from None
    return out.stdout.decode("utf-8", "surrogateescape")


def merge_base(root: Path, base: str) -> str:
    """The commit where HEAD branched from `base`."""
    try:
        return _git(root, "merge-base", base, "HEAD").strip()
    except CampaignError:
        raise CampaignError([Problem(".", 1, f"cannot find {base!r} in this repository; fetch it first (git fetch origin {base})")]) from None


def tree(root: Path, commit: str) -> str:
    """The id of `commit`'s whole tree: equal ids, equal content."""
    return _git(root, "rev-parse", f"{commit}^{{tree}}").strip()


def changes(root: Path, base: str) -> list[Change]:
    """Files changed since the merge base with `base`, in the work tree (untracked included)."""
    fields = _git(root, "diff", "--name-status", "--no-renames", "-z", merge_base(root, base)).split("\0")
    found = [Change(fields[i], fields[i + 1]) for i in range(0, len(fields) - 1, 2)]
    untracked = _git(root, "ls-files", "--others", "--exclude-standard", "-z").split("\0")
    found += [Change("A", path) for path in untracked if path]
    return sorted(found, key=lambda c: c.path)


def allowed(change: Change) -> bool:
    """Whether a signature pull request may make this change without a maintainer."""
    return change.status == "A" and any(p.match(change.path) for p in ALLOWED_ADDITIONS)


def check(root: Path, base: str) -> list[Problem]:
    """A problem for every change a signature pull request may not make."""
    return rules(changes(root, base))


def rules(found: list[Change]) -> list[Problem]:
    """A problem for each of `found` that a signature pull request may not make."""
    problems = []
    for change in found:
        if allowed(change):
            continue
        verb = _VERBS.get(change.status[:1], "changes")
        if change.path.startswith("data/signatories/") and change.status != "A":
            hint = "existing signatures are changed only by a maintainer; open a separate pull request or ask one"
        else:
            hint = "a signature pull request may only add files under data/signatories/ or data/actions/ (and action photos under docs/assets/actions/)"
        problems.append(Problem(change.path, 1, f"this pull request {verb} this file: needs a maintainer; {hint}"))
    return problems
