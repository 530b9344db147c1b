"""`validate --base`: a pull request's problems, checked incrementally when it only adds files.

A signature pull request adds one file to a tree of 100,000 (ARCHITECTURE.md, "Scale"). Once the
base tree has been validated, the merged tree has no problem the added files do not bring: the
base is unchanged, so only the added files need parsing, checked against what the base already
holds (names, fingerprints, mission ids). That summary of the base (`summary.py`) names the git
tree id it describes and the code version that made it, so it cannot describe any other content;
on this machine the check writes it, on an empty runner it is restored (`restore`) from the
trusted `base-summary` workflow's artifact. It records whether the base was valid; when it was
not, when it is missing, stale or tampered, or when the pull request does anything but add
signature and action files, the whole tree is validated as without `--base`, and the note says why.

Duplicates found this way are reported on the added file, which is the one to remove; a full
validation reports whichever of the two sorts later. Git-ignored files are invisible to the
diff, so this check assumes none under `data/` (a fresh checkout has none).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from campaign.core.errors import CampaignError, Problem
from campaign.data import checks, dataset, duplicates, letter
from campaign.data.cache import code_version
from campaign.data.models import Action, Signature
from campaign.forge.artifacts import Artifacts
from campaign.review import rules as rules_module
from campaign.review import summary as summary_module
from campaign.review.rules import Change, allowed, changes, ignored, merge_base, rules, tracked, tree, unused_photos
from campaign.review.summary import ArtifactSource, FileSource, Source, Summary

RECORDS = (dataset.SIGNATORIES, dataset.ACTIONS)
FOLDERS = ("data", "docs/assets/actions")
"""Where a file changes what validation finds."""


def _files(root: Path) -> set[str]:
    return {rel for folder in RECORDS for rel in dataset.data_files(root, folder)}


@dataclass(frozen=True)
class Result:
    problems: list[Problem]
    summary: str
    warnings: list[Problem] = field(default_factory=list)
    """For a maintainer (look-alike names); they never fail the check."""
    note: str = ""
    """How the pull request was checked: the base summary restored, or why it was validated in full."""


def version() -> str:
    """The code version a base summary must have been made by: this tool's validating code."""
    return code_version(checks, dataset, letter, duplicates, rules_module, summary_module)


def source(spec: str, commit: str, base: str) -> Source:
    """`--restore`: `github` (the artifact published for the base commit), else a summary file."""
    if spec != "github":
        return FileSource(Path(spec))
    branch = base.removeprefix("refs/").removeprefix("remotes/").removeprefix("heads/").removeprefix("origin/")
    return ArtifactSource(Artifacts.from_env(dict(os.environ)), branch, commit)


def validate(root: Path, base: str | None = None, restore: str | None = None, write: Path | None = None) -> Result:
    """`campaign validate`: every problem of the data, and with `base` of the pull request onto it
    (first restoring the base's summary from `restore`, see `source`); with `write`, also write
    the summary of this tree, which must be HEAD's, to that file (the trusted workflow)."""
    if base and write:
        raise CampaignError([Problem(".", 1, "--summary describes a validated commit, not a pull request: leave out --base")])
    if base:
        return check(root, base, restore)
    tree_ = checks.review_tree(root)
    problems, warnings = tree_.problems, tree_.warnings
    note = ""
    if write:
        if changes(root, "HEAD") or ignored(root, *FOLDERS):
            raise CampaignError([Problem(".", 1, "the work tree differs from HEAD (changed, untracked or ignored files): "
                                         "a summary describes a commit's tree; commit or remove them first")])
        written = summary_module.write(write, Summary.of(tree_), tree(root, "HEAD"), version())
        note = f"base summary {'written to' if written else 'NOT written to'} {write}"
        if not written:
            problems.append(Problem(str(write), 1, "cannot write the summary there; check the folder exists and is writable"))
    return Result(problems, tree_.summary(), warnings, note)


def check(root: Path, base: str, restore: str | None = None) -> Result:
    """Every problem of the work tree as a pull request onto `base`."""
    commit = merge_base(root, base)
    found = changes(root, commit)
    # Ignored files are validated but in no diff: with any, the work tree is not base + additions.
    incremental = bool(found) and all(allowed(c) for c in found) and not ignored(root, *FOLDERS)
    if not incremental:
        return _full(root, found, None, "base summary not used (the pull request does more than add signature or action files): validated in full")
    restored = f"base summary {summary_module.restore(root, source(restore, commit, base))}; " if restore else ""
    key = (tree(root, commit), version())
    loaded = summary_module.read(summary_module.path(root), *key)
    summary = loaded.summary
    if summary is None or not summary.ok:
        why = loaded.reason if summary is None else "not used (the base has problems of its own)"
        # An added photo may be what a base action lacked: then the base alone is not known.
        summarise = summary is None and not any(c.path.startswith("docs/") for c in found)
        return _full(root, found, (commit, *key) if summarise else None, f"{restored}base summary {why}: validated in full")
    problems = _added(root, found, summary)
    n = len(found)
    return Result(problems, f"ok: {n} added file{'' if n == 1 else 's'} checked against {summary.signatures} signatures, "
                            f"{len(summary.missions)} missions and {summary.actions} actions already validated",
                  sorted(set(summary.taken.look_alikes)), f"{restored}base summary used: only the added files checked")


def _full(root: Path, found: list[Change], base_key: tuple[str, str, str] | None, note: str) -> Result:
    """Validate the whole tree; with (base commit, tree id, code version), summarise the base:
    the tree without the added files, when its record files are exactly those of the base commit."""
    added = {c.path for c in found}
    summarise = bool(base_key) and tracked(root, base_key[0], *RECORDS) == _files(root) - added  # type: ignore[index]
    whole = checks.review_tree(root, without=added if summarise else None)
    problems = sorted(set(whole.problems + rules(found) + unused_photos(root, found)))
    if summarise and base_key:
        summary_module.write(summary_module.path(root), Summary.of(whole, added), base_key[1], base_key[2])
    return Result(problems, whole.summary(), whole.warnings, note)


def _added(root: Path, found: list[Change], summary: Summary) -> list[Problem]:
    """Per-file and cross-file problems of the added signature and action files."""
    problems: list[Problem] = []
    missions = set(summary.missions)
    for change in found:
        if change.path.startswith(f"{dataset.SIGNATORIES}/"):
            rec, problems_ = dataset.load_record(root, change.path, Signature)
            problems += problems_
            if rec:
                problems += checks.signature(rec, missions, summary.taken)
        elif change.path.startswith(f"{dataset.ACTIONS}/"):
            action, problems_ = dataset.load_record(root, change.path, Action)
            problems += problems_
            if action:
                problems += checks.action(action, missions, root)
    return sorted(set(problems + unused_photos(root, found)))
