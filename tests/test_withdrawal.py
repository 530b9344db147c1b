"""Withdrawal (ARCHITECTURE.md, "Intake"): the link in the confirmation mail and on the thank-you
page, its page and button, an uncommitted signature dropped, a committed one removed by a pull
request that validation and automerge leave to a maintainer, and after the merge the name gone
from the site and from every letter; too late from the dispatch date."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from campaign.forge.base import LocalForge
from campaign.forge.github import GitHubForge
from campaign.intake import withdrawal
from campaign.intake.app import RedactTokens
from campaign.review import automerge, rules
from campaign.review.rules import Change
from support.builders import ROOT, git, run
from support.github import FakeGitHub
from test_intake_service import GOOD, Service, start
from test_site_build import copy_hooks

ORIGIN = {"Origin": "https://free-assange.github.io"}


@pytest.fixture
def svc(git_repo: Path, tmp_path: Path) -> Iterator[Service]:
    yield from start(git_repo, tmp_path)


def mails(outbox: Path) -> dict[str, email.message.EmailMessage]:
    """The `.eml` files of a file-backend outbox, decoded, by file name."""
    return {path.name: email.message_from_bytes(path.read_bytes(), policy=email.policy.default)  # type: ignore[misc]
            for path in sorted(outbox.glob("*.eml"))}


def mail_to(outbox: Path, address: str) -> email.message.EmailMessage:
    (found,) = [m for m in mails(outbox).values() if str(m["To"]) == address]
    return found


def links(svc: Service, address: str) -> tuple[str, str]:
    """(confirmation link, withdrawal link) from the confirmation mail to `address`."""
    text = mail_to(svc.outbox, address).get_body(("plain",)).get_content()
    confirm = re.search(r"http://\S+/confirm/[A-Za-z0-9_-]+", text)
    withdraw = re.search(r"http://\S+/withdraw/[A-Za-z0-9_-]+", text)
    assert confirm and withdraw, text
    return confirm.group(0), withdraw.group(0)


def signed(svc: Service, name: str, address: str, **fields: object) -> str:
    """Sign and confirm; the withdrawal link."""
    assert svc.sign(name=name, email=address, **fields).status_code == 202
    confirm, withdraw = links(svc, address)
    thanks = svc.client.post(confirm)
    assert thanks.status_code == 200
    assert f'href="{withdraw}"' in thanks.text, "the thank-you page shows the same withdrawal link"
    return withdraw


def test_the_link_is_in_the_mail_and_drops_a_signature_not_yet_committed(svc: Service) -> None:
    assert svc.sign(language="es").status_code == 202
    confirm, withdraw = links(svc, GOOD["email"])
    text = mail_to(svc.outbox, GOOD["email"]).get_body(("plain",)).get_content()
    assert "retirar" in text.lower() and "9 de diciembre de 2026" in text, "in the signer's language, with the closing time"
    before = svc.client.get(withdraw)
    assert before.status_code == 200 and "no está confirmada" in before.text and "<form" not in before.text
    assert svc.client.post(confirm).status_code == 200

    page = svc.client.get(withdraw)
    assert page.status_code == 200 and page.headers["content-language"] == "es"
    assert 'method="post"' in page.text and "Ana Pereira" in page.text
    assert svc.intake.status()["confirmed"] == 1, "opening the page changes nothing"
    assert svc.client.post(withdraw, headers={"Origin": "https://evil.example.org"}).status_code == 403
    done = svc.client.post(withdraw, headers=ORIGIN)
    assert done.status_code == 200 and "nunca se publicará" in done.text
    assert svc.intake.status()["confirmed"] == 0 and svc.intake.status()["rejected"] == 1
    assert svc.intake.flush().committed == 0, "a withdrawn signature is never committed"
    again = svc.client.post(withdraw)
    assert again.status_code == 200 and "ya se había retirado" in again.text
    assert svc.client.get(withdraw.rsplit("/", 1)[0] + "/" + "x" * 43).status_code == 404
    assert svc.sign().status_code == 202, "the signer may sign again"


def test_a_committed_signature_gets_a_removal_pull_request_a_maintainer_merges(svc: Service, tmp_path: Path,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    root = svc.root
    settings = (root / "data" / "campaign.yaml").read_text(encoding="utf-8").replace("automerge: false", "automerge: true")
    (root / "data" / "campaign.yaml").write_text(settings, encoding="utf-8")
    git(root, "commit", "-qam", "automerge on")
    people = {"Ilda Marçal": "ilda@example.org", "Bento Quaresma": "bento@example.org", "Carla Sousa": "carla@example.org"}
    withdraw = {name: signed(svc, name, address) for name, address in people.items()}
    assert svc.intake.flush().committed == 3
    git(root, "merge", "-q", "--no-ff", "-m", "signatures", "intake/signatures")
    assert svc.intake.store.removals() == []

    assert "removes it" in svc.client.post(withdraw["Ilda Marçal"]).text
    first = git(root, "rev-parse", withdrawal.BRANCH).strip()
    assert git(root, "diff", "--name-status", f"main...{withdrawal.BRANCH}").startswith("D\tdata/signatories/")
    assert "Carla Sousa" in svc.client.get(withdraw["Carla Sousa"]).text
    assert "removes it" in svc.client.post(withdraw["Bento Quaresma"]).text
    removed = git(root, "diff", "--name-status", f"main...{withdrawal.BRANCH}").split("\n")
    assert [line[0] for line in removed if line] == ["D", "D"], "the branch is rebuilt with both removals"
    assert git(root, "rev-parse", withdrawal.BRANCH).strip() != first
    message = git(root, "log", "-1", "--format=%B", withdrawal.BRANCH)
    assert "withdraw 2 signatures" in message and "@" not in message
    assert svc.intake.publish_withdrawals() is None, "nothing new: nothing is published again"

    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(root), str(clone))
    git(clone, "checkout", "-q", "-b", "withdrawals", f"origin/{withdrawal.BRANCH}")
    checked = run(clone, "validate", "--base", "origin/main")
    assert checked.exit_code == 1
    assert checked.output.count("removes this signature (a withdrawal)") == 2 and "a maintainer merges it" in checked.output
    said = automerge.automerge(clone, "origin/main", 7, git(clone, "rev-parse", "HEAD").strip())
    assert said.startswith("not automerged: the pull request removes 2 signatures")

    git(root, "merge", "-q", "--no-ff", "-m", "withdrawals, merged by a maintainer", withdrawal.BRANCH)
    letters = run(root, "dispatch", "--backend", "file", "--outbox", str(tmp_path / "letters"), "--force", "--no-throttle",
                  "--ledger", str(tmp_path / "ledger.jsonl"))
    assert letters.exit_code == 0, letters.output
    sent = "".join(message.get_body(("plain",)).get_content() for message in mails(tmp_path / "letters").values())
    assert len(mails(tmp_path / "letters")) == 1 and "Carla Sousa" in sent and "Ilda Marçal" not in sent and "Bento Quaresma" not in sent
    shutil.copytree(ROOT / "docs", root / "docs")
    shutil.copy(ROOT / "mkdocs.yml", root / "mkdocs.yml")
    copy_hooks(root)
    monkeypatch.setenv("CAMPAIGN_INTAKE_ENDPOINT", "https://sign.example.org")
    built = run(root, "build", "--languages", "en", "--site-dir", str(tmp_path / "site"))
    assert built.exit_code == 0, built.output
    pages = "".join(p.read_text(encoding="utf-8") for p in (tmp_path / "site").rglob("*.html"))
    assert "Carla Sousa" in pages and "Ilda Marçal" not in pages and "Bento Quaresma" not in pages
    form = (tmp_path / "site" / "sign" / "index.html").read_text(encoding="utf-8")
    checkbox = re.search(r'<input id="sign-followup"[^>]*>', form)
    assert checkbox and 'name="followup"' in checkbox.group(0) and "checked" not in checkbox.group(0), "offered, unticked"
    assert "deleted on 9 February 2027" in form, "the erase date: dispatch.deadline + followup.erase_after_days"


def test_withdrawals_close_when_the_dispatch_date_begins(svc: Service) -> None:
    withdraw = signed(svc, "Ana Pereira", GOOD["email"])
    token = withdraw.rsplit("/", 1)[1]
    closes = withdrawal.closes(svc.intake.campaign)
    assert closes == dt.datetime(2026, 12, 9, 10, 0, tzinfo=dt.timezone.utc), "00:00 on 10 December at UTC+14"
    assert svc.intake.withdraw(token, now=closes)[0] == "too_late"
    assert svc.intake.status()["confirmed"] == 1, "too late changes nothing"
    settings = svc.root / "data" / "campaign.yaml"
    settings.write_text(settings.read_text(encoding="utf-8").replace("date: '2026-12-10'", "date: '2020-12-10'")
                        .replace("deadline: '2026-12-11'", "deadline: '2020-12-11'"), encoding="utf-8")
    svc.intake.reload()
    for answer in (svc.client.get(withdraw), svc.client.post(withdraw)):
        assert answer.status_code == 200 and "can no longer be withdrawn" in answer.text and "<form" not in answer.text
    assert svc.intake.status()["confirmed"] == 1


def test_the_github_forge_removes_files_and_the_fake_merges_the_removal() -> None:
    with FakeGitHub("free-assange/letter", token="t0ken") as gh:
        gh.seed({"data/signatories/ab/0123456789abcdef.yaml": b"name: 'Ana'\n", "README.md": b"campaign\n"})
        forge = GitHubForge("free-assange/letter", "t0ken", api_url=gh.url, retry_pause=0.01)
        done = forge.publish({}, removed=["data/signatories/ab/0123456789abcdef.yaml"], branch=withdrawal.BRANCH,
                             message="intake: withdraw 1 signature", title="Withdrawn signatures", body=withdrawal.BODY,
                             fresh=True)
        assert done.opened and set(gh.files(withdrawal.BRANCH)) == {"README.md"}
        (_, _, tree), = [r for r in gh.requests if r[1].endswith("/git/trees")]
        assert tree["tree"] == [{"path": "data/signatories/ab/0123456789abcdef.yaml", "mode": "100644", "type": "blob",
                                 "sha": None}]
        with pytest.raises(Exception, match="422"):  # GitHub refuses to delete a path that is not there
            forge.publish({}, removed=["data/signatories/cd/missing.yaml"], branch="other", message="m", title="t", body="b")
        forge.merge(done.number or 0, done.commit)
        assert set(gh.files("main")) == {"README.md"}, "the squash merge applies the deletion"
        forge.close()


def test_the_local_forge_commits_a_removal(git_repo: Path) -> None:
    path = "data/signatories/ab/0123456789abcdef.yaml"
    (git_repo / path).parent.mkdir(parents=True)
    (git_repo / path).write_text("name: 'x'\n", encoding="utf-8")
    git(git_repo, "add", "-A")
    git(git_repo, "commit", "-qm", "one")
    LocalForge(git_repo).publish({}, removed=[path], branch=withdrawal.BRANCH, message="withdraw", title="t", body="b")
    assert git(git_repo, "diff", "--name-status", f"main..{withdrawal.BRANCH}").strip() == f"D\t{path}"
    assert (git_repo / path).is_file(), "the working tree is untouched"


def test_the_rules_name_a_removal_and_other_changes_as_before() -> None:
    (removal,) = rules.rules([Change("D", "data/signatories/ab/0123456789abcdef.yaml")])
    assert "removes this signature (a withdrawal)" in removal.message and "automerge never does" in removal.message
    (change,) = rules.rules([Change("M", "data/signatories/ab/0123456789abcdef.yaml")])
    assert "changed only by a maintainer" in change.message


def test_tokens_never_reach_the_access_log() -> None:
    import logging

    record = logging.LogRecord("uvicorn.access", logging.INFO, "", 0, '%s - "%s %s HTTP/%s" %d',
                               ("127.0.0.1", "POST", "/withdraw/abcDEF_123-xyzabcDEF_123-xyz", "1.1", 200), None)
    RedactTokens().filter(record)
    assert record.args[2] == "/withdraw/<token>"  # type: ignore[index]
    assert json.dumps(record.args).count("abcDEF") == 0


def test_a_store_of_version_1_gains_the_withdrawal_and_followup_columns(tmp_path: Path) -> None:
    import sqlite3

    from campaign.intake.store import VERSION, Store, token_hash
    from test_intake_hostile import OLD_SCHEMA

    path = tmp_path / "v1.sqlite3"
    old = sqlite3.connect(path)
    old.executescript(OLD_SCHEMA + "ALTER TABLE entries ADD COLUMN look_alike TEXT; ALTER TABLE entries ADD COLUMN held TEXT;"
                      "PRAGMA user_version = 1;")
    old.execute("INSERT INTO entries (state, name_key, fingerprint, signature, token_hash, created, expires, confirmed, path) "
                "VALUES ('flushed', 'ana PT', 'f1', '{\"name\": \"Ana\", \"country\": \"PT\"}', 'h1', 1, 2, 1, 'data/signatories/ab/x.yaml')")
    old.commit()
    old.close()
    store = Store(path)
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == VERSION == 2
    assert store.removals() == [] and store.followups() == []
    store.add(name_key="bo\0PT", fingerprint="f2", signature={"name": "Bo", "country": "PT"}, email="b@example.org",
              token="t" * 30, ttl=60, withdraw=token_hash("w" * 43), followup="c2VhbGVk")
    assert store.withdraw(token_hash("w" * 43))[0] == "pending", "not confirmed yet"
    assert store.confirm("t" * 30)[0] == "confirmed" and store.followups() == ["c2VhbGVk"]
    assert store.withdraw(token_hash("w" * 43))[0] == "withdrawn" and store.followups() == []
    store.close()
