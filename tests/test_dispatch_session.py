"""The real `campaign dispatch` against aiosmtpd answering like Postfix: a refusal of the session
(greeting, EHLO, STARTTLS, AUTH, MAIL FROM, and Postfix's delayed HELO/client/sender refusals
at RCPT) stops the run non-zero and fails no letter; a refusal of one recipient fails only it;
the same refusal for every recipient in a row is the session's too. Also SMTP_HELO, rehearsals
(--redirect-to, the file backend's own ledger), --plan, --retry-failed, resolve, --resend-unknown KEY."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from support.builders import run
from support.dispatch import (ALL_DUE, LEDGER, REHEARSAL, add_signatures, configure, dispatch, ledger_lines, smtp_env,
                              states)
from support.smtp import Handler, SmtpTestServer, helo_refusal

FAST = ("--backend", "smtp", "--now", ALL_DUE, "--no-throttle", "--backoff", "0.05", "--max-backoff", "0.2")
GOOD_HELO = {"SMTP_HELO": "client.campaign.test"}


@pytest.fixture
def letters(repo: Path) -> Path:
    add_signatures(repo, "pt-lisbon", 4)
    add_signatures(repo, "us-washington", 3, country="US")
    add_signatures(repo, "us-chicago", 3, country="US")
    return repo


def env(server: SmtpTestServer, **extra: str) -> dict[str, str]:
    return {**smtp_env(server), **GOOD_HELO, **extra}


def assert_all_sent_once_after(letters: Path, server: SmtpTestServer, **extra: str) -> None:
    server.handler.rules.clear()
    server.handler.helo_policy = None
    result = dispatch(letters, *FAST, env=env(server, **extra))
    assert result.exit_code == 0, result.output
    assert Counter(server.message_ids()).most_common(1)[0][1] == 1 and len(server.messages) == 10
    assert set(states(letters).values()) == {"sent"}


@pytest.mark.parametrize(("stage", "reply", "said"), [
    ("GREETING", "554 5.7.1 <localhost[127.0.0.1]>: Client host rejected: Access denied", "at greeting"),
    ("EHLO", "504 5.5.2 <vm>: Helo command rejected: need fully-qualified hostname", "set SMTP_HELO"),
    ("MAIL", "554 5.7.1 <bounces@x.org>: Sender address rejected: Access denied", "at MAIL FROM"),
    ("RCPT", "554 5.7.1 <localhost[127.0.0.1]>: Client host rejected: Access denied", "at RCPT"),
    ("RCPT", "554 5.7.1 <letters@free-assange.example.org>: Sender address rejected: Access denied", "at RCPT"),
    ("RCPT", "550 5.7.1 <client.campaign.test>: something else refused", "at RCPT"),  # names neither the recipient
])
def test_a_refused_session_stops_the_run_and_fails_no_letter(letters: Path, smtp_server: SmtpTestServer, stage: str,
                                                             reply: str, said: str) -> None:
    smtp_server.script(stage, reply, times=None)
    result = dispatch(letters, *FAST, env=env(smtp_server))
    assert result.exit_code == 1, result.output
    assert "refused the session" in result.output and said in result.output and "no letter was marked failed" in result.output
    assert not any(e["state"] == "failed" for e in ledger_lines(letters)) and not smtp_server.messages
    assert_all_sent_once_after(letters, smtp_server)


@pytest.mark.parametrize("stage", ["STARTTLS", "AUTH"])
def test_starttls_and_login_refusals_stop_the_run(letters: Path, smtp_server: SmtpTestServer, stage: str) -> None:
    smtp_server.script(stage, "554 5.7.0 not for you" if stage == "STARTTLS" else "535 5.7.8 credentials invalid",
                       times=None)
    extra = {"SMTP_SECURITY": "starttls"} if stage == "STARTTLS" else {"SMTP_USERNAME": "u", "SMTP_PASSWORD": "p"}
    result = dispatch(letters, *FAST, env=env(smtp_server, **extra))
    assert result.exit_code == 1 and ("refused the session at STARTTLS" in result.output or "refused the login" in result.output)
    assert not ledger_lines(letters) and not smtp_server.messages


@pytest.mark.parametrize("policy", ["delay", "immediate"])
def test_postfix_like_helo_refusal_and_smtp_helo(letters: Path, policy: str) -> None:
    """Postfix's reject_non_fqdn_helo_hostname: at RCPT behind smtpd_delay_reject (the default), at EHLO without it."""
    with SmtpTestServer(handler=Handler(helo_policy=policy)) as server:
        refused = dispatch(letters, *FAST, env=env(server, SMTP_HELO="vm"))
        assert refused.exit_code == 1 and helo_refusal("vm") in refused.output and "SMTP_HELO" in refused.output
        assert not any(e["state"] == "failed" for e in ledger_lines(letters))
        fine = dispatch(letters, *FAST, env=env(server))
        assert fine.exit_code == 0 and "this run: 10 sent" in fine.output
        assert set(server.handler.helo_names) == {"vm", "client.campaign.test"}


def test_the_same_refusal_for_every_recipient_is_the_sessions(letters: Path, smtp_server: SmtpTestServer) -> None:
    smtp_server.script("RCPT", "550 5.7.1 Access denied", times=None)
    result = dispatch(letters, *FAST, env=env(smtp_server))
    found = re.search(r"the same refusal for (\d+) letters to different recipients in a row", result.output)
    assert result.exit_code == 1 and found, result.output
    final = states(letters)
    assert "failed" not in final.values() and list(final.values()).count("requeued") == int(found.group(1))
    assert_all_sent_once_after(letters, smtp_server)


def test_a_refused_recipient_fails_only_its_letters(letters: Path, smtp_server: SmtpTestServer) -> None:
    smtp_server.script("RCPT", "550 5.1.1 <chicago.test@example.org>: Recipient address rejected: User unknown in "
                       "virtual mailbox table", times=None, rcpt="chicago.test@example.org")
    result = dispatch(letters, *FAST, env=env(smtp_server))
    assert result.exit_code == 0 and "3 failed" in result.output and len(smtp_server.messages) == 7
    failed = [e for e in ledger_lines(letters) if e["state"] == "failed"]
    assert {e["scope"] for e in failed} == {"recipient"} and {e["to"] for e in failed} == {"chicago.test@example.org"}
    # once the mission fixed its mailbox, --retry-failed requeues them, recorded in the ledger
    smtp_server.handler.rules.clear()
    assert "this run: 0 sent" in dispatch(letters, *FAST, env=env(smtp_server)).output
    again = dispatch(letters, *FAST, "--retry-failed", env=env(smtp_server))
    assert "3 letters requeued" in again.output and "this run: 3 sent" in again.output
    assert sum(e["state"] == "requeued" for e in ledger_lines(letters)) == 3 and set(states(letters).values()) == {"sent"}


def test_redirected_rehearsal_keeps_its_own_ledger(letters: Path, smtp_server: SmtpTestServer) -> None:
    result = dispatch(letters, *FAST, "--redirect-to", "rehearsal@example.net", env=env(smtp_server))
    assert result.exit_code == 0, result.output
    assert {tuple(m.rcpt_tos) for m in smtp_server.messages} == {("rehearsal@example.net",)}
    originals = Counter(str(m.message["X-Campaign-Original-To"]) for m in smtp_server.messages)
    assert originals["British Embassy Lisbon <lisbon.test@example.org>"] == 4
    assert all(str(m.message["To"]).endswith("<rehearsal@example.net>") for m in smtp_server.messages)
    assert not (letters / LEDGER).exists() and len(states(letters, REHEARSAL)) == 10
    # the whole day replayed: the rehearsal's reruns send nothing more; a real run sends everything
    assert "this run: 0 sent" in dispatch(letters, *FAST, "--redirect-to", "rehearsal@example.net", env=env(smtp_server)).output
    real = dispatch(letters, *FAST, env=env(smtp_server))
    assert "this run: 10 sent" in real.output and len(smtp_server.messages) == 20
    refused = dispatch(letters, *FAST, "--redirect-to", "rehearsal@example.net", "--ledger", LEDGER, env=env(smtp_server))
    assert refused.exit_code == 1 and "never writes the campaign ledger" in refused.output
    bad = dispatch(letters, *FAST, "--redirect-to", "not an address", env=env(smtp_server))
    assert bad.exit_code == 1 and "--redirect-to:1: 'not an address' is not an email address" in bad.output


def test_file_and_console_runs_never_write_the_campaign_ledger(letters: Path) -> None:
    for backend in ("file", "console"):
        assert dispatch(letters, "--backend", backend, "--now", ALL_DUE).exit_code == 0
    assert not (letters / LEDGER).exists() and (letters / REHEARSAL).exists()
    refused = dispatch(letters, "--now", ALL_DUE, "--ledger", str(letters / LEDGER))
    assert refused.exit_code == 1 and "a rehearsal (the file backend) never writes the campaign ledger" in refused.output


def test_resolve_and_resend_one_unknown_letter(letters: Path, smtp_server: SmtpTestServer) -> None:
    smtp_server.script("DATA", "drop", times=2, rcpt="washington.test@example.org")
    dispatch(letters, *FAST, env=env(smtp_server))
    unknown = sorted(k for k, s in states(letters).items() if s == "unknown")
    assert len(unknown) == 2
    assert "this run: 0 sent" in dispatch(letters, *FAST, "--resend-unknown", "s-nothing", env=env(smtp_server)).output
    one = dispatch(letters, *FAST, "--resend-unknown", unknown[0], env=env(smtp_server))
    assert "this run: 1 sent" in one.output and states(letters)[unknown[1]] == "unknown"
    settled = run(letters, "dispatch", "resolve", unknown[1], "--sent")
    assert settled.exit_code == 0 and states(letters)[unknown[1]] == "sent"
    assert [e["outcome"] for e in ledger_lines(letters) if e["state"] == "resolved"] == ["sent"]
    again = run(letters, "dispatch", "resolve", unknown[1], "--unsent")
    assert again.exit_code == 1 and "only an `unknown` letter can be resolved" in again.output
    neither = run(letters, "dispatch", "resolve", unknown[1])
    assert neither.exit_code == 1 and "say --sent or --unsent" in neither.output


def test_resolve_unsent_makes_the_letter_due_again(letters: Path, smtp_server: SmtpTestServer) -> None:
    smtp_server.script("DATA", "drop", times=1, rcpt="lisbon.test@example.org")
    dispatch(letters, *FAST, env=env(smtp_server))
    [unknown] = [k for k, s in states(letters).items() if s == "unknown"]
    assert run(letters, "dispatch", "resolve", unknown, "--unsent").exit_code == 0
    assert "this run: 1 sent" in dispatch(letters, *FAST, env=env(smtp_server)).output


def test_plan_counts_routes_and_domains_and_warns_of_a_late_domain(repo: Path) -> None:
    add_signatures(repo, "pt-lisbon", 700)
    add_signatures(repo, "no-oslo", 3, country="NO")
    result = run(repo, "dispatch", "--plan")
    assert result.exit_code == 0, result.output
    out = result.output
    rows = {line.split()[0]: line.split()[1:] for line in out.splitlines() if line.startswith("  ")}
    assert rows["email"][:5] == ["700", "letters", "to", "1", "missions"] and rows["form"][:4] == ["3", "letters", "to", "1"]
    assert rows["example.org"][:5] == ["700", "letters", "1", "h", "10"]  # one every 6 s: per_domain_hourly 600
    assert "every domain gets its letters out in time" in out
    configure(repo, per_domain_hourly="10")  # one every 6 minutes: 70 hours, past the deadline
    late = run(repo, "dispatch", "--plan").output
    assert "warning: example.org: 309 of 700 letters cannot go out before the deadline (2026-12-11)" in late
    assert "`dispatch.mode: per-mission`" in late and "per_domain_hourly" in late
    configure(repo, per_domain_hourly="600", mode="'per-mission'")
    fine = run(repo, "dispatch", "--plan").output
    assert "every domain gets its letters out in time" in fine and "   1 letters to    1 missions" in fine
    assert not (repo / LEDGER).exists() and not (repo / REHEARSAL).exists()
