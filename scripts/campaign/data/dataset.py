"""Load the whole `data/` tree into validated models, collecting problems instead of stopping."""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
import multiprocessing
import os
import stat
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from functools import cached_property
from itertools import repeat
from pathlib import Path
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from campaign.core.errors import CampaignError, DataError, Problem
from campaign.data import yamlio
from campaign.data.cache import Entry, RecordCache, StatKey, stat_key
from campaign.data.models import Action, Campaign, Mission, MissionDirectory, Signature
from campaign.data.text import bad_character

M = TypeVar("M", bound=BaseModel)

CAMPAIGN = "data/campaign.yaml"
MISSIONS = "data/missions.yaml"
SIGNATORIES = "data/signatories"
ACTIONS = "data/actions"
LETTERS = "data/letter"
MISSIONS_MAX_BYTES = 4 * 1024 * 1024
IGNORED = {".gitkeep", "README.md"}


@dataclass(frozen=True)
class Record(Generic[M]):
    """A validated model, the file it came from and the line of each top-level key."""

    path: str
    model: M
    lines: dict[str, int]

    def line(self, key: str) -> int:
        return self.lines.get(key, 1)


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


def describe_error(err: dict[str, Any]) -> str:
    """A pydantic error as one sentence that says how to fix it."""
    loc = ".".join(str(part) for part in err["loc"] if not str(part).startswith("function-"))
    where = f"`{loc}`" if loc else "file"
    kind, value = err["type"], err.get("input")
    if kind == "missing":
        return f"{where} is required but missing; add it"
    if kind == "extra_forbidden":
        return f"unknown field {where}; remove it or check its spelling"
    if kind == "string_type" and isinstance(value, bool):
        return (
            f"{where} must be text, but YAML read an unquoted word as {str(value).lower()} "
            "(no/yes/on/off/true/false); put the value in quotes, e.g. 'NO'"
        )
    if kind.endswith("_type") and value is not None:
        shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
        return f"{where}: {err['msg'].lower()}, got {shown}; fix the value's type"
    message = err["msg"].removeprefix("Value error, ")
    if kind == "string_pattern_mismatch":
        message = f"has an invalid format (expected pattern {err['ctx']['pattern']})"
    return f"{where} {message}" if loc else message


def parse(path: str, raw: bytes, model: type[M], max_bytes: int = yamlio.MAX_BYTES) -> tuple[M | None, yamlio.Document | None, list[Problem]]:
    """Parse and validate one file's bytes; problems instead of exceptions."""
    try:
        doc = yamlio.loads(raw, max_bytes)
    except DataError as exc:
        return None, None, [Problem(path, exc.line, exc.message)]
    if not isinstance(doc.data, dict):
        return None, doc, [Problem(path, 1, "the file must hold a YAML mapping of `key: value` lines")]
    try:
        return model.model_validate(doc.data), doc, []
    except ValidationError as exc:
        problems = [Problem(path, doc.line_of(e["loc"]), describe_error(e)) for e in exc.errors()]
        return None, doc, problems


def read(root: Path, rel: str) -> bytes | Problem:
    try:
        with open(os.path.join(root, rel), "rb") as fh:
            return fh.read()
    except OSError as exc:
        return _unreadable(rel, exc)


def _unreadable(rel: str, exc: OSError) -> Problem:
    return Problem(rel, 1, f"cannot read the file ({exc.strerror}); check it exists and is readable")


def load_record(root: Path, rel: str, model: type[M], max_bytes: int = yamlio.MAX_BYTES) -> tuple[Record[M] | None, list[Problem]]:
    """Read, parse and validate one file into a Record."""
    raw = read(root, rel)
    if isinstance(raw, Problem):
        return None, [raw]
    obj, doc, problems = parse(rel, raw, model, max_bytes)
    if obj is None or doc is None:
        return None, problems
    lines = doc.top_lines()
    return Record(rel, obj, lines), problems


def data_files(root: Path, folder: str) -> Iterator[str]:
    """Every file below `folder`, as a sorted repository-relative POSIX path."""
    found = []
    prefix = len(str(root)) + 1
    for dirpath, dirnames, filenames in os.walk(os.path.join(root, folder)):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        rel = dirpath[prefix:].replace(os.sep, "/")
        found += [f"{rel}/{name}" for name in filenames]
        # os.walk does not follow links to folders: list them, so they are reported, not skipped
        found += [f"{rel}/{name}" for name in dirnames if os.path.islink(os.path.join(dirpath, name))]
    yield from sorted(found)


Parsed = tuple[str, str | None, dict[str, Any] | None, dict[str, int] | None, list[Problem]]
"""One file parsed: its path, SHA-256, model dump (JSON mode) and key lines, and its problems.

The dump is None when the file is invalid, or unchanged from the SHA-256 the caller knew."""

PARALLEL_FROM = 4000
"""Parse in worker processes when at least this many files changed (a fresh clone, a new cache)."""
MAX_JOBS = 8
"""At most this many workers (about 50 MiB each): more cores bring little more."""


def parse_files(root: Path, model: type[BaseModel], items: list[tuple[str, str | None]]) -> list[Parsed]:
    """Read, hash and (unless the hash is the known one) parse and validate each (path, known sha)."""
    found: list[Parsed] = []
    for rel, known in items:
        raw = read(root, rel)
        if isinstance(raw, Problem):
            found.append((rel, None, None, None, [raw]))
            continue
        sha = hashlib.sha256(raw).hexdigest()
        if sha == known:
            found.append((rel, sha, None, None, []))
            continue
        obj, doc, problems = parse(rel, raw, model)
        if obj is None or doc is None:
            found.append((rel, sha, None, None, problems))
        else:
            found.append((rel, sha, obj.model_dump(mode="json", exclude_defaults=True), doc.top_lines(), problems))
    return found


def jobs() -> int:
    """Worker processes for parsing: CAMPAIGN_JOBS, else the usable CPUs (1 means none)."""
    try:
        return max(1, int(os.environ.get("CAMPAIGN_JOBS", "")))
    except ValueError:
        return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _parse_all(root: Path, model: type[BaseModel], items: list[tuple[str, str | None]]) -> list[Parsed]:
    """`parse_files` over all items: in `jobs()` fresh worker processes when there are many.

    Workers are spawned, not forked (a fork of a threaded server could inherit a held lock);
    when they cannot be started, or one dies, the files are parsed here.
    """
    workers = min(jobs(), MAX_JOBS, len(items) // (PARALLEL_FROM // 2))
    if workers >= 2:
        size = max(500, len(items) // (workers * 8))
        chunks = [items[i:i + size] for i in range(0, len(items), size)]
        try:
            with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
                parts = list(pool.map(parse_files, repeat(root), repeat(model), chunks))
            return [parsed for part in parts for parsed in part]
        except (BrokenProcessPool, OSError, RuntimeError):
            pass  # no processes here (a sandbox), or a worker died: parse in this one
    return parse_files(root, model, items)


def _load_folder(root: Path, folder: str, model: type[M], problems: list[Problem], use_cache: bool) -> list[Record[M]]:
    """Every record file below `folder`, each taken from the cache when unchanged.

    Every record is built the same way, from the JSON dump the cache stores, so a cached
    record cannot differ from a freshly parsed one.
    """
    cache = RecordCache.open(root, folder.rsplit("/", 1)[-1]) if use_cache else None
    dates = [name for name, info in model.model_fields.items() if info.annotation is dt.date]
    paths: list[str] = []
    entries: dict[str, Entry] = {}
    stats: dict[str, StatKey] = {}
    todo: list[tuple[str, str | None]] = []
    for rel in data_files(root, folder):
        if rel.rsplit("/", 1)[-1] in IGNORED:
            continue
        fit = _fit(root, rel, folder)
        if isinstance(fit, Problem):
            problems.append(fit)
            continue
        paths.append(rel)
        stats[rel] = fit
        entry = cache.by_stat(rel, stats[rel]) if cache else None
        if entry is not None:
            entries[rel] = entry
        else:
            known = cache.entries.get(rel) if cache else None
            todo.append((rel, known.sha if known else None))
    for rel, sha, data, lines, found in _parse_all(root, model, todo):
        problems += found
        if sha is None or found:
            continue
        if data is not None and lines is not None:
            entries[rel] = Entry(stats[rel], sha, data, lines)
            if cache:
                cache.put(rel, entries[rel])
        elif cache and (entry := cache.by_content(rel, stats[rel], sha)):
            entries[rel] = entry  # the same content under a new stat (a fresh checkout)
    records = []
    for rel in paths:
        if rel in entries:
            data = {k: dt.date.fromisoformat(v) if k in dates else v for k, v in entries[rel].data.items()}
            records.append(Record(rel, model.model_construct(**data), entries[rel].lines))
    if cache:
        cache.keep_only(set(entries))
        cache.save()
    return records


def path_problem(rel: str) -> str | None:
    """Why a path under data/ is refused for its characters (control, bidi, line breaks), or None."""
    found = bad_character(rel)
    if found:
        return f"the file name contains {found}, a control or invisible character; rename the file"
    return None


def _fit(root: Path, rel: str, folder: str) -> StatKey | Problem:
    """The stat key of `rel` when it can be a record file, else why it cannot."""
    try:
        rel.encode("utf-8")
    except UnicodeEncodeError:
        shown = rel.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        return Problem(shown, 1, "the file name is not valid UTF-8; rename it")
    if problem := path_problem(rel):
        return Problem(rel, 1, problem)
    try:
        st = os.lstat(os.path.join(root, rel))
    except OSError as exc:
        return _unreadable(rel, exc)
    if stat.S_ISLNK(st.st_mode):
        return Problem(rel, 1, "a symbolic link; data files must be plain files: replace the link with the file")
    if not stat.S_ISREG(st.st_mode):
        return Problem(rel, 1, "not a plain file; data files must be plain files")
    if not rel.endswith(".yaml"):
        return Problem(rel, 1, f"only .yaml files belong in {folder}/; rename or move this file")
    return stat_key(st)


def load_missions(root: Path) -> tuple[list[Record[Mission]], list[Problem]]:
    """The mission directory, one Record per mission (lines are per mission entry)."""
    raw = read(root, MISSIONS)
    if isinstance(raw, Problem):
        return [], [raw]
    directory, doc, problems = parse(MISSIONS, raw, MissionDirectory, MISSIONS_MAX_BYTES)
    if directory is None or doc is None:
        return [], problems
    records = []
    for i, mission in enumerate(directory.missions):
        lines = {str(loc[2]): line for loc, line in doc.lines.items() if len(loc) == 3 and loc[1] == i}
        lines[""] = doc.line_of(("missions", i))
        records.append(Record(MISSIONS, mission, lines))
    return records, problems


def load(root: Path, use_cache: bool = True) -> Dataset:
    """Load and validate every file under data/; never stops at the first bad file.

    With `use_cache`, signature and action files that validated before and have not changed
    are taken from the record cache instead of being parsed again.
    """
    collecting = gc.isenabled()
    gc.disable()  # 100,000 records only grow the heap: cyclic collections would rescan it again and again
    try:
        return _load(root, use_cache)
    finally:
        if collecting:
            gc.enable()


def load_with_campaign(root: Path) -> Dataset:
    """`load`, raising CampaignError when the campaign settings themselves did not load."""
    ds = load(root)
    if ds.campaign is None:
        raise CampaignError([p for p in ds.problems if p.path == CAMPAIGN])
    return ds


def _load(root: Path, use_cache: bool) -> Dataset:
    ds = Dataset(root=root)
    record, problems = load_record(root, CAMPAIGN, Campaign)
    ds.campaign = record.model if record else None
    ds.problems += problems
    ds.missions, problems = load_missions(root)
    ds.problems += problems
    ds.signatures = _load_folder(root, SIGNATORIES, Signature, ds.problems, use_cache)
    ds.actions = _load_folder(root, ACTIONS, Action, ds.problems, use_cache)
    for rel in data_files(root, LETTERS):
        if rel.endswith(".md"):
            raw = read(root, rel)
            if isinstance(raw, Problem):
                ds.problems.append(raw)
                continue
            try:
                ds.letters[rel.rsplit("/", 1)[-1].removesuffix(".md")] = yamlio.decode(raw, 256 * 1024)
            except DataError as exc:
                ds.problems.append(Problem(rel, exc.line, exc.message))
    return ds
