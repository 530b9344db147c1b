"""Pull-request rules: a signature PR may only add signature and action files."""

from __future__ import annotations

import re
import stat
from dataclasses import dataclass
from pathlib import Path

from campaign.core.errors import CampaignError, Problem
from campaign.core.git import Git
from campaign.data import dataset
from campaign.data.dataset import path_problem
from campaign.data.models import PHOTO_PATTERN, Action

# No hidden files or folders: validation skips them, so they could hold anything.
ALLOWED_ADDITIONS = (
    re.compile(r"^data/signatories/([^/.][^/]*/)*[^/.][^/]*\.yaml$"),
    re.compile(r"^data/actions/([^/.][^/]*/)*[^/.][^/]*\.yaml$"),
    re.compile("^docs/" + PHOTO_PATTERN.removeprefix("^")),
)
PHOTOS = "docs/assets/actions/"
_VERBS = {"A": "adds", "M": "modifies", "D": "deletes", "T": "changes the type of"}


@dataclass(frozen=True)
class Change:
    status: str
    path: str
    mode: str = "100644"
    """Git's file mode: 100644 a plain file, 100755 executable, 120000 a symbolic link, 160000 a submodule."""


def _git(root: Path, *args: str) -> str:
    return Git(root).text(*args)


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
    fields = _git(root, "diff", "--raw", "--no-renames", "-z", merge_base(root, base)).split("\0")
    found = []
    for i in range(0, len(fields) - 1, 2):  # ":old-mode new-mode old-id new-id status", path
        _, mode, _, _, status = fields[i].split(" ")
        found.append(Change(status, fields[i + 1], mode))
    untracked = _git(root, "ls-files", "--others", "--exclude-standard", "-z").split("\0")
    found += [Change("A", path, _mode(root / path)) for path in untracked if path]
    return sorted(found, key=lambda c: c.path)


def ignored(root: Path, *folders: str) -> list[str]:
    """Git-ignored files below `folders`: in the work tree, so validated, but never in a diff."""
    return [p for p in _git(root, "ls-files", "--others", "--ignored", "--exclude-standard", "-z", "--", *folders).split("\0") if p]


def tracked(root: Path, commit: str, *folders: str) -> set[str]:
    """Every file below `folders` in `commit`."""
    return {p for p in _git(root, "ls-tree", "-r", "--name-only", "-z", commit, "--", *folders).split("\0") if p}


def _mode(path: Path) -> str:
    try:
        st = path.lstat()
    except OSError:
        return "0"
    if stat.S_ISLNK(st.st_mode):
        return "120000"
    if not stat.S_ISREG(st.st_mode):
        return "0"
    return "100755" if st.st_mode & 0o111 else "100644"


def allowed(change: Change) -> bool:
    """Whether a signature pull request may make this change without a maintainer: add a plain file
    (no link, no submodule, nothing executable) where signatures, actions or their photos belong."""
    return (change.status == "A" and change.mode == "100644" and path_problem(change.path) is None
            and any(p.match(change.path) for p in ALLOWED_ADDITIONS))


def check(root: Path, base: str) -> list[Problem]:
    """A problem for every change a signature pull request may not make."""
    found = changes(root, base)
    return rules(found) + unused_photos(root, found)


def unused_photos(root: Path, found: list[Change]) -> list[Problem]:
    """A problem for each photo the pull request adds that no action it adds lists (the
    photos it does list are checked with their action: `checks.action`, `photos.problem`)."""
    added = {c.path for c in found if c.status == "A" and c.path.startswith(PHOTOS)}
    used: set[str] = set()
    for change in found:
        if added and change.status == "A" and change.path.startswith(f"{dataset.ACTIONS}/"):
            rec, _ = dataset.load_record(root, change.path, Action)
            used |= {f"docs/{photo}" for photo in rec.model.photos} if rec else set()
    return [Problem(path, 1, "no action added by this pull request lists this photo; add it to the `photos` "
                    "of the action's file, or remove it") for path in sorted(added - used)]


def rules(found: list[Change]) -> list[Problem]:
    """A problem for each of `found` that a signature pull request may not make."""
    problems = []
    for change in found:
        if allowed(change):
            continue
        verb = _VERBS.get(change.status[:1], "changes")
        if bad := path_problem(change.path):
            problems.append(Problem(change.path, 1, bad))
            continue
        if change.status == "A" and change.mode != "100644":
            hint = "only plain files may be added, not a symbolic link, a submodule or an executable; add the file itself"
        elif change.path.startswith(f"{dataset.SIGNATORIES}/") and change.status == "D":
            problems.append(Problem(change.path, 1, "this pull request removes this signature (a withdrawal): a removal, "
                                    "not an addition, so a maintainer merges it; automerge never does"))
            continue
        elif change.path.startswith(f"{dataset.SIGNATORIES}/") and change.status != "A":
            hint = "existing signatures are changed only by a maintainer; open a separate pull request or ask one"
        else:
            hint = "a signature pull request may only add files under data/signatories/ or data/actions/ (and action photos under docs/assets/actions/)"
        problems.append(Problem(change.path, 1, f"this pull request {verb} this file: needs a maintainer; {hint}"))
    return problems
