"""`campaign intake backup`: SQLite's online backup of a live store, and the restore GUIDE.md
describes (stop, delete -wal and -shm, copy, start), with the production intake starting on the
restored store and seeing its entries."""

from __future__ import annotations

import os
import shutil
import sqlite3
import stat
import subprocess
import threading
import time
from pathlib import Path

import httpx
import pytest

from campaign.core.errors import CampaignError
from campaign.intake import backup
from campaign.intake.store import Store
from support.builders import run
from support.deploy import Production, confirmation_link

CONSENT = "2026-11"


def add(store: Store, i: int) -> None:
    store.add(name_key=f"name-{i}", fingerprint=f"fp-{i}", signature={"name": f"Person {i}"}, look_alike=f"look-{i}",
              email=f"p{i}@example.org",
              token=f"token-{i:04d}-" + "x" * 20, ttl=3600)


def test_a_backup_taken_while_the_store_is_written_is_one_consistent_snapshot(tmp_path: Path) -> None:
    store = Store(tmp_path / "intake.sqlite3")
    for i in range(200):
        add(store, i)
    stop = threading.Event()
    written = [200]

    def writer() -> None:  # another connection writes all the time, as the service does
        while not stop.is_set():
            add(store, written[0])
            written[0] += 1

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        time.sleep(0.05)
        before = written[0]
        said = backup.backup(store.path, tmp_path / "copy.sqlite3")
        after = written[0]
    finally:
        stop.set()
        thread.join()
    copy = sqlite3.connect(tmp_path / "copy.sqlite3")
    (count,) = copy.execute("SELECT count(*) FROM entries").fetchone()
    ids = [row[0] for row in copy.execute("SELECT id FROM entries ORDER BY id")]
    assert before - 1 <= count <= after and ids == list(range(1, count + 1)), "a prefix of the writes: one moment"
    assert copy.execute("PRAGMA journal_mode").fetchone()[0] == "delete", "one self-contained file"
    assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    copy.close()
    assert f"{count} entries ({count} pending)" in said
    assert stat.S_IMODE((tmp_path / "copy.sqlite3").stat().st_mode) == 0o600, "it may hold addresses"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["copy.sqlite3", "intake.sqlite3", "intake.sqlite3-shm",
                                                         "intake.sqlite3-wal"], "no partial file left, no -wal for the copy"
    store.close()


def test_a_backup_reads_a_store_that_is_not_running_and_leaves_it_alone(tmp_path: Path) -> None:
    store = Store(tmp_path / "intake.sqlite3")
    add(store, 1)
    store.close()  # the last connection: SQLite removes -wal and -shm
    before = (tmp_path / "intake.sqlite3").read_bytes()
    said = backup.backup(tmp_path / "intake.sqlite3", tmp_path / "b.sqlite3")
    assert "1 entries (1 pending)" in said
    assert (tmp_path / "intake.sqlite3").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.sqlite3", "intake.sqlite3"], "read-only: no file of its own"
    assert Store(tmp_path / "b.sqlite3").counts()["pending"] == 1


@pytest.mark.parametrize("case, expected", [
    ("no store", "there is no intake store here; pass --db"),
    ("dest exists", "exists already; back up to a new name"),
    ("no folder", "does not exist; create it first"),
    ("not sqlite", "is not a readable intake store"),
])
def test_backup_errors_say_what_to_do_and_write_nothing(tmp_path: Path, case: str, expected: str) -> None:
    db, dest = tmp_path / "intake.sqlite3", tmp_path / "backup.sqlite3"
    if case != "no store":
        if case == "not sqlite":
            db.write_bytes(b"this is not a database" * 100)
        else:
            add(Store(db), 1)
    if case == "dest exists":
        dest.write_bytes(b"an older backup")
    if case == "no folder":
        dest = tmp_path / "missing" / "backup.sqlite3"
    with pytest.raises(CampaignError) as raised:
        backup.backup(db, dest)
    assert expected in str(raised.value)
    assert case != "dest exists" or dest.read_bytes() == b"an older backup", "never overwritten"
    assert not list(tmp_path.glob(".*.partial"))


def test_the_command_backs_up_the_store_named_by_its_variable(tmp_path: Path, repo: Path) -> None:
    add(Store(tmp_path / "live.sqlite3"), 1)
    done = subprocess.run(["campaign", "--root", str(repo), "intake", "backup", str(tmp_path / "b.sqlite3")],
                          env={**os.environ, "CAMPAIGN_INTAKE_DB": str(tmp_path / "live.sqlite3")},
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"backed up the intake store to {tmp_path / 'b.sqlite3'}: 1 entries")
    again = run(repo, "intake", "backup", "--db", str(tmp_path / "live.sqlite3"), str(tmp_path / "b.sqlite3"))
    assert again.exit_code == 1 and "exists already" in again.output and "Traceback" not in again.output


def test_back_up_the_live_service_restore_into_a_fresh_volume_and_carry_on(production: Production) -> None:
    """GUIDE.md, "Backups and restore", step by step."""
    first, second = production.tmp / "volume", production.tmp / "restored"
    people = {"Ana Pereira": "ana.backup@example.org", "Bea Santos": "bea.backup@example.org"}
    with production.start(first, CAMPAIGN_FLUSH_EVERY="86400") as intake:
        for name, address in people.items():
            answer = httpx.post(f"{intake.url}/api/signatures", json={
                "name": name, "country": "PT", "email": address, "publish": True, "letter": True,
                "consent": CONSENT, "website": ""}, timeout=30)
            assert answer.status_code == 202, answer.text
        ana = confirmation_link(production.smtp, people["Ana Pereira"]).rsplit("/", 1)[1]
        bea = confirmation_link(production.smtp, people["Bea Santos"]).rsplit("/", 1)[1]
        assert httpx.post(f"{intake.url}/confirm/{ana}").status_code == 200
        # while it runs: the command as the guide gives it, in the container's environment
        env = production.env(first)
        done = subprocess.run(["campaign", "intake", "backup", str(production.tmp / "intake-backup.sqlite3")], env=env,
                              cwd=production.tmp, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        assert "2 entries (1 confirmed, 1 pending)" in done.stdout
    # restore onto a fresh volume: copy the backup to intake.sqlite3 (no -wal, no -shm beside it)
    second.mkdir()
    shutil.copy(production.tmp / "intake-backup.sqlite3", second / "intake.sqlite3")
    os.chmod(second / "intake.sqlite3", 0o600)
    with production.start(second, CAMPAIGN_FLUSH_EVERY="1") as restored:
        health = httpx.get(f"{restored.url}/api/health").json()
        assert health["confirmed"] + health["flushed"] == 1 and health["pending"] == 1, health
        page = httpx.post(f"{restored.url}/confirm/{bea}")
        assert page.status_code == 200, "a link mailed before the backup still confirms after the restore"
        deadline = time.monotonic() + 30
        while httpx.get(f"{restored.url}/api/health").json()["flushed"] < 2:
            assert time.monotonic() < deadline, restored.output()[-3000:]
            time.sleep(0.2)
    files = production.github.files("intake/signatures")
    names = b"".join(text for path, text in files.items() if path.startswith("data/signatories/"))
    assert b"Ana Pereira" in names and b"Bea Santos" in names
