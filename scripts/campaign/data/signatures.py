"""Writing signature files: one signature (`campaign sign`) or a CSV list (`campaign import`)."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from campaign.core.errors import CampaignError, DataError, Problem, read_input
from campaign.data import duplicates, yamlio
from campaign.data.checks import unknown_mission
from campaign.data.dataset import SIGNATORIES, Dataset, describe_error
from campaign.data.duplicates import Taken
from campaign.data.models import Signature

SCHEMA_FROM_SHARD = "../../../schemas/signature.schema.json"
CSV_MAX_BYTES = 50 * 1024 * 1024
_TRUE = {"yes", "y", "true", "1", "x"}
_FALSE = {"no", "n", "false", "0", ""}


def relative_path(sig: Signature) -> str:
    """Where a signature is stored: 256 shard folders, file named by a hash of its duplicate key.

    The same person signing twice maps to the same file, and the file name reveals nothing
    beyond what the file holds.
    """
    digest = hashlib.sha256(duplicates.key(sig).encode()).hexdigest()
    return f"{SIGNATORIES}/{digest[:2]}/{digest[2:18]}.yaml"


def to_yaml(sig: Signature) -> str:
    """The file text for a signature: quoted scalars, schema line for editors."""
    return yamlio.dumps(sig.model_dump(mode="json", exclude_none=True), schema=SCHEMA_FROM_SHARD)


class Index:
    """Existing signatures (duplicate keys, fingerprints) and mission ids, to refuse a second signature."""

    def __init__(self, ds: Dataset) -> None:
        self.missions = ds.mission_by_id
        self.taken = Taken.of(ds.signatures)

    def problem(self, sig: Signature) -> str | None:
        """Why `sig` cannot be added, or None."""
        if sig.mission is not None and sig.mission not in self.missions:
            return unknown_mission(sig.mission, self.missions)
        return self.taken.reason(sig)

    def add(self, sig: Signature, path: str) -> None:
        self.taken.add(sig, path)


def build(ds: Dataset, fields: dict[str, Any]) -> Signature:
    """A validated Signature from loose fields; the mission defaults to the country's own."""
    fields = {k: v for k, v in fields.items() if v is not None}
    fields.setdefault("signed", dt.date.today())
    if fields.get("type", "individual") == "individual" and "mission" not in fields and "country" in fields:
        mission = ds.mission_for(fields["country"])
        if mission:
            fields["mission"] = mission.id
    return Signature.model_validate(fields)


def write(root: Path, sig: Signature) -> str:
    """Write one signature file, never overwriting; return its repository-relative path."""
    rel = relative_path(sig)
    target = root / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "x", encoding="utf-8", newline="\n") as fh:
        fh.write(to_yaml(sig))
    return rel


CONSENTS = {"publish": "--publish (list the name on the site) or --no-publish to decline",
            "letter": "--letter (put the name in the letter) or --no-letter to decline"}


def sign(ds: Dataset, fields: dict[str, Any]) -> str:
    """Validate, de-duplicate and write one signature; raise CampaignError with every reason at once."""
    problems = [Problem("(options)", 1, f"say whether you consent: {hint}") for key, hint in CONSENTS.items()
                if fields.get(key) is None]
    mission = fields.get("mission")
    if mission and mission not in ds.mission_by_id:
        problems.append(Problem("--mission", 1, unknown_mission(mission, ds.mission_by_id)))
    try:
        sig = build(ds, {k: v for k, v in fields.items() if k not in CONSENTS or v is not None})
    except ValidationError as exc:
        wanted = {"mission"} | (set(CONSENTS) - {k for k in CONSENTS if fields.get(k) is None})
        problems += [Problem("(options)", 1, describe_error(e)) for e in exc.errors()
                     if not e["loc"] or e["loc"][0] in wanted or e["loc"][0] not in CONSENTS]
        raise CampaignError(problems) from None
    if problems:
        raise CampaignError(problems)
    reason = Index(ds).problem(sig)
    if reason:
        raise CampaignError([Problem(relative_path(sig), 1, reason)])
    return write(ds.root, sig)


def _flag(value: str | None, column: str) -> bool:
    text = (value or "").strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"column `{column}` must be yes or no, got {value!r}")


def read_csv(path: Path) -> Iterable[tuple[int, dict[str, str]]]:
    """(line, row) pairs of a UTF-8 CSV with a header row; CampaignError if unreadable."""
    shown = str(path)
    try:
        text = yamlio.decode(read_input(path), CSV_MAX_BYTES)
    except DataError as exc:
        raise CampaignError([Problem(shown, exc.line, exc.message)]) from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip() for h in reader.fieldnames or []]
    missing = {"name", "country", "publish", "letter"} - set(header)
    if missing:
        raise CampaignError([Problem(shown, 1, f"the header row lacks {', '.join(sorted(missing))}; "
                                     "columns are: type, name, country, mission, publish, letter, url, signed")])
    reader.fieldnames = header
    start = 2
    for row in reader:
        if None in row:
            yield start, {"__error__": "the row has more cells than the header; quote cells that contain commas"}
        else:
            yield start, row
        start = reader.line_num + 1


def import_csv(ds: Dataset, path: Path, signed: dt.date, skip_invalid: bool = False) -> tuple[list[str], list[Problem]]:
    """Import a partner's list: all rows or none (unless skip_invalid); (written, rejected)."""
    index = Index(ds)
    accepted: list[Signature] = []
    rejected: list[Problem] = []
    shown = str(path)
    for line, row in read_csv(path):
        if "__error__" in row:
            rejected.append(Problem(shown, line, row["__error__"]))
            continue
        cells = {k: (v or "").strip() for k, v in row.items()}
        try:
            sig = build(ds, {
                "type": cells.get("type") or "individual",
                "name": cells.get("name", ""),
                "country": cells.get("country", "").upper(),
                "mission": cells.get("mission") or None,
                "publish": _flag(cells.get("publish"), "publish"),
                "letter": _flag(cells.get("letter"), "letter"),
                "url": cells.get("url") or None,
                "signed": cells.get("signed") or signed,
                "source": "import",
            })
        except ValueError as exc:  # ValidationError is a ValueError
            errors = exc.errors() if isinstance(exc, ValidationError) else None
            for message in [describe_error(e) for e in errors] if errors else [str(exc)]:
                rejected.append(Problem(shown, line, message))
            continue
        reason = index.problem(sig)
        if reason:
            rejected.append(Problem(shown, line, reason))
            continue
        index.add(sig, relative_path(sig))
        accepted.append(sig)
    if rejected and not skip_invalid:
        return [], rejected
    return [write(ds.root, sig) for sig in accepted], rejected
