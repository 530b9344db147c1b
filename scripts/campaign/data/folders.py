"""The record folders (`data/signatories/`, `data/actions/`), streamed: one Record at a time, in
path order, each taken from the record cache when unchanged (ARCHITECTURE.md, "Scale").

Nothing here holds every record: the files are listed and classified against the cache in a
first pass, the changed ones parsed in worker processes (results consumed in order as they come),
and a second pass yields each record and writes the new cache file row by row. A million
signatures cost their list of paths in memory, not their models.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import stat
from collections.abc import Callable, Iterator
from functools import cache
from itertools import repeat
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from campaign.core.errors import Problem
from campaign.data.cache import RecordCache, Row, StatKey, entry, row_text, stat_key
from campaign.data.parsing import M, Record, data_files, parse, path_problem, read, unreadable

IGNORED = {".gitkeep", "README.md"}
Parsed = tuple[str, str | None, str | None, list[Problem]]
"""One file parsed: its path, SHA-256, the JSON text of [model dump (JSON mode), key lines], and
its problems. The text is None when the file is invalid, or unchanged from the SHA-256 the caller knew."""

PARALLEL_FROM = 4000
"""Parse in worker processes when at least this many files changed (a fresh clone, a new cache)."""
MAX_JOBS = 8
"""At most this many workers (about 50 MiB each): more cores bring little more."""
CHUNK = 2000
"""Files per task: small enough that results waiting to be consumed stay small."""


def parse_files(root: Path, model: type[BaseModel], items: list[tuple[str, str | None]]) -> list[Parsed]:
    """Read, hash and (unless the hash is the known one) parse and validate each (path, known sha)."""
    found: list[Parsed] = []
    for rel, known in items:
        raw = read(root, rel)
        if isinstance(raw, Problem):
            found.append((rel, None, None, [raw]))
            continue
        sha = hashlib.sha256(raw).hexdigest()
        if sha == known:
            found.append((rel, sha, None, []))
            continue
        obj, doc, problems = parse(rel, raw, model)
        if obj is None or doc is None:
            found.append((rel, sha, None, problems))
        else:
            found.append((rel, sha, row_text(obj.model_dump(mode="json", exclude_defaults=True), doc.top_lines()), problems))
    return found


def jobs() -> int:
    """Worker processes for parsing: CAMPAIGN_JOBS, else the usable CPUs (1 means none)."""
    try:
        return max(1, int(os.environ.get("CAMPAIGN_JOBS", "")))
    except ValueError:
        return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def workers_for(count: int, parallel_from: int) -> int:
    """Worker processes for `count` items: one per half of `parallel_from` (two from
    `parallel_from` on), at most `jobs()` and MAX_JOBS."""
    return min(jobs(), MAX_JOBS, count // (parallel_from // 2))


def parse_all(root: Path, model: type[BaseModel], items: list[tuple[str, str | None]]) -> Iterator[Parsed]:
    """`parse_files` over all items, in order: in `jobs()` fresh worker processes when there are many.

    Workers are spawned, not forked (a fork of a threaded server could inherit a held lock);
    when they cannot be started, or one dies, the files not yet returned are parsed here.
    """
    workers = workers_for(len(items), PARALLEL_FROM)
    done = 0
    if workers >= 2:
        import multiprocessing  # here: most loads run in this process, and the import costs 12 ms at every start
        from concurrent.futures import ProcessPoolExecutor
        from concurrent.futures.process import BrokenProcessPool

        size = min(CHUNK, max(500, len(items) // (workers * 8)))
        chunks = [items[i:i + size] for i in range(0, len(items), size)]
        try:
            with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
                for part in pool.map(parse_files, repeat(root), repeat(model), chunks):
                    yield from part
                    done += len(part)
            return
        except (BrokenProcessPool, OSError, RuntimeError):
            pass  # no processes here (a sandbox), or a worker died: parse the rest in this one
    yield from parse_files(root, model, items[done:])


def fit(root: Path, rel: str, folder: str) -> StatKey | Problem:
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
        return unreadable(rel, exc)
    if stat.S_ISLNK(st.st_mode):
        return Problem(rel, 1, "a symbolic link; data files must be plain files: replace the link with the file")
    if not stat.S_ISREG(st.st_mode):
        return Problem(rel, 1, "not a plain file; data files must be plain files")
    if not rel.endswith(".yaml"):
        return Problem(rel, 1, f"only .yaml files belong in {folder}/; rename or move this file")
    return stat_key(st)


def _counting(rows: Iterator[Row], counted: list[int]) -> Iterator[Row]:
    """`rows`, adding one to `counted[0]` for each."""
    for row in rows:
        counted[0] += 1
        yield row


def _matching(rows: Iterator[Row], rel: str, pending: list[Row | None]) -> Row | None:
    """The row for `rel` from `rows` (both in path order); `pending` keeps the row read ahead."""
    row = pending[0]
    while row is not None and row[0] < rel:
        row = next(rows, None)
    pending[0] = row
    return row if row is not None and row[0] == rel else None


def stream(root: Path, folder: str, model: type[M], problems: list[Problem], use_cache: bool = True) -> Iterator[Record[M]]:
    """Every record file below `folder`, as Records in path order; per-file problems are appended
    to `problems` as the files are met. Every record is built the same way, from the JSON text the
    cache stores, so a cached record cannot differ from a freshly parsed one."""
    cache = RecordCache(root, folder.rsplit("/", 1)[-1]) if use_cache else None
    files: list[tuple[str, StatKey]] = []
    for rel in data_files(root, folder):
        if rel.rsplit("/", 1)[-1] in IGNORED:
            continue
        found = fit(root, rel, folder)
        if isinstance(found, Problem):
            problems.append(found)
        else:
            files.append((rel, found))
    hits = bytearray(len(files))  # 1: unchanged (same stat) in the cache
    todo: list[tuple[str, str | None]] = []
    counted = [0]
    rows, pending = _counting(cache.rows() if cache else iter(()), counted), [None]
    pending[0] = next(rows, None)
    for i, (rel, st) in enumerate(files):
        row = _matching(rows, rel, pending)
        if row is not None and row[1] == st:
            hits[i] = 1
        else:
            todo.append((rel, row[2] if row else None))
    for _ in rows:
        pass  # count the rows of files that are gone: then the cache must be written again
    dirty = bool(todo) or counted[0] != len(files)  # else every row is the file's, unchanged
    parsed = parse_all(root, model, todo)
    writer = cache.writer() if cache and dirty else None
    rows, pending = (cache.rows() if cache else iter(())), [None]
    pending[0] = next(rows, None)
    damaged = False
    try:
        for i, (rel, st) in enumerate(files):
            sha, text, found = None, None, []
            if hits[i]:
                row = _matching(rows, rel, pending)
                sha, text = (row[2], row[3]) if row else (None, None)
            else:
                _, sha, text, found = next(parsed)
                problems += found
                if sha is not None and text is None and not found:  # same content, new stat (a fresh checkout)
                    row = _matching(rows, rel, pending)
                    text = row[3] if row and row[2] == sha else None
            record = _record(rel, model, text) if text is not None else None
            if record is None and not found:  # a valid file without a good cache row: parse it here
                damaged = damaged or bool(hits[i])
                (_, sha, text, found), = parse_files(root, model, [(rel, None)])
                problems += found
                record = _record(rel, model, text) if text is not None else None
            if record is None:
                continue
            if writer:
                writer.add(rel, st, sha or "", text)  # type: ignore[arg-type]
            yield record
        if writer:
            writer.commit()
        elif damaged and cache:
            cache.drop()  # a damaged row of an unchanged file: the next run writes the cache anew
    finally:
        if writer:
            writer.discard()
        if cache:
            cache.close()


def _record(rel: str, model: type[M], text: str) -> Record[M] | None:
    """The Record of a cache row's JSON text (dates back from ISO strings), or None when damaged."""
    got = entry(text)
    if got is None:
        return None
    data, lines = got
    try:
        for key in _dates(model):
            if key in data:
                data[key] = dt.date.fromisoformat(data[key])
    except (TypeError, ValueError):
        return None
    return Record(rel, _construct(model)(data), lines)


@cache
def _dates(model: type[BaseModel]) -> tuple[str, ...]:
    return tuple(name for name, info in model.model_fields.items() if info.annotation is dt.date)


_MISSING = object()
_IMMUTABLE = (type(None), bool, int, float, str, tuple, frozenset)


@cache
def _construct(model: type[M]) -> Callable[[dict[str, Any]], M]:
    """`model.model_construct(**data)` for data that was validated before (a cache row).

    For a plain model (no aliases, private attributes, post-init hook, extra fields or mutable
    defaults: what records are), the same instance is made directly, in a third of the time:
    100,000 records cost 0.5-1 s less. Any other data (a field left out that is required, one
    the model does not have) goes through `model_construct`.
    """
    fields = model.__pydantic_fields__
    plain = not model.__pydantic_post_init__ and not model.__private_attributes__ and not model.__pydantic_root_model__ \
        and model.model_config.get("extra") != "allow" and all(
            f.alias is None and f.validation_alias is None and f.default_factory is None
            and (f.is_required() or type(f.default) in _IMMUTABLE) for f in fields.values())
    if not plain:
        return lambda data: model.model_construct(**data)
    names = frozenset(fields)
    required = frozenset(name for name, f in fields.items() if f.is_required())
    template = {name: _MISSING if f.is_required() else f.default for name, f in fields.items()}  # in field order
    setattr_ = object.__setattr__

    def build(data: dict[str, Any]) -> M:
        if not (required <= data.keys() <= names):
            return model.model_construct(**data)
        made = model.__new__(model)
        values = template.copy()
        values.update(data)
        setattr_(made, "__dict__", values)
        setattr_(made, "__pydantic_fields_set__", set(data))
        setattr_(made, "__pydantic_extra__", None)
        setattr_(made, "__pydantic_private__", None)
        return made

    return build
