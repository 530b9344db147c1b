"""JSON Schemas for the data files, generated from the models (for editors and reviewers)."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel

from campaign.core.errors import CampaignError, Problem
from campaign.core.files import write_atomic
from campaign.data.models import Action, Campaign, MissionDirectory, Signature

SCHEMAS: dict[str, type[BaseModel]] = {
    "campaign": Campaign,
    "missions": MissionDirectory,
    "signature": Signature,
    "action": Action,
}


def render(model: type[BaseModel]) -> str:
    schema = model.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return json.dumps(schema, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def files() -> dict[str, str]:
    """schemas/<name>.schema.json -> text."""
    return {f"schemas/{name}.schema.json": render(model) for name, model in SCHEMAS.items()}


def write(root: Path) -> list[str]:
    """Write every schema; return the paths that changed."""
    changed = []
    for rel, text in files().items():
        path = root / rel
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            write_atomic(path, text.encode("utf-8"))
            changed.append(rel)
    return changed


def stale(root: Path) -> list[str]:
    """The schema files that differ from what the models generate."""
    return [rel for rel, text in files().items()
            if not (root / rel).is_file() or (root / rel).read_text(encoding="utf-8") != text]


def check(root: Path) -> None:
    """CampaignError naming every schema file that differs from what the models generate."""
    found = stale(root)
    if found:
        raise CampaignError([Problem(rel, 1, "out of date; run `campaign schema`") for rel in found])
