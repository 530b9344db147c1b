"""`campaign missions build`: the mission directory generated from the compiled source.

The fixture holds real records copied from the source in shared/ (so the tests run without it).
"""

from __future__ import annotations

from pathlib import Path

import yaml

from campaign.data.models import MissionDirectory
from campaign.directory import build as directory
from campaign.records.phones import normalise as normalise_phone
from support.builders import FIXTURES, ROOT, run, write

SOURCE = FIXTURES / "source-missions.yaml"


def built() -> tuple[dict, list[dict]]:
    source = yaml.safe_load(SOURCE.read_text(encoding="utf-8"))
    data = yaml.safe_load(directory.build(SOURCE))
    return source, data["missions"]


def test_ids_types_and_primaries() -> None:
    _, missions = built()
    by_id = {m["id"]: m for m in missions}
    assert {"pt-lisbon", "ae-abu-dhabi", "af-kabul", "bs-nassau", "at-vienna", "at-vienna-osce",
            "at-vienna-un", "bb-bridgetown", "es-madrid", "es-barcelona", "ag-st-johns"} == set(by_id)
    assert by_id["at-vienna-un"]["type"] == "mission"
    primaries = {m["country"]: m["id"] for m in missions if m["primary"]}
    assert primaries == {"PT": "pt-lisbon", "AE": "ae-abu-dhabi", "AF": "af-kabul", "BS": "bs-nassau",
                         "AT": "at-vienna", "BB": "bb-bridgetown", "ES": "es-madrid", "AG": "ag-st-johns"}
    assert by_id["af-kabul"]["status"] == "suspended" and "suspended" in by_id["af-kabul"]["note"]


def test_coverage_of_countries_without_a_post() -> None:
    _, missions = built()
    by_id = {m["id"]: m for m in missions}
    assert by_id["bb-bridgetown"]["also_covers"] == ["DM", "KN"]
    assert by_id["es-barcelona"]["also_covers"] == ["AD"]  # from non_resident_coverage
    assert by_id["pt-lisbon"]["also_covers"] == ["CV"]  # Cape Verde, from the record itself
    assert "also_covers" not in by_id["at-vienna"]


def test_nothing_is_invented() -> None:
    source, missions = built()
    text = SOURCE.read_text(encoding="utf-8")
    published = {normalise_phone(p["number"], r["country_code"]) for r in source["missions"] for p in r.get("phones") or []}
    for m in missions:
        for value in [m.get("email"), m.get("contact_form"), m.get("url")]:
            if value:
                assert value in text, value
        for phone in m.get("phones", []):  # a published number in E.164, or its text as published
            assert phone["number"] in published, phone
        for line in (m.get("address") or "").splitlines():
            assert line in text, line
    madrid = next(m for m in missions if m["id"] == "es-madrid")
    assert "email" not in madrid and madrid["contact_form"].startswith("https://www.contact-embassy")
    nassau = next(m for m in missions if m["id"] == "bs-nassau")
    assert not {"email", "phones", "address", "contact_form"} & set(nassau)


def test_sources_and_verified_dates() -> None:
    _, missions = built()
    by_id = {m["id"]: m for m in missions}
    lisbon = by_id["pt-lisbon"]
    assert lisbon["source"][0]["path"] == "test/fixtures/worldwide/portugal_organisations.json"
    assert lisbon["verified"] == lisbon["source"][0]["date"]
    assert by_id["es-madrid"]["verified"] == "2023-05-25"  # the newer of its two sources
    # an undated page (Wikipedia) beside dated ones does not make the 2014 data "checked today"
    assert by_id["af-kabul"]["verified"] == "2021-08-29"
    assert all(m["verified"] >= max(s.get("date", "0")[:4] for s in m["source"]) for m in missions)


def test_output_is_a_valid_directory(tmp_path: Path) -> None:
    MissionDirectory.model_validate(yaml.safe_load(directory.build(SOURCE)))


def test_the_committed_directory_covers_every_country() -> None:
    missions = yaml.safe_load((ROOT / "data/missions.yaml").read_text(encoding="utf-8"))["missions"]
    countries = {m["country"] for m in missions}
    assert len(missions) == 250 and len(countries) == 169
    assert sum(m["primary"] for m in missions) == len(countries)


def test_cli_errors(repo: Path, tmp_path: Path) -> None:
    result = run(repo, "missions", "build", str(tmp_path / "nope.yaml"))
    assert result.exit_code == 1 and "nope.yaml:1: cannot read the source" in result.output
    bad = write(tmp_path, "bad.yaml", "missions:\n  - id: [\n")
    result = run(repo, "missions", "build", str(bad))
    assert result.exit_code == 1 and f"{bad}:3: malformed YAML" in result.output
    odd = write(tmp_path, "odd.yaml", "missions:\n  - name: 'x'\n")
    result = run(repo, "missions", "build", str(odd))
    assert result.exit_code == 1 and "lacks an expected field" in result.output
    assert "Traceback" not in result.output


def test_cli_writes_the_directory(repo: Path) -> None:
    result = run(repo, "missions", "build", str(SOURCE))
    assert result.exit_code == 0, result.output
    assert (repo / "data/missions.yaml").read_text(encoding="utf-8").startswith(directory.HEADER)
    assert run(repo, "validate").exit_code == 0
