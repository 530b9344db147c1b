"""`campaign missions check`: the report of missions that need a person, and the failing
contacts read from the dispatch ledger."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml

from campaign.data import dataset
from campaign.directory import check as missioncheck
from campaign.records import findings, phones, routes
from campaign.records.ledger import Ledger
from support.builders import ROOT, run, write

TODAY = "2026-12-01"
DIRECTORY = """\
missions:
- id: 'af-kabul'
  country: 'AF'
  type: 'embassy'
  name: 'British Embassy Kabul'
  city: 'Kabul'
  timezone: 'Asia/Kabul'
  primary: true
  status: 'suspended'
  note: 'operates from Doha'
  source:
  - url: 'https://example.org/kabul'
  verified: '2026-01-01'
- id: 'fr-paris'
  country: 'FR'
  type: 'embassy'
  name: 'British Embassy Paris'
  city: 'Paris'
  address: |-
    35 rue du Faubourg St Honoré
    75008 Paris
  phones:
  - label: 'Switchboard'
    number: '+33144513100'
  emails:
  - address: 'paris.test@fconet.fco.gov.uk'
    kind: 'general'
  url: 'https://www.gov.uk/world/organisations/british-embassy-paris'
  timezone: 'Europe/Paris'
  primary: true
  status: 'open'
  source:
  - url: 'https://www.gov.uk/world/organisations/british-embassy-paris'
  verified: '2025-01-01'
- id: 'fr-marseille'
  country: 'FR'
  type: 'consulate-general'
  name: 'British Consulate General Marseille'
  city: 'Marseille'
  emails:
  - address: 'marseille.test@fcdo.gov.uk'
    kind: 'general'
  timezone: 'Europe/Paris'
  primary: false
  status: 'open'
  source:
  - url: 'https://example.org/marseille'
  verified: '2020-01-01'
- id: 'in-hyderabad'
  country: 'IN'
  type: 'consulate-general'
  name: 'British Deputy High Commission Hyderabad'
  city: 'Hyderabad'
  phones:
  - label: 'Telephone'
    number: '+91 40 6666 9147/48'
  - label: 'Consular'
    number: '+914066669147'
  - label: 'Consular (again)'
    number: '+91 40 6666 9147'
  - label: 'London'
    number: '+44 20 7008 5000'
  contact_form: 'https://www.contact-embassy.service.gov.uk/?country=India'
  timezone: 'Asia/Kolkata'
  primary: true
  status: 'open'
  source:
  - url: 'https://example.org/hyderabad'
  verified: '2026-06-01'
- id: 'pt-lisbon'
  country: 'PT'
  type: 'embassy'
  name: 'British Embassy Lisbon'
  city: 'Lisbon'
  address: 'Rua de São Bernardo 33, Lisboa'
  phones:
  - label: 'Telephone'
    number: '+351213924000'
  emails:
  - address: 'lisbon.test@fcdo.gov.uk'
    kind: 'general'
  contact_form: 'https://www.contact-embassy.service.gov.uk/?country=Portugal'
  timezone: 'Europe/Lisbon'
  primary: true
  status: 'open'
  source:
  - url: 'https://example.org/lisbon'
  verified: '2026-06-01'
- id: 'ye-sanaa'
  country: 'YE'
  type: 'embassy'
  name: 'British Embassy Sanaa'
  city: 'Sanaa'
  emails:
  - address: 'sanaa.test@fco.gov.uk'
    kind: 'general'
  timezone: 'Asia/Aden'
  primary: true
  status: 'closed'
  source:
  - url: 'https://example.org/sanaa'
  verified: '2010-01-01'
"""


@pytest.fixture
def root(repo: Path) -> Path:
    write(repo, "data/missions.yaml", DIRECTORY)
    return repo


def line_of(mission_id: str) -> int:
    return DIRECTORY.splitlines().index(f"- id: '{mission_id}'") + 1


def test_report_lines_name_the_mission_the_finding_and_the_fix(root: Path) -> None:
    result = run(root, "missions", "check", "--today", TODAY)
    assert result.exit_code == 0, result.output  # a report: findings are not a failure
    lines = result.output.splitlines()
    found = [line for line in lines if line.startswith("data/missions.yaml:")]
    assert all(re.match(r"^data/missions\.yaml:\d+: [a-z]{2}-[a-z0-9-]+: [^;]+; .+$", line) for line in found), found
    kinds = {(line.split(": ")[1], line.split(": ")[2].split(" ")[0]) for line in found}

    def has(mission: str, text: str) -> bool:
        return any(line.startswith(f"data/missions.yaml:{line_of(mission)}: {mission}: ") and text in line for line in found)

    assert has("fr-paris", "email paris.test@fconet.fco.gov.uk is on the retired fco.gov.uk domain")
    assert has("fr-paris", "no usable written channel: the only email is on the retired fco.gov.uk domain and no contact form")
    assert has("af-kabul", "no usable written channel: no email and no contact form")
    assert has("af-kabul", "the post is suspended: operates from Doha")
    assert has("af-kabul", "no phone number") and has("fr-marseille", "no phone number")
    assert has("fr-marseille", "details last verified 2020-01-01 (6 years ago; the limit is 1095 days)")
    assert has("in-hyderabad", "phone 'Telephone' '+91 40 6666 9147/48' holds several numbers in one entry; give each number its own entry")
    assert has("in-hyderabad", "phone 'London' '+44 20 7008 5000' is a number of United Kingdom (GB), not of India")
    assert has("in-hyderabad", "phone number +914066669147 appears 2 times; remove the repeated entries")
    assert has("ye-sanaa", "the post is closed; choose another mission")
    assert [line for line in found if "ye-sanaa" in line] == [f"data/missions.yaml:{line_of('ye-sanaa')}: ye-sanaa: the post is "
                                                               "closed; choose another mission for its letters (set `primary` "
                                                               "there) or remove it"]  # nothing else about a closed post
    assert not any("pt-lisbon" in line for line in found) and ("pt-lisbon", "") not in kinds
    assert "6 missions, 5 need a person" in result.output
    summary = "\n".join(lines[len(found):])
    for label, count in [("missions without a usable written channel", 2), ("of which no email and no contact form at all", 1),
                         ("emails on a retired domain", 1), ("closed posts", 1), ("suspended posts", 1),
                         ("phone numbers not valid for their country", 2), ("repeated phone numbers", 1),
                         ("missions without a phone", 2), ("records not verified within the age limit", 1)]:
        assert re.search(rf"{re.escape(label)}\s+{count}$", summary, re.M), (label, summary)
    # findings come in file order
    numbers = [int(line.split(":")[1]) for line in found]
    assert numbers == sorted(numbers)


def test_strict_json_and_age_limit(root: Path) -> None:
    assert run(root, "missions", "check", "--today", TODAY, "--strict").exit_code == 1
    result = run(root, "missions", "check", "--today", TODAY, "--format", "json", "--max-age-days", "200")
    data = json.loads(result.output)
    assert data["missions"] == 6 and data["counts"]["stale"] == 3 and data["counts"]["retired-email"] == 1
    assert {"mission", "line", "kind", "message", "action"} == set(data["findings"][0])


def test_a_broken_directory_is_an_error_not_a_report(root: Path) -> None:
    write(root, "data/missions.yaml", DIRECTORY.replace("country: 'PT'", "country: 'XX'"))
    result = run(root, "missions", "check")
    assert result.exit_code == 1 and "data/missions.yaml:" in result.output and "Traceback" not in result.output


def ledger(root: Path) -> Ledger:
    return Ledger(root / "data/dispatch/free-assange-2026-12-10.jsonl", "data/dispatch/free-assange-2026-12-10.jsonl")


def test_failing_addresses_from_the_ledger(root: Path) -> None:
    lisbon, marseille = "lisbon.test@fcdo.gov.uk", "marseille.test@fcdo.gov.uk"
    with ledger(root) as book:
        book.append("s-1", "sending", "pt-lisbon", "<1@x>", to=lisbon)
        book.append("s-1", "failed", "pt-lisbon", "<1@x>", detail="550 5.1.1 <lisbon.test@fcdo.gov.uk>: mailbox unavailable",
                    to=lisbon, scope="recipient")
        book.append("s-2", "failed", "pt-lisbon", "<2@x>", detail="550 5.1.1 mailbox unavailable", to=lisbon, scope="recipient")
        book.append("s-3", "sent", "fr-paris", "<3@x>", to="paris.test@fconet.fco.gov.uk")
        book.append("s-4", "failed", "fr-marseille", "<4@x>", detail="554 5.7.1 content refused", to=marseille,
                    scope="message")  # about that message, not the address
        book.append("s-6", "deferred", "in-hyderabad", "<6@x>", detail="451 try later", to="x@y.org")  # not permanent
        book.append("s-7", "bounced", "fr-marseille", "<7@x>", to=marseille, permanent=True, scope="relay",
                    detail="smtp; 550 5.7.1 <mx[127.0.0.1]>: Client host rejected")  # the far end refused our relay
    assert set(routes.failures(root)) == {lisbon}
    failure = routes.failures(root)[lisbon]
    assert failure.letters == 2 and failure.detail == "550 5.1.1 mailbox unavailable" and failure.mission == "pt-lisbon"
    result = run(root, "missions", "check", "--today", TODAY)
    line = next(line for line in result.output.splitlines() if "pt-lisbon" in line)
    assert line.startswith(f"data/missions.yaml:{line_of('pt-lisbon')}: pt-lisbon: {lisbon}: letters refused or bounced "
                           "(2 letters; last '550 5.1.1 mailbox unavailable'")
    assert "they now go by form https://www.contact-embassy.service.gov.uk/?country=Portugal" in line
    assert ("reach it by phone Telephone: +351 21 392 4000; contact form https://www.contact-embassy.service.gov.uk/?country=Portugal; "
            "in person at Rua de São Bernardo 33, Lisboa, and correct `emails`") in line
    assert re.search(r"failing addresses \(letters refused or bounced\)\s+1$", result.output, re.M)
    assert "delivery routes: email 1, fallback 0, form 2, paper 3, consular 0" in result.output
    with ledger(root) as book:  # --retry-failed: the cause was fixed
        book.append("s-2", "requeued", "pt-lisbon", "<2@x>", detail="--retry-failed")
    assert routes.failures(root) == {}


def test_library_functions_for_the_site(root: Path) -> None:
    ds = dataset.load(root)
    found = findings.findings(ds, today=dt.date.fromisoformat(TODAY), failed={})
    assert set(found) == {"af-kabul", "fr-paris", "fr-marseille", "in-hyderabad", "ye-sanaa"}
    assert [f.kind for f in found["fr-paris"]] == ["no-channel", "retired-email"]
    lisbon = ds.mission_by_id["pt-lisbon"]
    assert routes.channels(lisbon)[-1] == "in person at Rua de São Bernardo 33, Lisboa"
    url = findings.correction_url("free-assange/campaign", ds.mission_by_id["fr-paris"], found["fr-paris"])
    parts = urlsplit(url)
    assert parts.netloc == "github.com" and parts.path == "/free-assange/campaign/issues/new"
    query = parse_qs(parts.query)
    assert query["title"] == ["Mission details: British Embassy Paris (fr-paris)"]
    assert "- email: paris.test@fconet.fco.gov.uk (general)" in query["body"][0] and "retired fco.gov.uk domain" in query["body"][0]
    assert "- phones: Switchboard +33 1 44 51 31 00" in query["body"][0]


def test_the_repository_directory() -> None:
    """On the committed data: every retired-domain email and every mission without a usable
    written channel is listed, and every phone number is valid for its country or reported."""
    ds = dataset.load(ROOT, use_cache=False)
    report = missioncheck.report(ds, today=dt.date.fromisoformat(TODAY))
    by_kind: dict[str, set[str]] = {}
    for f in report.findings:
        by_kind.setdefault(f.kind, set()).add(f.mission)
    raw = yaml.safe_load((ROOT / "data/missions.yaml").read_text(encoding="utf-8"))["missions"]
    open_ = [m for m in raw if m["status"] != "closed"]
    retired = {m["id"] for m in open_ for e in m.get("emails", []) if re.search(r"[@.]fco\.gov\.uk$", e["address"], re.I)}
    assert retired and by_kind["retired-email"] == retired
    usable = {m["id"] for m in open_ for e in m.get("emails", []) if e["kind"] in ("general", "consular")
              and not re.search(r"[@.](fco|dfid|gsi|gcsx|gsx|ukti)\.gov\.uk$", e["address"], re.I)}
    no_channel = {m["id"] for m in open_ if not m.get("contact_form") and m["id"] not in usable}
    assert by_kind["no-channel"] == no_channel
    counts = report.route_counts()
    assert sum(counts[k] for k in ("email", "fallback", "form", "paper")) == len(raw)
    assert counts["email"] == sum(r.kind == "email" for r in report.routes.values()) and counts["fallback"] == 0
    assert not any(routes.retired_domain(r.address) for r in report.routes.values() if r.address)
    invalid = {m["id"] for m in open_ for p in m.get("phones", []) if phones.problem(p["number"], m["country"])}
    assert by_kind["phone-invalid"] == invalid
    for m in raw:
        for p in m.get("phones", []):
            assert phones.E164.match(p["number"]) or m["id"] in by_kind.get("phone-invalid", set()) | by_kind.get("closed", set())
