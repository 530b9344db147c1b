"""`campaign dispatch` with the default file backend: idempotent runs, dry runs, the report,
the ledger's privacy, crash recovery, and `campaign stats`."""

from __future__ import annotations

import email
import email.policy
import json
from pathlib import Path

import pytest

from campaign.data import dataset
from campaign.dispatch.planning import parse_now
from campaign.dispatch.runner import Dispatcher, Settings
from campaign.mail import get_backend, outbox
from campaign.records import ledger
from campaign.records.ledger import Ledger
from support.builders import run
from support.dispatch import ALL_DUE, LEDGER, REHEARSAL, add_signatures, configure, dispatch, ledger_lines, smtp_env, states
from support.smtp import SmtpTestServer


@pytest.fixture
def letters(repo: Path) -> Path:
    add_signatures(repo, "pt-lisbon", 3)
    add_signatures(repo, "pt-lisbon", 2, letter=False, prefix="Private")
    add_signatures(repo, "us-washington", 2, country="US")
    add_signatures(repo, "no-oslo", 2, country="NO")
    return repo


def eml(root: Path) -> list[email.message.EmailMessage]:
    return [email.message_from_bytes(p.read_bytes(), policy=email.policy.default)  # type: ignore[misc]
            for p in sorted((root / "outbox").glob("*.eml"))]


def test_file_backend_is_the_default_and_reruns_add_nothing(letters: Path) -> None:
    first = dispatch(letters, "--now", ALL_DUE)
    assert first.exit_code == 0, first.output
    assert len(eml(letters)) == 7 and "this run: 7 sent" in first.output
    lines = len(ledger_lines(letters, REHEARSAL))
    # per letter: `sending` (declared ahead, then again when in hand: dispatch.durable) and `sent`
    assert [e["state"] for e in ledger_lines(letters, REHEARSAL)].count("sent") == 7 and 14 <= lines <= 21
    second = dispatch(letters, "--now", ALL_DUE)
    assert "this run: 0 sent" in second.output and len(ledger_lines(letters, REHEARSAL)) == lines
    assert len(eml(letters)) == 7


def test_dry_run_renders_but_sends_and_records_nothing(letters: Path) -> None:
    result = dispatch(letters, "--now", ALL_DUE, "--dry-run")
    assert result.exit_code == 0 and "would send 7 letters now" in result.output
    assert "dry run: nothing sent, nothing recorded" in result.output
    assert not (letters / "outbox").exists() and not (letters / REHEARSAL).exists()


def test_report_lists_missions_without_email_with_their_contacts(letters: Path) -> None:
    result = dispatch(letters, "--now", ALL_DUE)
    assert "no-oslo (2 letters): Telephone +47 23 13 27 00; https://www.contact-embassy.service.gov.uk/?country=Norway" in result.output
    assert "contact form: send by hand" in result.output
    row = next(line for line in result.output.splitlines() if line.startswith("pt-lisbon"))
    assert row.split()[4] == "email" and row.split()[-8:] == ["5", "5", "0", "0", "0", "0", "0", "0"]
    oslo = next(line for line in result.output.splitlines() if line.startswith("no-oslo"))
    assert oslo.split()[4] == "form" and oslo.split()[-1] == "2"
    assert "letters by route: email 7, fallback 0, form 2, paper 0" in result.output


def test_report_goes_to_the_step_summary_with_annotations(letters: Path, tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    result = dispatch(letters, "--now", ALL_DUE, env={"GITHUB_STEP_SUMMARY": str(summary), "GITHUB_ACTIONS": "true"})
    text = summary.read_text(encoding="utf-8")
    assert text.startswith("## Dispatch report")
    assert "| British Embassy Lisbon (`pt-lisbon`) |" in text and "### Deliver in person or call" in text
    assert "::warning" not in result.output  # nothing failed or unknown


def test_the_ledger_holds_no_names(letters: Path) -> None:
    dispatch(letters, "--now", ALL_DUE)
    raw = (letters / REHEARSAL).read_text(encoding="utf-8")
    assert "Signer" not in raw and "Private" not in raw and "signatories" not in raw
    assert all(set(e) <= {"at", "letter", "state", "mission", "message_id", "attempt", "detail", "run", "signatures",
                          "to", "route", "ahead"}
               for e in ledger_lines(letters, REHEARSAL))


def test_withheld_names_are_not_in_the_letter(letters: Path) -> None:
    dispatch(letters, "--now", ALL_DUE)
    bodies = [m.get_body(("plain",)).get_content() for m in eml(letters)]  # type: ignore[union-attr]
    assert sum("A resident of Portugal" in b for b in bodies) == 2
    assert not any("Private" in b for b in bodies)
    assert sum("Signer pt-lisbon 0, Portugal" in b for b in bodies) == 1


def test_letters_carry_the_campaign_headers_and_a_stable_message_id(letters: Path) -> None:
    dispatch(letters, "--now", ALL_DUE, "--mission", "us-washington")
    [first, *_] = eml(letters)
    assert first["From"] == "Free Assange! letter campaign <letters@free-assange.example.org>"
    assert first["Reply-To"] == "contact@free-assange.example.org"
    assert first["Subject"] == "Open letter on Human Rights Day: free Julian Assange"
    assert first["To"].addresses[0].addr_spec == "washington.test@example.org"
    mid = first["Message-ID"]
    assert mid.startswith("<free-assange.20261210.s-") and mid.endswith("@free-assange.example.org>")
    assert first.get_body(("html",)) is not None
    ids = {str(e["message_id"]) for e in ledger_lines(letters, REHEARSAL)}
    (letters / "outbox").rename(letters / "outbox-1")
    (letters / REHEARSAL).unlink()
    dispatch(letters, "--now", ALL_DUE, "--mission", "us-washington")
    assert {str(e["message_id"]) for e in ledger_lines(letters, REHEARSAL)} == ids  # deterministic


def test_per_mission_letter_names_who_consented_and_counts_the_others(letters: Path) -> None:
    configure(letters, mode="'per-mission'")
    result = dispatch(letters, "--now", ALL_DUE)
    assert "this run: 2 sent" in result.output
    lisbon = next(m for m in eml(letters) if "lisbon" in str(m["To"]))
    text = lisbon.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "The 5 signatories listed below" in text
    assert "- Signer pt-lisbon 0 (individual), Portugal" in text
    assert "and 2 more signatories who asked not to be named in the letter" in text
    assert "Private" not in text
    assert [e.get("signatures") for e in ledger_lines(letters, REHEARSAL) if e["state"] == "sent" and e["mission"] == "pt-lisbon"] == [5]
    stats = run(letters, "stats", "--json")
    assert json.loads(stats.output)["signatures_delivered"] == 0  # a rehearsal delivers nothing


def test_stats_count_what_the_campaign_ledger_says_was_sent(letters: Path, smtp_server: SmtpTestServer) -> None:
    configure(letters, mode="'per-mission'")
    dispatch(letters, "--now", ALL_DUE, "--backend", "smtp", "--no-throttle", env=smtp_env(smtp_server))
    counts = json.loads(run(letters, "stats", "--json").output)
    assert counts["letters_sent"] == 2 and counts["signatures_delivered"] == 7
    assert ledger.sent_count(letters) == 2 and "letters sent" in run(letters, "stats").output


def test_a_crashed_run_leaves_sending_which_becomes_unknown(letters: Path) -> None:
    with Ledger(letters / REHEARSAL) as book:
        book.append("s-0000000000000000", "sending", "pt-lisbon", "<x@free-assange.example.org>", attempt=1)
    result = dispatch(letters, "--now", ALL_DUE)
    assert "1 letters left in `sending` by an interrupted run are now `unknown`" in result.output
    assert states(letters, REHEARSAL)["s-0000000000000000"] == "unknown"


def test_unknown_letters_are_resent_only_with_the_flag(letters: Path) -> None:
    dispatch(letters, "--now", ALL_DUE, "--limit", "1")
    [key] = states(letters, REHEARSAL)
    with Ledger(letters / REHEARSAL) as book:  # pretend its link dropped after DATA
        book.letters.clear()
        book.append(key, "unknown", "pt-lisbon", str(ledger_lines(letters, REHEARSAL)[0]["message_id"]))
    lines = (letters / REHEARSAL).read_text().splitlines()
    (letters / REHEARSAL).write_text("\n".join(lines[:1] + lines[2:]) + "\n")  # drop its `sent` line
    assert states(letters, REHEARSAL)[key] == "unknown"
    dispatch(letters, "--now", ALL_DUE)
    assert states(letters, REHEARSAL)[key] == "unknown"
    dispatch(letters, "--now", ALL_DUE, "--resend-unknown")
    assert states(letters, REHEARSAL)[key] == "sent"


def test_a_torn_ledger_line_is_tolerated(letters: Path) -> None:
    dispatch(letters, "--now", ALL_DUE, "--limit", "2")
    with open(letters / REHEARSAL, "ab") as fh:
        fh.write(b'{"at":"2026-12-10T16:00:01Z","letter":"s-')
    result = dispatch(letters, "--now", ALL_DUE)
    assert result.exit_code == 0 and "damaged line(s) ignored" in result.output
    assert "this run: 5 sent" in result.output
    assert len(states(letters, REHEARSAL)) == 7


def test_a_header_field_with_a_line_break_is_refused_before_the_day(letters: Path) -> None:
    """A mission name that would put a line break into the To: header is refused by validation
    (the rule dispatch's own last check applies, `text.bad_character`): the run sends nothing,
    and `campaign validate` has said so all along."""
    path = letters / "data" / "missions.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("name: 'British Embassy Washington'",
                                                              'name: "British Embassy\\nBcc: x@evil.example"'), encoding="utf-8")
    result = dispatch(letters, "--now", ALL_DUE)
    assert result.exit_code == 1
    assert "data/missions.yaml:" in result.output and "U+000A (line feed)" in result.output and "mail header" in result.output
    assert ledger_lines(letters, REHEARSAL) == []
    assert "U+000A (line feed)" in run(letters, "validate").output


def test_time_budget_leaves_untried_letters_deferred_for_the_next_run(letters: Path) -> None:
    result = dispatch(letters, "--now", ALL_DUE, "--time-budget", "0")
    assert "7 letters not tried (time budget of 0 s spent)" in result.output
    assert set(states(letters, REHEARSAL).values()) == {"deferred"}
    grace = dispatch(letters, "--now", "2026-12-11T12:00:00Z")
    assert "this run: 7 sent" in grace.output


def test_stats_counts_signatures_and_no_letters_for_a_rehearsal(letters: Path) -> None:
    dispatch(letters, "--now", ALL_DUE)
    counts = json.loads(run(letters, "stats", "--json").output)
    assert counts["signatures"] == 9 and counts["names_in_letters"] == 7 and counts["letters_sent"] == 0
    assert not (letters / LEDGER).exists() and len(states(letters, REHEARSAL)) == 7


def test_library_entry_point_with_the_memory_backend(letters: Path) -> None:
    outbox.clear()
    ds = dataset.load(letters)
    assert ds.campaign is not None
    with Ledger.for_campaign(letters, ds.campaign) as book:
        result = Dispatcher(ds, get_backend("memory"), book, Settings(now=parse_now(ALL_DUE))).run()
    assert len(outbox) == 7 and len(result.outcomes) == 7
    outbox.clear()


def test_letter_preview(letters: Path) -> None:
    text = run(letters, "letter", "--mission", "pt-lisbon")
    assert text.exit_code == 0 and "To: British Embassy Lisbon <lisbon.test@example.org>" in text.output
    assert "Yours faithfully," in text.output
    path = next(p for p in (letters / "data/signatories").rglob("*.yaml") if "Private" in p.read_text())
    private = run(letters, "letter", "--mission", "pt-lisbon", "--signature", str(path.relative_to(letters)))
    assert "A resident of Portugal" in private.output and "Private" not in private.output
    html = run(letters, "letter", "--mission", "pt-lisbon", "--format", "html")
    assert html.output.startswith("<!DOCTYPE html>") and "<ol><li>" in html.output
    raw = run(letters, "letter", "--mission", "us-chicago", "--format", "eml")
    assert "Content-Type: multipart/alternative" in raw.output and "A. Sample Signer" in raw.output
    wrong = run(letters, "letter", "--mission", "us-chicago", "--signature", str(path.relative_to(letters)))
    assert wrong.exit_code == 1 and "no letter from this signature goes to us-chicago" in wrong.output
    nomail = run(letters, "letter", "--mission", "no-oslo")
    assert nomail.exit_code == 1 and "has no email address" in nomail.output
