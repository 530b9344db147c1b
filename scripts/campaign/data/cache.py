"""A cache of validated records, so unchanged files are not parsed again (ARCHITECTURE.md, "Scale").

Entries are keyed by path and checked first by the file's stat (size, mtime, ctime, inode: no
read needed), then by the SHA-256 of its bytes (survives a fresh checkout, where every mtime
changes). Only files that validated cleanly are cached. The whole cache is dropped when the
code that parses and validates changes, or a library it relies on is upgraded. It lives in
`.cache/campaign/` (git-ignored) as JSON Lines, never pickle: a cache file restored from
elsewhere must not be able to run code. It is read and written as a stream (`folders.stream`),
so its memory does not grow with the number of records.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import sys
import unicodedata
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from types import ModuleType
from typing import Any

from campaign.data import confusables, countries, models, text, yamlio

FOLDER = ".cache/campaign"
_CODE = (models, text, countries, yamlio, confusables)
_PACKAGES = ("pydantic", "pydantic_core", "pycountry", "email_validator", "yaml", "tzdata", "jinja2")  # import names


@lru_cache(maxsize=None)  # asked for each kind of record and by the PR check: compute once
def code_version(*modules: ModuleType) -> str:
    """A hash of the modules whose behaviour decides what a valid record is (and of `modules`)."""
    digest = hashlib.sha256()
    for module in (*_CODE, *modules):
        digest.update(Path(module.__file__ or "").read_bytes())
    for package in _PACKAGES:  # their data and rules decide too (a new country, a stricter check); the
        # modules' own version (importlib.metadata would scan every installed distribution: 40 ms)
        digest.update(f"{package}={importlib.import_module(package).__version__};".encode())
    digest.update(f"python={sys.version_info[:2]};unicode={unicodedata.unidata_version}".encode())  # NFKC, categories
    digest.update(confusables.DATA.read_bytes())  # the UTS #39 data (not parsed here: most runs never need it)
    return digest.hexdigest()


StatKey = tuple[int, int, int, int]


def stat_key(st: os.stat_result) -> StatKey:
    """Size, mtime, ctime and inode: any write changes ctime, which no tool can set back."""
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


Row = tuple[str, StatKey, str, str]
"""One cached file: its path, stat and SHA-256, and the JSON text of [model dump, key lines]."""


class RecordCache:
    """Validated records of one kind of file, as JSON Lines sorted by path, read and written as a stream.

    The first line is `{"version": ...}`; each further line is `path, size, mtime, ctime, inode,
    sha` separated by tabs, then a tab and the JSON of [dump, lines]. Paths hold no tab or line
    break (validation refuses such names before anything is cached). Nothing is held in memory
    but the row being read: a million records cost a million lines on disk, not gigabytes here.
    A missing, unreadable or foreign file is an empty cache; a damaged line ends it.
    """

    def __init__(self, root: Path, kind: str) -> None:
        self.path = root / FOLDER / f"{kind}.jsonl"
        self.version = code_version()
        self._file: Any = None
        try:
            self._file = open(self.path, encoding="utf-8", newline="\n")  # noqa: SIM115 - kept open for two passes
            if json.loads(self._file.readline()).get("version") != self.version:
                self.close()
        except (OSError, ValueError, AttributeError, UnicodeDecodeError):
            self.close()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def drop(self) -> None:
        """Delete the cache file (a damaged row was found): the next load writes it anew."""
        self.close()
        self.path.unlink(missing_ok=True)

    def rows(self) -> Iterator[Row]:
        """Every row, in path order (each call reads the same file from its start)."""
        if self._file is None:
            return
        try:
            self._file.seek(0)
            self._file.readline()
            for line in self._file:
                path, size, mtime, ctime, ino, sha, rest = line.rstrip("\n").split("\t", 6)
                yield path, (int(size), int(mtime), int(ctime), int(ino)), sha, rest
        except (OSError, ValueError, UnicodeDecodeError):
            return  # a damaged line ends the cache: the files after it are parsed again

    def writer(self) -> Writer:
        return Writer(self.path, self.version)


def entry(rest: str) -> tuple[dict[str, Any], dict[str, int]] | None:
    """A row's (dump, lines), or None when its JSON is damaged."""
    try:
        data, lines = json.loads(rest)
        return (data, lines) if isinstance(data, dict) and isinstance(lines, dict) else None
    except (ValueError, TypeError):
        return None


def row_text(data: dict[str, Any], lines: dict[str, int]) -> str:
    return json.dumps([data, lines], ensure_ascii=False, separators=(",", ":"))


class Writer:
    """A new cache file written row by row (in path order) into a temporary file, renamed by
    `commit`; a cache that cannot be written is simply not kept."""

    def __init__(self, path: Path, version: str) -> None:
        self.path = path
        self._tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        self._file: Any = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._file = open(self._tmp, "w", encoding="utf-8", newline="\n")  # noqa: SIM115
            self._file.write(json.dumps({"version": version}) + "\n")
        except OSError:
            self.discard()

    def add(self, path: str, stat: StatKey, sha: str, rest: str) -> None:
        if self._file is not None:
            try:
                self._file.write(f"{path}\t{stat[0]}\t{stat[1]}\t{stat[2]}\t{stat[3]}\t{sha}\t{rest}\n")
            except (OSError, UnicodeEncodeError):
                self.discard()

    def commit(self) -> None:
        if self._file is not None:
            try:
                self._file.close()
                self._file = None
                os.replace(self._tmp, self.path)
            except OSError:
                self.discard()

    def discard(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        self._tmp.unlink(missing_ok=True)
