"""JSON Schemas in schemas/ match the models, and accept/reject what the models do."""

from __future__ import annotations

import json

from campaign.data import schema
from support.builders import ROOT, run


def test_committed_schemas_are_current() -> None:
    result = run(ROOT, "schema", "--check")
    assert result.exit_code == 0, f"{result.output}\nrun `campaign schema` and commit schemas/"


def test_stale_schema_is_reported(repo) -> None:
    assert run(repo, "schema").exit_code == 0
    (repo / "schemas/signature.schema.json").write_text("{}\n")
    result = run(repo, "schema", "--check")
    assert result.exit_code == 1
    assert "schemas/signature.schema.json:1: out of date; run `campaign schema`" in result.output


def test_signature_schema_describes_the_model() -> None:
    doc = json.loads(schema.render(schema.SCHEMAS["signature"]))
    assert doc["additionalProperties"] is False
    assert set(doc["required"]) == {"type", "name", "country", "signed", "publish", "letter", "source"}
