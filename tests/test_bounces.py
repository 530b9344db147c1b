"""`campaign dispatch bounces` on the DSNs and replies a real Postfix produced
(tests/fixtures/dsn/, see its README): bounced, delayed, replied and automatic replies, read
twice without adding anything; a hard bounce routes the mission's next letter elsewhere."""

from __future__ import annotations

import mailbox
import os
import re
from pathlib import Path

import pytest

from campaign.dispatch import bounces
from campaign.mail.replies import bounce_scope
from campaign.records import routes
from campaign.records.ledger import Ledger
from click.testing import CliRunner

from campaign.cli import main
from support.builders import FIXTURES, run
from support.imap import Dovecot
from support.dispatch import ALL_DUE, LEDGER, add_signatures, dispatch, dsn_for, ledger_lines, smtp_env, states
from support.smtp import SmtpTestServer

DSN = FIXTURES / "dsn"
MID = "<free-assange.20261210.{}.3a9e0c1d2e@campaign.test>"
SENT = {  # letter key -> the recipient it went to (as in the fixtures)
    "s-1f0c2a9b": "nosuchuser@local.test", "s-2b1d3c4e": "unknown@relay.test", "s-3c2e4d5f": "spam@relay.test",
    "s-4d3f5e60": "policy@relay.test", "s-5e406f71": "later@relay.test", "s-6f517082": "ambassador@down.test",
    "s-70628193": "full@full.test", "s-8173a2b4": "consul@ooo.test", "s-9284b3c5": "nosuchuser2@local.test",
    "s-a395c4d6": "unknown3@relay.test", "s-b4a6d5e7": "ok2@relay.test", "s-c5b7e6f8": "attache@ooo.test",
}


@pytest.fixture
def sent(repo: Path) -> Path:
    """A campaign whose ledger says the fixtures' letters were sent, with VERP envelopes."""
    text = (repo / "data/campaign.yaml").read_text(encoding="utf-8")
    (repo / "data/campaign.yaml").write_text(text.replace("  throttle:\n", "  envelope: 'bounces+{key}@campaign.test'\n  throttle:\n"))
    with Ledger(repo / LEDGER) as book:
        for key, to in SENT.items():
            book.append(key, "sending", "pt-lisbon", MID.format(key), attempt=1, to=to, route="email")
            book.append(key, "sent", "pt-lisbon", MID.format(key), attempt=1, to=to, route="email", detail="250 2.0.0 Ok")
    return repo


def maildir(folder: Path, names: list[str] | None = None) -> Path:
    box = mailbox.Maildir(folder, create=True)
    for path in sorted(DSN.glob("*.eml")):
        if names is None or path.stem in names:
            box.add(path.read_bytes())
    return folder


def lines(root: Path, state: str) -> dict[str, dict]:
    return {str(e["letter"]): e for e in ledger_lines(root) if e["state"] == state}


def test_real_postfix_reports_and_replies(sent: Path, tmp_path: Path) -> None:
    result = run(sent, "dispatch", "bounces", "--maildir", str(maildir(tmp_path / "Maildir")))
    assert result.exit_code == 0, result.output
    assert "read 15 mails: 12 bounces (10 permanent, 2 delay warnings), 1 replies, 2 automatic replies" in result.output
    bounced = [e for e in ledger_lines(sent) if e["state"] == "bounced"]
    final = states(sent)
    hard = {k for k, s in final.items() if s == "bounced"}
    assert hard == {"s-1f0c2a9b", "s-2b1d3c4e", "s-3c2e4d5f", "s-4d3f5e60", "s-5e406f71", "s-6f517082", "s-70628193",
                    "s-9284b3c5", "s-a395c4d6"}
    by = {(e["letter"], e["to"]): e for e in bounced}
    assert by[("s-1f0c2a9b", "nosuchuser@local.test")]["status"] == "5.1.1"
    assert by[("s-5e406f71", "later@relay.test")]["status"] == "4.7.1"  # the delay warning, then the expiry
    assert [e["permanent"] for e in bounced if e["letter"] == "s-5e406f71"] == [False, True]
    assert by[("s-4d3f5e60", "policy@relay.test")]["scope"] == "relay"  # the next hop refused our relay
    assert by[("s-3c2e4d5f", "spam@relay.test")]["scope"] == "message"  # content refused
    assert by[("s-9284b3c5", "unknown2@relay.test")]["permanent"]  # the letter's second recipient: noted only
    assert final["s-b4a6d5e7"] == "sent"  # NOTIFY=SUCCESS: relayed, not a bounce
    assert set(lines(sent, "auto-replied")) == {"s-8173a2b4", "s-c5b7e6f8"} and final["s-8173a2b4"] == "sent"
    assert set(lines(sent, "replied")) == {"s-2b1d3c4e"}
    failing = routes.failures(sent)
    assert "nosuchuser@local.test" in failing and "full@full.test" in failing and "later@relay.test" in failing
    assert "policy@relay.test" not in failing and "spam@relay.test" not in failing  # not the address's fault
    # reading the same mailbox again (or as an mbox) adds nothing
    before = (sent / LEDGER).read_bytes()
    again = run(sent, "dispatch", "bounces", "--maildir", str(tmp_path / "Maildir"))
    assert "15 already in the ledger" in again.output and (sent / LEDGER).read_bytes() == before
    box = mailbox.mbox(tmp_path / "box.mbox")
    for path in sorted(DSN.glob("*.eml")):
        box.add(path.read_bytes())
    box.flush()
    assert "15 already in the ledger" in run(sent, "dispatch", "bounces", "--mbox", str(tmp_path / "box.mbox")).output
    assert (sent / LEDGER).read_bytes() == before


def test_a_mail_about_no_letter_of_ours_is_counted_and_ignored(sent: Path, tmp_path: Path) -> None:
    raw = (DSN / "a-local-unknown-user-5.1.1.eml").read_bytes().replace(b"s-1f0c2a9b", b"s-00000000")
    box = mailbox.Maildir(tmp_path / "Maildir", create=True)
    box.add(raw)
    result = run(sent, "dispatch", "bounces", "--maildir", str(tmp_path / "Maildir"))
    assert "1 not about our letters" in result.output and not lines(sent, "bounced")


@pytest.mark.parametrize(("args", "message"), [
    ([], "give one of --maildir DIR, --mbox FILE or --imap URL"),
    (["--maildir", "nowhere"], "not a Maildir"),
    (["--mbox", "nowhere.mbox"], "no such mbox file"),
    (["--imap", "imap://nobody@127.0.0.1:1/"], "cannot reach 127.0.0.1:1"),
    (["--imap", "http://x"], "give imap://USER@HOST"),
])
def test_bad_mailbox_options_are_clear_errors(sent: Path, args: list[str], message: str) -> None:
    result = run(sent, "dispatch", "bounces", *args)
    assert result.exit_code == 1 and message in result.output and "Traceback" not in result.output


def test_bounce_scope_reads_the_diagnostic_like_a_session_reply() -> None:
    assert bounce_scope("smtp; 550 5.7.1 <mx.postfix.test[127.0.0.1]>: Client host rejected: Access denied", "5.7.1",
                        "policy@relay.test") == "relay"
    assert bounce_scope('X-Postfix; unknown user: "nosuchuser"', "5.1.1", "nosuchuser@local.test") == "recipient"
    assert bounce_scope("smtp; 554 5.7.1 Message rejected", "5.7.1", "x@y.test") == "message"
    assert bounce_scope("X-Postfix; connect to 127.0.0.1[127.0.0.1]:2609: Connection refused", "4.4.1", "a@b") == "recipient"


def test_a_hard_bounce_requeues_the_letter_on_the_next_route(repo: Path, tmp_path: Path, smtp_server: SmtpTestServer) -> None:
    text = (repo / "data/campaign.yaml").read_text(encoding="utf-8")
    fallback = ("  envelope: 'bounces+{key}@free-assange.example.org'\n  fallback:\n    name: 'FCDO Correspondence'\n"
                "    email: 'correspondence.test@example.org'\n    source:\n"
                "      url: 'https://example.org/where-this-address-is-published'\n  throttle:\n")
    (repo / "data/campaign.yaml").write_text(text.replace("  throttle:\n", fallback))
    add_signatures(repo, "pt-lisbon", 1)
    first = dispatch(repo, "--backend", "smtp", "--now", ALL_DUE, "--no-throttle", env=smtp_env(smtp_server))
    assert first.exit_code == 0, first.output
    [received] = smtp_server.messages
    assert re.fullmatch(r"bounces\+s-[0-9a-f]{16}@free-assange\.example\.org", received.mail_from)
    assert "Return-Path" not in received.message  # the envelope sender is not a header
    key = received.mail_from.split("+")[1].split("@")[0]
    box = mailbox.Maildir(tmp_path / "Maildir", create=True)
    box.add(dsn_for(key, received.message_id, "lisbon.test@example.org", received.mail_from))
    assert "1 permanent" in run(repo, "dispatch", "bounces", "--maildir", str(tmp_path / "Maildir")).output
    assert states(repo)[key] == "bounced" and "lisbon.test@example.org" in routes.failures(repo)
    check = run(repo, "missions", "check")
    assert "lisbon.test@example.org: letters refused or bounced" in check.output
    again = dispatch(repo, "--backend", "smtp", "--now", ALL_DUE, "--no-throttle", env=smtp_env(smtp_server))
    assert again.exit_code == 0, again.output
    assert "1 letters requeued" in again.output and "this run: 1 sent" in again.output
    second = smtp_server.messages[-1]
    assert second.rcpt_tos == ["correspondence.test@example.org"] and second.message_id == received.message_id
    assert "This letter is for the British Embassy Lisbon (Lisbon, Portugal)" in second.message.get_body(("plain",)).get_content()
    requeued = [e for e in ledger_lines(repo) if e["state"] == "requeued"]
    assert len(requeued) == 1 and "bounced at lisbon.test@example.org" in str(requeued[0]["detail"])
    assert states(repo)[key] == "sent" and [e["route"] for e in ledger_lines(repo) if e["state"] == "sent"] == ["email", "fallback"]


def test_imap_reads_the_same_reports_from_a_real_dovecot(sent: Path, tmp_path: Path) -> None:
    with Dovecot("bounces", "s3cret") as imap:
        for path in sorted(DSN.glob("*.eml")):
            imap.deliver(path.read_bytes())
        environ = {"IMAP_URL": imap.url, "IMAP_PASSWORD": "s3cret"}
        found = CliRunner().invoke(main, ["--root", str(sent), "dispatch", "bounces"], env=environ)
        assert found.exit_code == 0, found.output
        assert "read 15 mails: 12 bounces (10 permanent, 2 delay warnings), 1 replies" in found.output
        os.environ["IMAP_PASSWORD"] = "s3cret"
        try:
            again = bounces.read(sent, imap=imap.url)  # the library call, password from the environment
        finally:
            del os.environ["IMAP_PASSWORD"]
        assert again.counts["mails"] == 15 and again.counts["known"] == 15  # nothing added twice
        wrong = CliRunner().invoke(main, ["--root", str(sent), "dispatch", "bounces"], env={**environ, "IMAP_PASSWORD": "no"})
        assert wrong.exit_code == 1 and "the IMAP server refused" in wrong.output
        missing = CliRunner().invoke(main, ["--root", str(sent), "dispatch", "bounces", "--folder", "Nope"], env=environ)
        assert missing.exit_code == 1 and "no folder 'Nope'" in missing.output
        assert len(list(imap.inbox.glob("new/*")) + list(imap.inbox.glob("cur/*"))) == 15  # read, never changed
