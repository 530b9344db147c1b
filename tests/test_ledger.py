"""The dispatch ledger: append-only JSONL, fsynced, `sent` final, torn lines tolerated."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from campaign.core.errors import CampaignError
from campaign.records import ledger
from campaign.records.ledger import STATES, Ledger


def book(tmp_path: Path) -> Ledger:
    return Ledger(tmp_path / "data" / "dispatch" / "c.jsonl", "data/dispatch/c.jsonl")


def test_one_line_per_state_change_each_fsynced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    synced: list[int] = []
    folder: list[int] = []
    real_sync, real_fsync = ledger._sync, os.fsync
    monkeypatch.setattr(ledger, "_sync", lambda fd: (synced.append(fd), real_sync(fd)))
    monkeypatch.setattr(os, "fsync", lambda fd: (folder.append(fd), real_fsync(fd)))
    with book(tmp_path) as b:
        b.append("s-1", "sending", "pt-lisbon", "<1@x>", attempt=1)
        b.append("s-1", "sent", "pt-lisbon", "<1@x>", detail="250 ok", attempt=1)
    lines = (tmp_path / "data/dispatch/c.jsonl").read_text().splitlines()
    assert [json.loads(line)["state"] for line in lines] == ["sending", "sent"]
    assert len(synced) == 2 and len(folder) == 1  # every line, and the new file's folder entry
    again = book(tmp_path)
    assert again.state("s-1") == "sent" and again.letters["s-1"].attempts == 1
    assert again.letters["s-1"].detail == "250 ok"


def test_sent_is_final(tmp_path: Path) -> None:
    with book(tmp_path) as b:
        for state in ("sending", "sent", "sending", "unknown", "deferred"):
            b.append("s-1", state, "m", "<1@x>")
    assert book(tmp_path).state("s-1") == "sent"


def test_later_states_replace_earlier_ones(tmp_path: Path) -> None:
    with book(tmp_path) as b:
        for n, state in enumerate(("sending", "deferred", "sending", "unknown")):
            b.append("s-1", state, "m", "<1@x>", attempt=1 + n // 2)
        b.append("s-2", "failed", "m", "<2@x>", detail="550")
    again = book(tmp_path)
    assert again.state("s-1") == "unknown" and again.letters["s-1"].attempts == 2
    assert summary_dict(again.summary()) == {"letters": 2, "sending": 0, "sent": 0, "deferred": 0, "failed": 1,
                                          "unknown": 1, "bounced": 0, "requeued": 0, "resolved": 0, "replied": 0,
                                          "auto-replied": 0, "signatures_sent": 0}


def test_torn_last_line_is_tolerated_and_the_next_line_starts_fresh(tmp_path: Path) -> None:
    with book(tmp_path) as b:
        b.append("s-1", "sending", "m", "<1@x>")
        b.append("s-1", "sent", "m", "<1@x>")
    path = tmp_path / "data/dispatch/c.jsonl"
    with open(path, "ab") as fh:
        fh.write(b'{"at":"2026-12-10T09:00:00Z","letter":"s-2","sta')  # the crash
    torn = book(tmp_path)
    assert torn.damaged == [3] and torn.state("s-2") is None and torn.state("s-1") == "sent"
    torn.append("s-2", "sending", "m", "<2@x>")
    torn.close()
    lines = path.read_text().split("\n")
    assert lines[2].endswith('"sta') and json.loads(lines[3])["letter"] == "s-2"
    again = book(tmp_path)
    assert again.damaged == [3] and again.state("s-2") == "sending"


def test_a_line_with_an_unknown_state_is_an_error_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "data/dispatch/c.jsonl"
    path.parent.mkdir(parents=True)
    path.write_text('{"letter":"s-1","state":"sent"}\n{"letter":"s-1","state":"delivered"}\n')
    with pytest.raises(CampaignError) as err:
        book(tmp_path)
    assert err.value.problems[0].text().startswith("data/dispatch/c.jsonl:2: ")


def test_per_mission_letters_count_their_signatures(tmp_path: Path) -> None:
    with book(tmp_path) as b:
        b.append("m-pt-lisbon", "sent", "pt-lisbon", "<1@x>", signatures=40)
        b.append("m-us-chicago", "deferred", "us-chicago", "<2@x>", signatures=3)
    s = book(tmp_path).summary()
    assert (s.sent, s.signatures_sent, s.by_mission["us-chicago"]["deferred"]) == (1, 40, 1)


def test_summary_and_sent_count_read_the_campaigns_ledger(repo: Path) -> None:
    assert ledger.sent_count(repo) == 0
    path = repo / "data/dispatch/free-assange-2026-12-10.jsonl"
    with Ledger(path) as b:
        b.append("s-1", "sent", "pt-lisbon", "<1@x>")
        b.append("s-2", "sent", "pt-lisbon", "<2@x>")
        b.append("s-3", "failed", "pt-lisbon", "<3@x>")
    assert ledger.sent_count(repo) == 2
    assert ledger.summary(repo).states["failed"] == 1


def test_unknown_state_cannot_be_written(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        book(tmp_path).append("s-1", "delivered", "m", "<1@x>")


def summary_dict(s) -> dict[str, int]:
    """A summary's counts by name."""
    return {"letters": s.letters, **{state: s.states[state] for state in STATES}, "signatures_sent": s.signatures_sent}
