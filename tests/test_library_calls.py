"""The logic behind each command, called as a library (the CLI only parses options and prints):
validation, schemas, stats, the directory's build and check, a dispatch run, the letter
preview, the intake's wiring, flush and status, the issue-form route and automerge."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from campaign.core.errors import CampaignError
from campaign.data import dataset, schema
from campaign.directory import build, check
from campaign.dispatch import preview, session
from campaign.intake import issue_form, server
from campaign.records import counters
from campaign.review import automerge, incremental
from support.builders import FIXTURES, ROOT, git, write
from support.dispatch import ALL_DUE, REHEARSAL, add_signatures, states
from support.github import FakeGitHub
from support.http import confirmation_links


def test_validate_reports_problems_and_a_summary(repo: Path) -> None:
    add_signatures(repo, "pt-lisbon", 2)
    ok = incremental.validate(repo)
    assert ok.problems == [] and ok.summary.startswith("ok: 2 signatures")
    write(repo, "data/signatories/aa/bad.yaml", "type: 'individual'\nname: 'X'\n")
    bad = incremental.validate(repo)
    assert bad.problems and all(p.path == "data/signatories/aa/bad.yaml" for p in bad.problems)


def test_schema_check_names_stale_files(repo: Path) -> None:
    (repo / "schemas").mkdir()
    with pytest.raises(CampaignError) as err:
        schema.check(repo)
    assert {p.path for p in err.value.problems} == set(schema.files())
    schema.write(repo)
    schema.check(repo)


def test_stats_count_what_the_site_counts(repo: Path) -> None:
    add_signatures(repo, "pt-lisbon", 3)
    add_signatures(repo, "pt-lisbon", 1, letter=False, prefix="Quiet")
    found = counters.stats(dataset.load_with_campaign(repo))
    assert found["signatures"] == 4 and found["names_in_letters"] == 3 and found["letters_sent"] == 0
    assert found["missions"] == len(dataset.load(repo).missions)
    shown = counters.stats_text(found).splitlines()
    assert shown[0] == f"signatures{' ' * (len('signatures delivered') - len('signatures'))}         4" and len(shown) == len(found)
    assert json.loads(counters.stats_text(found, as_json=True)) == found
    write(repo, "data/campaign.yaml", "id: [broken\n")
    with pytest.raises(CampaignError) as err:
        dataset.load_with_campaign(repo)
    assert err.value.problems[0].path == "data/campaign.yaml"


def test_build_writes_the_directory(tmp_path: Path) -> None:
    target = tmp_path / "missions.yaml"
    said = build.write(FIXTURES / "source-missions.yaml", target)
    assert said == f"wrote {target}" and "missions:" in target.read_text()


def test_check_runs_on_the_repository(repo: Path) -> None:
    report = check.run(repo)
    assert report.missions == len(dataset.load(repo).missions)
    write(repo, "data/missions.yaml", "missions: [\n")
    with pytest.raises(CampaignError):
        check.run(repo)


def test_a_dispatch_run_sends_records_and_reports(repo: Path) -> None:
    add_signatures(repo, "pt-lisbon", 2)
    notes: list[str] = []
    report = session.run(repo, outbox=repo / "outbox", now=ALL_DUE, warn=notes.append)
    report.check()  # nothing fatal
    assert "2 sent" in report.text() and set(states(repo, REHEARSAL).values()) == {"sent"}  # the file backend: a rehearsal
    assert len(list((repo / "outbox").glob("*.eml"))) == 2
    again = session.run(repo, outbox=repo / "outbox", now=ALL_DUE, warn=notes.append)
    assert "this run: 0 sent" in again.text()


def test_a_broken_signature_file_is_skipped_with_a_warning(repo: Path) -> None:
    add_signatures(repo, "pt-lisbon", 1)
    write(repo, "data/signatories/aa/bad.yaml", "name: [\n")
    notes: list[str] = []
    session.load(repo, notes.append)
    assert notes and "1 data files have problems" in notes[0]


def test_preview_shows_the_letter_or_a_sample(repo: Path) -> None:
    notes: list[str] = []
    sample = preview.preview(repo, "pt-lisbon", warn=notes.append)
    assert "A. Sample Signer" in sample and notes
    (path,) = add_signatures(repo, "pt-lisbon", 1, prefix="Ana")
    text = preview.preview(repo, "pt-lisbon", path, warn=notes.append)
    assert text.startswith("From: ") and "Ana" in text
    assert preview.preview(repo, "pt-lisbon", fmt="html", warn=notes.append).startswith("<!DOCTYPE html>")
    with pytest.raises(CampaignError):
        preview.preview(repo, "us-washington", path, warn=notes.append)


def test_the_intake_is_wired_from_the_repository(git_repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CAMPAIGN_FINGERPRINT_KEY", raising=False)
    service = server.open_intake(git_repo, forge_name="local", outbox=git_repo / "outbox", burst=50)
    try:
        assert service.limits.burst == 50 and service.settings.key_from.endswith("fingerprint.key")
        answer = service.submit({"name": "Ana Pereira", "country": "PT", "email": "ana@example.org",
                                 "publish": "true", "letter": "true", "consent": service.campaign.consent.version})
        assert answer.status == 202
        link = confirmation_links(git_repo / "outbox")["ana@example.org"]
        assert service.confirm(link.rsplit("/", 1)[1])[0] == "confirmed"
    finally:
        service.close()
    assert json.loads(server.status(git_repo))["confirmed"] == 1
    said = server.flush(git_repo, forge_name="local")
    assert said.startswith("1 signatures committed")
    assert "intake/signatures" in git(git_repo, "branch", "--list", "intake/*")


def test_the_issue_route_comments_on_a_broken_submission(git_repo: Path, tmp_path: Path) -> None:
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"action": "opened", "issue": {
        "number": 7, "title": "Sign", "body": "not the form", "state": "open",
        "user": {"login": "someone"}, "labels": [{"name": "intake: signature"}]}}))
    for template in (ROOT / ".github" / "ISSUE_TEMPLATE").glob("*.yml"):
        write(git_repo, f".github/ISSUE_TEMPLATE/{template.name}", template.read_text())
    lines = issue_form.process(git_repo, event, forge_name="local")
    assert lines[0] == "issue #7: not added (1 problems); commented"
    assert lines[1].startswith("comment on #7:") and "does not follow the form" in lines[1]
    event.write_text(json.dumps({"action": "opened", "issue": {
        "number": 8, "title": "x", "body": "", "state": "closed", "user": {"login": "a"}, "labels": []}}))
    assert issue_form.process(git_repo, event, forge_name="local") == ["not an open intake issue: nothing to do"]


def test_automerge_reads_the_setting_from_the_target_branch(git_repo: Path) -> None:
    git(git_repo, "checkout", "-q", "-b", "intake/signatures")
    add_signatures(git_repo, "pt-lisbon", 1)
    path = git_repo / "data" / "campaign.yaml"
    path.write_text(path.read_text().replace("automerge: false", "automerge: true"))  # the PR cannot turn it on
    git(git_repo, "add", "-A")
    git(git_repo, "commit", "-qm", "sign and switch automerge on")
    with FakeGitHub("free-assange/letter", token="t") as gh:
        said = automerge.automerge(git_repo, "main", 1, "0" * 40, forge=None)
        assert said.startswith("automerge is off") and not gh.requests
    with pytest.raises(CampaignError) as err:
        automerge.target_settings(git_repo, "no-such-branch")
    assert "fetch the target branch first" in str(err.value)
