"""A cache of validated records, so unchanged files are not parsed again (ARCHITECTURE.md, "Scale").

Entries are keyed by path and checked first by the file's stat (size, mtime, ctime, inode: no
read needed), then by the SHA-256 of its bytes (survives a fresh checkout, where every mtime
changes). Only files that validated cleanly are cached. The whole cache is dropped when the
code that parses and validates changes, or a library it relies on is upgraded. It lives in
`.cache/campaign/` (git-ignored) as JSON, never pickle: a cache file restored from elsewhere
must not be able to run code.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from types import ModuleType
from typing import Any

from campaign.core.files import write_json_quietly
from campaign.data import confusables, countries, models, text, yamlio

FOLDER = ".cache/campaign"
_CODE = (models, text, countries, yamlio, confusables)
_PACKAGES = ("pydantic", "pydantic-core", "pycountry", "email-validator", "PyYAML", "tzdata", "Jinja2")


@lru_cache(maxsize=None)  # asked for each kind of record and by the PR check: compute once
def code_version(*modules: ModuleType) -> str:
    """A hash of the modules whose behaviour decides what a valid record is (and of `modules`)."""
    digest = hashlib.sha256()
    for module in (*_CODE, *modules):
        digest.update(Path(module.__file__ or "").read_bytes())
    for package in _PACKAGES:  # their data and rules decide too (a new country, a stricter check)
        digest.update(f"{package}={metadata.version(package)};".encode())
    digest.update(f"python={sys.version_info[:2]};unicode={unicodedata.unidata_version}".encode())  # NFKC, categories
    digest.update(f"confusables={confusables.version()};".encode() + confusables.DATA.read_bytes())  # UTS #39 data
    return digest.hexdigest()


StatKey = tuple[int, int, int, int]


def stat_key(st: os.stat_result) -> StatKey:
    """Size, mtime, ctime and inode: any write changes ctime, which no tool can set back."""
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


@dataclass
class Entry:
    """One validated file: its stat and hash, the model's JSON dump and its key lines."""

    stat: StatKey
    sha: str
    data: dict[str, Any]
    lines: dict[str, int]


@dataclass
class RecordCache:
    """Validated records by repository-relative path, for one kind of file."""

    path: Path
    version: str
    entries: dict[str, Entry] = field(default_factory=dict)
    dirty: bool = False

    @classmethod
    def open(cls, root: Path, kind: str) -> RecordCache:
        path = root / FOLDER / f"{kind}.json"
        version = code_version()
        try:
            stored = json.loads(path.read_bytes())
            if stored["version"] == version:
                entries = {rel: Entry(tuple(e[0]), e[1], e[2], e[3]) for rel, e in stored["entries"].items()}
                return cls(path, version, entries)
        except (OSError, ValueError, KeyError, TypeError, IndexError):
            pass  # a missing, unreadable or foreign cache is an empty one
        return cls(path, version, dirty=True)

    def by_stat(self, rel: str, key: StatKey) -> Entry | None:
        entry = self.entries.get(rel)
        return entry if entry is not None and entry.stat == key else None

    def by_content(self, rel: str, key: StatKey, sha: str) -> Entry | None:
        entry = self.entries.get(rel)
        if entry is None or entry.sha != sha:
            return None
        if entry.stat != key:
            entry.stat = key
            self.dirty = True
        return entry

    def put(self, rel: str, entry: Entry) -> None:
        self.entries[rel] = entry
        self.dirty = True

    def keep_only(self, paths: set[str]) -> None:
        """Forget files that no longer exist."""
        gone = self.entries.keys() - paths
        for rel in gone:
            del self.entries[rel]
        self.dirty = self.dirty or bool(gone)

    def save(self) -> None:
        """Write atomically; a cache that cannot be written is simply not kept."""
        if self.dirty:
            entries = {rel: [e.stat, e.sha, e.data, e.lines] for rel, e in self.entries.items()}
            write_json_quietly(self.path, {"version": self.version, "entries": entries})
