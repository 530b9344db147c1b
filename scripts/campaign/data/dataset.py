"""Load the whole `data/` tree into validated models, collecting problems instead of stopping."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from campaign.core.errors import CampaignError, DataError, Problem
from campaign.data import folders, translations, yamlio
from campaign.data.folders import IGNORED
from campaign.data.models import Action, Campaign, Mission, MissionDirectory, Signature
from campaign.data.parsing import M, Record, data_files, describe_error, load_record, parse, path_problem, read

__all__ = ["IGNORED", "M", "Record", "data_files", "describe_error", "load_record", "parse", "path_problem", "read"]

CAMPAIGN = "data/campaign.yaml"
MISSIONS = "data/missions.yaml"
SIGNATORIES = "data/signatories"
ACTIONS = "data/actions"
LETTERS = "data/letter"
MISSIONS_MAX_BYTES = 4 * 1024 * 1024


@dataclass
class Dataset:
    """Everything under `data/`, validated file by file; cross-file rules live in `checks`.

    Built once by `load` and read, not changed, after that: the lookups below are computed
    on first use and kept."""

    root: Path
    campaign: Campaign | None = None
    missions: list[Record[Mission]] = field(default_factory=list)
    signatures: list[Record[Signature]] = field(default_factory=list)
    actions: list[Record[Action]] = field(default_factory=list)
    letters: dict[str, str] = field(default_factory=dict)
    """Each language's letter template (the text after any front matter)."""
    letter_files: dict[str, translations.LetterFile] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    @cached_property
    def mission_by_id(self) -> dict[str, Mission]:
        return {r.model.id: r.model for r in self.missions}

    @cached_property
    def serving(self) -> dict[str, Mission]:
        """Country code -> the mission that receives its letters: the country's primary
        mission, else the one whose `also_covers` lists it (the first in the directory)."""
        found: dict[str, Mission] = {}
        for rec in self.missions:
            if rec.model.primary:
                found.setdefault(rec.model.country, rec.model)
        for rec in self.missions:
            for code in rec.model.also_covers:
                found.setdefault(code, rec.model)
        return found

    def mission_for(self, country: str) -> Mission | None:
        """The mission that receives a country's letters, or None."""
        return self.serving.get(country)

    def destination(self, sig: Signature) -> str | None:
        """The id of the mission that receives `sig`'s letter: its own `mission`, else its
        country's (an organisation may leave it out); None when there is none."""
        if sig.mission is not None:
            return sig.mission
        found = self.serving.get(sig.country)
        return found.id if found else None

    def summary(self) -> str:
        """What was loaded, as `validate` reports it."""
        return f"ok: {len(self.signatures)} signatures, {len(self.missions)} missions, {len(self.actions)} actions"


def find_root(start: Path | None = None) -> Path:
    """The nearest folder at or above `start` holding data/campaign.yaml."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / CAMPAIGN).is_file():
            return folder
    raise CampaignError(
        [Problem(str(here), 1, f"no {CAMPAIGN} here or above; run inside the campaign repository or pass --root")]
    )


def load_missions(root: Path) -> tuple[list[Record[Mission]], list[Problem]]:
    """The mission directory, one Record per mission (lines are per mission entry)."""
    raw = read(root, MISSIONS)
    if isinstance(raw, Problem):
        return [], [raw]
    directory, doc, problems = parse(MISSIONS, raw, MissionDirectory, MISSIONS_MAX_BYTES)
    if directory is None or doc is None:
        return [], problems
    records = []
    by_entry: dict[object, dict[str, int]] = {}  # the lines of each entry's keys, in one pass
    for loc, line in doc.lines.items():
        if len(loc) == 3:
            by_entry.setdefault(loc[1], {})[str(loc[2])] = line
    for i, mission in enumerate(directory.missions):
        lines = by_entry.get(i, {})
        lines[""] = doc.line_of(("missions", i))
        records.append(Record(MISSIONS, mission, lines))
    return records, problems


def load(root: Path, use_cache: bool = True, signatures: bool = True) -> Dataset:
    """Load and validate every file under data/; never stops at the first bad file.

    With `use_cache`, signature and action files that validated before and have not changed
    are taken from the record cache instead of being parsed again. Without `signatures`, the
    signatures are left out: `stream_signatures` yields them one at a time (validation).
    """
    with no_cyclic_gc():
        ds = _load(root, use_cache, signatures)
    return ds


def stream_signatures(ds: Dataset, use_cache: bool = True) -> Iterator[Record[Signature]]:
    """The signatures of a Dataset loaded without them, one at a time in path order; their
    per-file problems are added to `ds.problems` as they are met."""
    with no_cyclic_gc():
        yield from folders.stream(ds.root, SIGNATORIES, Signature, ds.problems, use_cache)


class no_cyclic_gc:  # a context manager, named like one
    """100,000 records only grow the heap: cyclic collections would rescan it again and again.

    With `keep`, what was made inside is frozen on the way out (`gc.freeze`): the rest of a one-shot
    command never rescans it either (cyclic garbage made inside then stays: for bounded work only)."""

    def __init__(self, keep: bool = False) -> None:
        self.keep = keep

    def __enter__(self) -> None:
        self.collecting = gc.isenabled()
        gc.disable()

    def __exit__(self, *exc: object) -> None:
        if self.keep:
            gc.freeze()
        if self.collecting:
            gc.enable()


def load_with_campaign(root: Path) -> Dataset:
    """`load`, raising CampaignError when the campaign settings themselves did not load."""
    ds = load(root)
    if ds.campaign is None:
        raise CampaignError([p for p in ds.problems if p.path == CAMPAIGN])
    return ds


def _load(root: Path, use_cache: bool, signatures: bool) -> Dataset:
    ds = Dataset(root=root)
    record, problems = load_record(root, CAMPAIGN, Campaign)
    ds.campaign = record.model if record else None
    ds.problems += problems
    ds.missions, problems = load_missions(root)
    ds.problems += problems
    if signatures:
        ds.signatures = list(folders.stream(root, SIGNATORIES, Signature, ds.problems, use_cache))
    ds.actions = list(folders.stream(root, ACTIONS, Action, ds.problems, use_cache))
    for rel in data_files(root, LETTERS):
        if rel.endswith(".md"):
            raw = read(root, rel)
            if isinstance(raw, Problem):
                ds.problems.append(raw)
                continue
            try:
                text = yamlio.decode(raw, 256 * 1024)
            except DataError as exc:
                ds.problems.append(Problem(rel, exc.line, exc.message))
                continue
            found, problems = translations.parse(rel.rsplit("/", 1)[-1].removesuffix(".md"), text)
            ds.letter_files[found.lang], ds.letters[found.lang] = found, found.text
            ds.problems += problems
    return ds
