"""`validate --base`: a pull request's problems, checked incrementally when it only adds files.

A signature pull request adds one file to a tree of 100,000 (ARCHITECTURE.md, "Scale"). Once the
base tree has been validated, the merged tree has no problem the added files do not bring: the
base is unchanged, so only the added files need parsing, checked against what the base already
holds (names, fingerprints, mission ids). That summary of the base is cached in `.cache/campaign/`
under the id of the base's git tree and a hash of the validating code, so it cannot describe any
other content. It records whether the base was valid; when it was not, or the pull request does
anything but add signature and action files, the whole tree is validated as without `--base`.

Duplicates found this way are reported on the added file, which is the one to remove; a full
validation reports whichever of the two sorts later. Git-ignored files are invisible to the
diff, so this check assumes none under `data/` (a fresh checkout has none).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path

from campaign.core.errors import Problem
from campaign.core.files import write_json_quietly
from campaign.data import checks, dataset, duplicates, letter
from campaign.data.cache import FOLDER, code_version
from campaign.data.duplicates import Taken
from campaign.data.models import Action, Signature
from campaign.review import rules as rules_module
from campaign.review.rules import Change, allowed, changes, ignored, merge_base, rules, tracked, tree, unused_photos

PREFIX = "pr-base-"
RECORDS = (dataset.SIGNATORIES, dataset.ACTIONS)
FOLDERS = ("data", "docs/assets/actions")
"""Where a file changes what validation finds."""


def _files(root: Path) -> set[str]:
    return {rel for folder in RECORDS for rel in dataset.data_files(root, folder)}


@dataclass
class Summary:
    """What a validated base tree holds that an added file could clash with."""

    ok: bool
    missions: list[str] = field(default_factory=list)
    taken: Taken = field(default_factory=Taken)
    signatures: int = 0
    actions: int = 0

    @classmethod
    def of(cls, ds: dataset.Dataset) -> Summary:
        taken = Taken()
        for rec in ds.signatures:
            taken.claim(rec)
        return cls(not checks.validate(ds), sorted(ds.mission_by_id), taken, len(ds.signatures), len(ds.actions))


@dataclass(frozen=True)
class Result:
    problems: list[Problem]
    summary: str
    warnings: list[Problem] = field(default_factory=list)
    """For a maintainer (look-alike names); they never fail the check."""


def _cache_path(root: Path, key: str) -> Path:
    return root / FOLDER / f"{PREFIX}{key}.json"


def _read(path: Path) -> Summary | None:
    try:
        s = json.loads(path.read_bytes())
        taken = Taken(s["names"], s["fingerprints"], s["skeletons"])
        return Summary(s["ok"], s["missions"], taken, s["signatures"], s["actions"])
    except (OSError, ValueError, KeyError, TypeError):
        return None  # missing or unreadable: validate in full and write it again


def _write(path: Path, summary: Summary) -> None:
    """Atomically, replacing summaries of other bases; one that cannot be written is not kept."""
    data = {"ok": summary.ok, "missions": summary.missions, "names": summary.taken.names,
            "fingerprints": summary.taken.fingerprints, "skeletons": summary.taken.skeletons,
            "signatures": summary.signatures, "actions": summary.actions}
    try:
        for old in path.parent.glob(f"{PREFIX}*.json"):
            old.unlink(missing_ok=True)
    except OSError:
        pass
    write_json_quietly(path, data)


def validate(root: Path, base: str | None = None) -> Result:
    """`campaign validate`: every problem of the data, and with `base` of the pull request onto it."""
    if base:
        return check(root, base)
    ds = dataset.load(root)
    problems, warnings = checks.review(ds)
    return Result(problems, ds.summary(), warnings)


def check(root: Path, base: str) -> Result:
    """Every problem of the work tree as a pull request onto `base`."""
    commit = merge_base(root, base)
    found = changes(root, commit)
    key = f"{tree(root, commit)}-{code_version(checks, dataset, letter, duplicates, rules_module)[:16]}"
    # Ignored files are validated but in no diff: with any, the work tree is not base + additions.
    incremental = bool(found) and all(allowed(c) for c in found) and not ignored(root, *FOLDERS)
    summary = _read(_cache_path(root, key)) if incremental else None
    if summary is None or not summary.ok:
        # An added photo may be what a base action lacked: then the base alone is not known.
        summarise = incremental and summary is None and not any(c.path.startswith("docs/") for c in found)
        return _full(root, found, (commit, key) if summarise else None)
    problems = _added(root, found, summary)
    n = len(found)
    return Result(problems, f"ok: {n} added file{'' if n == 1 else 's'} checked against {summary.signatures} signatures, "
                            f"{len(summary.missions)} missions and {summary.actions} actions already validated",
                  sorted(set(summary.taken.look_alikes)))


def _full(root: Path, found: list[Change], base_key: tuple[str, str] | None) -> Result:
    """Validate the whole tree; with (base commit, key), summarise the base: the tree without
    the added files, when its record files are exactly those of the base commit."""
    ds = dataset.load(root)
    problems, warnings = checks.review(ds)
    problems = sorted(set(problems + rules(found) + unused_photos(root, found)))
    added = {c.path for c in found}
    if base_key and tracked(root, base_key[0], *RECORDS) == _files(root) - added:
        base = replace(ds, signatures=[r for r in ds.signatures if r.path not in added],
                       actions=[r for r in ds.actions if r.path not in added],
                       problems=[p for p in ds.problems if p.path not in added])
        _write(_cache_path(root, base_key[1]), Summary.of(base))
    return Result(problems, ds.summary(), warnings)


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
