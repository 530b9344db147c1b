"""One data file: read, parse strictly and validate into a Record, with problems instead of exceptions.

The primitives under `dataset` (the whole tree) and `folders` (record folders, streamed).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from campaign.core.errors import DataError, Problem
from campaign.data import yamlio
from campaign.data.text import bad_character

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class Record(Generic[M]):
    """A validated model, the file it came from and the line of each top-level key."""

    path: str
    model: M
    lines: dict[str, int]

    def line(self, key: str) -> int:
        return self.lines.get(key, 1)


def _field_help(model: type[BaseModel] | None, loc: tuple[Any, ...]) -> str | None:
    """The description of the field at `loc` in `model` (through nested models), if it has one."""
    info = None
    for part in loc:
        fields = getattr(model, "model_fields", None)
        if not isinstance(part, str) or not fields or part not in fields:
            return None
        info = fields[part]
        model = info.annotation if isinstance(info.annotation, type) else None
    return info.description if info else None


def describe_error(err: dict[str, Any], model: type[BaseModel] | None = None) -> str:
    """A pydantic error as one sentence that says how to fix it (with `model`, a missing field
    also says what it holds)."""
    loc = ".".join(str(part) for part in err["loc"] if not str(part).startswith("function-"))
    where = f"`{loc}`" if loc else "file"
    kind, value = err["type"], err.get("input")
    if kind == "missing":
        what = _field_help(model, tuple(err["loc"]))
        return f"{where} is required but missing; add it" + (f": {what}" if what else "")
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
        problems = [Problem(path, doc.line_of(e["loc"]), describe_error(e, model)) for e in exc.errors()]
        return None, doc, problems


def read(root: Path, rel: str) -> bytes | Problem:
    try:
        with open(os.path.join(root, rel), "rb") as fh:
            return fh.read()
    except OSError as exc:
        return unreadable(rel, exc)


def unreadable(rel: str, exc: OSError) -> Problem:
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


def path_problem(rel: str) -> str | None:
    """Why a path under data/ is refused for its characters (control, bidi, line breaks), or None."""
    found = bad_character(rel)
    if found:
        return f"the file name contains {found}, a control or invisible character; rename the file"
    return None
