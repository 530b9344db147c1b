"""Cross-file rules over a loaded Dataset: ids, primaries, duplicates, references."""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from campaign.core.errors import Problem
from campaign.data import countries, letter, photos, translations
from campaign.data.dataset import CAMPAIGN, LETTERS, MISSIONS, Dataset, Record, stream_signatures
from campaign.data.dataset import load as dataset_load
from campaign.data.duplicates import Taken
from campaign.data.models import Action, Signature


def check(ds: Dataset) -> list[Problem]:
    """Every cross-file problem in the dataset (per-file problems are already in ds.problems)."""
    return _check(ds)[0]


def _check(ds: Dataset) -> tuple[list[Problem], list[Problem]]:
    """The cross-file problems, and the warnings (look-alike names, stale letter translations)."""
    taken = Taken()
    letters, stale = _letters(ds)
    problems = [*_missions(ds), *_signatures(ds, taken), *_actions(ds), *letters]
    return problems, taken.look_alikes + stale


def _missions(ds: Dataset) -> list[Problem]:
    problems: list[Problem] = []
    first: dict[str, int] = {}
    primaries: dict[str, list[int]] = {}
    countries_with_missions: set[str] = set()
    covered: Counter[str] = Counter()
    for rec in ds.missions:
        m, line = rec.model, rec.line("id")
        if m.id in first:
            problems.append(Problem(MISSIONS, line, f"mission id {m.id!r} is also used at line {first[m.id]}; ids must be unique"))
        first.setdefault(m.id, line)
        if not m.id.startswith(m.country.lower() + "-"):
            problems.append(Problem(MISSIONS, line, f"mission id {m.id!r} must start with its country code: '{m.country.lower()}-...'"))
        countries_with_missions.add(m.country)
        if m.primary:
            primaries.setdefault(m.country, []).append(rec.line("primary"))
        covered.update(m.also_covers)
    for code in sorted(countries_with_missions):
        found = primaries.get(code, [])
        if not found:
            problems.append(Problem(MISSIONS, 1, f"{countries.name(code)} ({code}) has missions but none with `primary: true`; mark the one that receives its letters"))
        for line in found[1:]:
            problems.append(Problem(MISSIONS, line, f"{countries.name(code)} ({code}) has more than one primary mission (first at line {found[0]}); keep exactly one"))
    for rec in ds.missions:
        for code in rec.model.also_covers:
            if code in primaries:
                problems.append(Problem(MISSIONS, rec.line("also_covers"), f"{code} has a primary mission of its own; remove it from `also_covers`"))
            elif covered[code] > 1:
                problems.append(Problem(MISSIONS, rec.line("also_covers"), f"{code} is covered by {covered[code]} missions; exactly one may cover it"))
    return problems


def unknown_mission(value: str, known: Collection[str]) -> str:
    """Why `value` is not a mission id, with the closest ids as suggestions."""
    close = difflib.get_close_matches(value, list(known), n=3, cutoff=0.75)
    if close:
        return f"unknown mission {value!r}; did you mean {' or '.join(repr(c) for c in close)}? (ids are in {MISSIONS})"
    return f"unknown mission {value!r}; use an `id` from {MISSIONS}"


def signature(rec: Record[Signature], missions: Collection[str], taken: Taken) -> list[Problem]:
    """The cross-file problems of one signature: its mission exists, it is not a duplicate.

    An empty `missions` (the directory did not load) skips the mission check.
    """
    problems = taken.claim(rec)
    if rec.model.mission is not None and missions and rec.model.mission not in missions:
        problems.insert(0, Problem(rec.path, rec.line("mission"), unknown_mission(rec.model.mission, missions)))
    return problems


def action(rec: Record[Action], missions: Collection[str], root: Path) -> list[Problem]:
    """The cross-file problems of one action: its mission and its photos exist."""
    problems: list[Problem] = []
    a = rec.model
    if missions and a.mission not in missions:
        problems.append(Problem(rec.path, rec.line("mission"), unknown_mission(a.mission, missions)))
    docs = (root / "docs").resolve()
    for photo in a.photos:
        path = docs / photo  # a plain file inside docs/, not a link to one elsewhere
        if not (path.is_file() and path.resolve() == path):
            problems.append(Problem(rec.path, rec.line("photos"), f"photo docs/{photo} does not exist as a plain file; add it to the pull request or fix the path"))
        elif found := photos.problem(_head(path, photos.MAX_BYTES + 1), photo):
            problems.append(Problem(rec.path, rec.line("photos"), f"photo docs/{photo} {found}; replace it"))
    return problems


def _head(path: Path, size: int) -> bytes:
    with open(path, "rb") as fh:
        return fh.read(size)


def _signatures(ds: Dataset, taken: Taken) -> list[Problem]:
    missions = ds.mission_by_id
    return [p for rec in ds.signatures for p in signature(rec, missions, taken)]


def _actions(ds: Dataset) -> list[Problem]:
    missions = ds.mission_by_id
    return [p for rec in ds.actions for p in action(rec, missions, ds.root)]


def _letters(ds: Dataset) -> tuple[list[Problem], list[Problem]]:
    """(problems, warnings) of the letters: each language's file, its template, its translation."""
    if ds.campaign is None:
        return [], []
    problems, warnings = translations.check(ds.letter_files)
    missions = [r.model for r in ds.missions]
    for lang in ds.campaign.languages:
        if lang not in ds.letters:
            problems.append(Problem(CAMPAIGN, 1, f"language {lang!r} is listed but {LETTERS}/{lang}.md is missing; "
                                                 f"add the letter (`campaign i18n new {lang}` writes a stub)"))
    for lang in sorted(set(ds.letters) - set(ds.campaign.languages)):
        warnings.append(Problem(f"{LETTERS}/{lang}.md", 1, f"{lang!r} is not in `languages` ({CAMPAIGN}): "
                                                           "the letter is not used; add the language or remove the file"))
    if not missions:
        return problems, warnings
    sample = letter.LetterContext.build(missions[0], ds.campaign.target, ds.campaign.dispatch.date, "A. Signer")
    for lang, text in sorted(ds.letters.items()):
        found = letter.check(text, sample)
        if found:
            line, message = found
            problems.append(Problem(f"{LETTERS}/{lang}.md", line + ds.letter_files[lang].offset, message))
    return problems, warnings


def review(ds: Dataset) -> tuple[list[Problem], list[Problem]]:
    """(problems, warnings): per-file and cross-file problems together, sorted, without
    repeats; and the warnings a maintainer should look at (they never fail validation)."""
    problems, warnings = _check(ds)
    return sorted(set(ds.problems + problems)), sorted(set(warnings))


@dataclass
class Reviewed:
    """A whole tree validated with its signatures streamed (`review_tree`)."""

    ds: Dataset
    """Everything but the signatures (they were streamed, not kept)."""
    problems: list[Problem]
    warnings: list[Problem]
    taken: Taken
    signatures: int
    base: tuple[bool, Taken, int] | None = None
    """With `without`: whether the tree minus those files is valid, its keys and its signature count."""

    def summary(self) -> str:
        return f"ok: {self.signatures} signatures, {len(self.ds.missions)} missions, {len(self.ds.actions)} actions"


def review_tree(root: Path, use_cache: bool = True, without: set[str] | None = None) -> Reviewed:
    """`review` of the whole tree, one signature at a time: memory grows with the keys of the
    duplicate rule, not with the records (ARCHITECTURE.md, "Scale"). With `without` (the files
    a pull request adds), also judge the tree without them: the base a summary describes."""
    ds = dataset_load(root, use_cache, signatures=False)
    taken, base_taken = Taken(), Taken()
    letters, stale = _letters(ds)
    others = [*_missions(ds), *_actions(ds), *letters]
    problems: list[Problem] = []
    base_problems: list[Problem] = []
    missions = ds.mission_by_id
    count = base_count = 0
    for rec in stream_signatures(ds, use_cache):
        count += 1
        problems += signature(rec, missions, taken)
        if without is not None and rec.path not in without:
            base_count += 1
            base_problems += signature(rec, missions, base_taken)
    base = None
    if without is not None:
        base_problems += [p for p in (*ds.problems, *others) if p.path not in without]
        base = (not base_problems, base_taken, base_count)
    return Reviewed(ds, sorted(set(ds.problems + others + problems)), sorted(set(taken.look_alikes + stale)), taken, count, base)


def validate(ds: Dataset) -> list[Problem]:
    """Per-file and cross-file problems together, sorted, without repeats."""
    return review(ds)[0]

