"""`campaign dispatch` against a real Postfix on loopback (skipped where Postfix is not
installed): its delayed refusal of a HELO name that is not fully qualified stops the run and
fails no letter, SMTP_HELO fixes it; a letter to an unknown local user comes back as a real
DSN to its VERP address, which `campaign dispatch bounces` reads from the Maildir."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from campaign.records import routes
from support.builders import run
from support.dispatch import ALL_DUE, add_signatures, dispatch, ledger_lines, states
from support.postfix import Postfix

SETTINGS = [
    "smtpd_helo_required=yes", "smtpd_helo_restrictions=reject_non_fqdn_helo_hostname",  # behind smtpd_delay_reject
    "mydestination=embassy.example.org, localhost",  # local(8) delivers there ...
    "local_recipient_maps=",  # ... and smtpd accepts any user: local(8) bounces the unknown ones later
    "default_transport=discard", "in_flow_delay=0", "smtpd_error_sleep_time=0",
]


@pytest.fixture(scope="module")
def mta() -> Iterator[Postfix]:
    with Postfix(SETTINGS) as server:
        yield server


def smtp(mta: Postfix, helo: str) -> dict[str, str]:
    return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(mta.port), "SMTP_SECURITY": "none", "SMTP_TIMEOUT": "10",
            "SMTP_USERNAME": "", "SMTP_PASSWORD": "", "SMTP_HELO": helo}


def test_postfix_refuses_the_helo_name_at_rcpt_and_no_letter_fails(repo: Path, mta: Postfix) -> None:
    add_signatures(repo, "pt-lisbon", 3)
    add_signatures(repo, "us-washington", 2, country="US")
    args = ("--backend", "smtp", "--now", ALL_DUE, "--no-throttle")
    refused = dispatch(repo, *args, env=smtp(mta, "vm"))
    assert refused.exit_code == 1, refused.output
    assert "504 5.5.2 <vm>: Helo command rejected: need fully-qualified hostname" in refused.output
    assert "set SMTP_HELO" in refused.output and not any(e["state"] == "failed" for e in ledger_lines(repo))
    fine = dispatch(repo, *args, env=smtp(mta, "client.campaign.test"))
    assert fine.exit_code == 0 and "this run: 5 sent" in fine.output, fine.output
    assert set(states(repo).values()) == {"sent"}


def test_a_real_bounce_comes_back_to_the_verp_address(repo: Path, mta: Postfix) -> None:
    text = (repo / "data/campaign.yaml").read_text(encoding="utf-8")
    (repo / "data/campaign.yaml").write_text(text.replace("  throttle:\n", "  envelope: 'bounces+{key}@campaign.test'\n  throttle:\n"))
    missions = (repo / "data/missions.yaml").read_text(encoding="utf-8")
    (repo / "data/missions.yaml").write_text(missions.replace("lisbon.test@example.org", "nosuchuser@embassy.example.org"))
    add_signatures(repo, "pt-lisbon", 2)
    sent = dispatch(repo, "--backend", "smtp", "--now", ALL_DUE, "--no-throttle", env=smtp(mta, "client.campaign.test"))
    assert sent.exit_code == 0 and "this run: 2 sent" in sent.output, sent.output
    mails = mta.wait_for_mail(2)
    assert all(re.search(rb"^To: bounces\+s-[0-9a-f]{16}@campaign\.test", p.read_bytes(), re.M) for p in mails)
    result = run(repo, "dispatch", "bounces", "--maildir", str(mta.maildir))
    assert "2 bounces (2 permanent" in result.output, result.output
    assert set(states(repo).values()) == {"bounced"} and "nosuchuser@embassy.example.org" in routes.failures(repo)
    assert {e["status"] for e in ledger_lines(repo) if e["state"] == "bounced"} == {"5.1.1"}
    again = dispatch(repo, "--backend", "smtp", "--now", ALL_DUE, "--no-throttle", env=smtp(mta, "client.campaign.test"))
    assert "this run: 0 sent" in again.output and "letters by route: email 0, fallback 0, form 0, paper 2" in again.output
