"""The intake service against hostile input (issue 12): addresses it cannot mail, cross-site
posts, notice floods, duplicate JSON keys, forged X-Forwarded-For, erased addresses on disk,
invisible and look-alike names, and a store from before the look-alike key."""

from __future__ import annotations

import email
import email.policy
import json
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from campaign.data.models import IntakeLimits
from campaign.intake import app as intake_app
from campaign.intake import mails, server
from campaign.intake.store import Store
from support.builders import git, run
from support.http import confirmation_links
from test_intake_service import GOOD, Service, start

SITE = "https://free-assange.github.io"


@pytest.fixture
def svc(git_repo: Path, tmp_path: Path) -> Iterator[Service]:
    yield from start(git_repo, tmp_path, origins=["https://partner.example.org"])


def mails_in(outbox: Path) -> list[email.message.EmailMessage]:
    return [email.message_from_bytes(p.read_bytes(), policy=email.policy.default) for p in sorted(outbox.glob("*.eml"))]


# --- 1. addresses that cannot be mailed ----------------------------------------------------

@pytest.mark.parametrize("address", ["jürgen@example.org", "ĵosé@example.org", "名前@example.jp", "JÜRGEN@example.org"])
def test_a_non_ascii_local_part_is_refused_up_front(svc: Service, address: str) -> None:
    answer = svc.sign(email=address)
    assert answer.status_code == 422
    assert "non-ASCII characters before the @" in answer.json()["errors"]["email"][0]
    assert svc.intake.status()["pending"] == 0
    assert svc.sign(email="juergen@example.org").status_code == 202  # the same name, another address


def test_an_internationalised_domain_is_mailed_as_punycode(svc: Service) -> None:
    assert svc.sign(email="ana@exämple.org").status_code == 202
    (message,) = mails_in(svc.outbox)
    raw = message.as_bytes().decode("ascii")
    assert "To: ana@xn--exmple-cua.org" in raw and "=?" not in raw.split("To:", 1)[1].split("\n", 1)[0]


def test_a_request_that_cannot_finish_leaves_nothing_behind(svc: Service, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_: object) -> None:
        raise ValueError("cannot build this mail")

    monkeypatch.setattr(mails, "confirmation", broken)
    answer = svc.sign()
    assert answer.status_code == 500 and answer.json()["error"] == "internal"
    assert svc.intake.status()["pending"] == 0 and svc.intake.store.entries() == []
    monkeypatch.undo()
    assert svc.sign(email="other@example.org").status_code == 202, "a retry is not 'already signed'"


def test_one_bad_row_never_blocks_the_retry_loop(svc: Service) -> None:
    """Rows stored before today's rules (an address no mail can be built for) sit among good
    ones: every good mail goes out, the bad row is dropped, nothing raises."""
    store = svc.intake.store
    good = []
    for i, address in enumerate(["a@example.org", "jürgen@example.org", "b@example.org", "名前@example.jp", "c@example.org"]):
        sig = {**{k: v for k, v in GOOD.items() if k not in ("email", "website")}, "name": f"Person {chr(65 + i)}",
               "type": "individual", "mission": "pt-lisbon", "signed": "2026-11-28", "source": "form"}
        added = store.add(name_key=f"person {i}\0PT", fingerprint=f"{i:064x}", signature=sig, email=address,
                          token=f"token-{i:030d}", ttl=3600)
        good += [address] if address.isascii() else []
        assert added.kind == "new"
    for everything in (False, True):
        assert svc.intake.send_queued(everything=everything) == (0 if not everything else 3)
    assert sorted(confirmation_links(svc.outbox)) == sorted(good)
    assert svc.intake.status()["mail_queued"] == 0 and svc.intake.status()["pending"] == 3


# --- 2. cross-site posts -------------------------------------------------------------------

@pytest.mark.parametrize(("headers", "allowed"), [
    ({"origin": "https://evil.example"}, False),
    ({"origin": "https://evil.example", "sec-fetch-site": "cross-site"}, False),
    ({"origin": "http://free-assange.github.io"}, False),  # another scheme is another origin
    ({"origin": "https://free-assange.github.io.evil.example"}, False),
    ({"sec-fetch-site": "cross-site"}, False),
    ({"sec-fetch-site": "same-site"}, False),
    ({"origin": "null"}, False),
    ({"origin": "null", "sec-fetch-site": "cross-site"}, False),
    ({"origin": SITE}, True),
    ({"origin": SITE.upper()}, True),
    ({"origin": "https://partner.example.org"}, True),
    ({"origin": "https://friends.example.net"}, True),  # intake.allowed_origins
    ({"origin": "null", "sec-fetch-site": "same-origin"}, True),
    ({"sec-fetch-site": "same-origin"}, True),
    ({"sec-fetch-site": "none"}, True),
    ({}, True),  # curl, scripts: not a browser, so no cross-site vector
])
def test_state_changing_requests_from_other_sites_are_403(git_repo: Path, tmp_path: Path, headers: dict[str, str],
                                                           allowed: bool) -> None:
    settings = git_repo / "data/campaign.yaml"
    settings.write_text(settings.read_text().replace("allowed_origins: []", "allowed_origins: ['https://friends.example.net']"))
    for svc in start(git_repo, tmp_path, origins=["https://partner.example.org"]):
        for kind in ("json", "form"):
            fields = {**GOOD, "email": f"{kind}@example.org", "name": f"Ana {kind.title()}"}
            if kind == "json":
                answer = svc.client.post("/api/signatures", json=fields, headers=headers)
            else:
                answer = svc.client.post("/api/signatures", data={**fields, "publish": "on", "letter": "on"}, headers=headers)
            assert answer.status_code == (202 if allowed else 403), (kind, answer.text)
            if not allowed:
                assert answer.json()["error"] == "cross_site" and answer.json()["message"]
        assert svc.intake.status()["pending"] == (2 if allowed else 0)
        assert len(list(svc.outbox.glob("*.eml"))) == (2 if allowed else 0), "no mail for a refused post"


def test_the_confirm_button_is_guarded_too_and_its_own_page_may_post(svc: Service) -> None:
    svc.sign()
    link = svc.links()["ana.pereira@example.org"]
    assert svc.client.post(link, headers={"origin": "https://evil.example"}).status_code == 403
    assert svc.intake.status()["pending"] == 1
    own = httpx.URL(svc.url)
    assert svc.client.post(link, headers={"origin": f"{own.scheme}://{own.netloc.decode()}"}).status_code == 200
    assert svc.intake.status()["confirmed"] == 1


# --- 3. notice floods ----------------------------------------------------------------------

def notices(outbox: Path) -> int:
    return len([p for p in outbox.glob("*.eml") if "notice" in p.name])


def test_already_signed_notices_are_throttled_per_address_across_restarts(git_repo: Path, tmp_path: Path) -> None:
    for svc in start(git_repo, tmp_path):
        svc.sign()
        svc.client.post(svc.links()["ana.pereira@example.org"])
        for i in range(4):
            assert svc.sign(name=f"Someone {chr(65 + i)}", email="ANA.pereira@example.org").status_code == 202
        assert notices(svc.outbox) == 1
    for svc in start(git_repo, tmp_path):  # a restart forgets nothing
        assert svc.sign(name="Someone Z", email="ana.pereira@example.org").status_code == 202
        assert notices(svc.outbox) == 1
        store = sqlite3.connect(svc.intake.store.path)
        keys = [k for (k,) in store.execute("SELECT key FROM throttle")]
        assert keys and not any("ana" in k or "127.0.0.1" in k for k in keys), "keyed by fingerprints only"


def test_notices_are_throttled_per_client(svc: Service) -> None:
    addresses = [f"p{i}@example.org" for i in range(8)]
    for i, address in enumerate(addresses):
        svc.sign(name=f"Person {chr(65 + i)}", email=address)
    for link in svc.links().values():
        svc.client.post(link)
    for i, address in enumerate(addresses):  # one client asks about eight signers
        assert svc.sign(name=f"Other {chr(65 + i)}", email=address).status_code == 202
    assert notices(svc.outbox) == 5


def test_resends_of_the_confirmation_are_throttled(svc: Service) -> None:
    svc.sign()
    db = sqlite3.connect(svc.intake.store.path)
    sent = lambda: len([p for p in svc.outbox.glob("*.eml") if "notice" not in p.name])
    assert sent() == 1
    svc.sign()  # at once: nothing (the link just went out)
    assert sent() == 1
    for expected in (2, 2, 2):  # later: one resend an hour
        db.execute("UPDATE entries SET mail_sent = mail_sent - 700")
        db.commit()
        assert svc.sign().status_code == 202
        assert sent() == expected


# --- 5. duplicate JSON keys ----------------------------------------------------------------

@pytest.mark.parametrize("body", [
    b'{"name": "Ana Pereira", "name": "Mallory", "country": "PT"}',
    b'{"email": "a@example.org", "country": "PT", "email": "b@example.org"}',
    b'{"name": "Ana", "extra": {"a": 1, "a": 2}}',
    b'{"publish": true, "publish": false}',
])
def test_duplicate_json_keys_are_400(svc: Service, body: bytes) -> None:
    answer = svc.client.post("/api/signatures", content=body, headers={"content-type": "application/json"})
    assert answer.status_code == 400 and answer.json()["error"] == "malformed"
    assert "more than once" in answer.json()["message"]


# --- 6. forwarded headers ------------------------------------------------------------------

def test_x_forwarded_for_is_ignored_unless_the_proxy_is_trusted(git_repo: Path, tmp_path: Path) -> None:
    limits = IntakeLimits(burst=2, hourly=100, max_body=4096)

    def statuses(svc: Service) -> list[int]:
        return [svc.client.post("/api/signatures", json={**GOOD, "name": f"Person {chr(65 + i)}", "email": f"x{i}@example.org"},
                                headers={"x-forwarded-for": f"198.51.100.{i}"}).status_code for i in range(4)]

    for svc in start(git_repo, tmp_path / "a", limits=limits):
        assert statuses(svc) == [202, 202, 429, 429], "a forged header does not make a new client"
    for svc in start(git_repo, tmp_path / "b", limits=limits, trusted_proxies=["127.0.0.0/8"]):
        assert statuses(svc) == [202, 202, 202, 202], "behind a trusted proxy each client is its own"


def test_serve_takes_the_trusted_proxies_from_the_option_or_the_environment(git_repo: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[str, ...]] = []
    monkeypatch.setattr(intake_app, "serve", lambda *a, trusted_proxies=(), **k: seen.append(tuple(trusted_proxies)))
    common = ["serve", "--no-site", "--port", "0", "--db", str(git_repo / ".cache/x.sqlite3")]
    assert run(git_repo, *common).exit_code == 0
    assert run(git_repo, *common, "--trusted-proxy", "10.0.0.1", "--trusted-proxy", "fd00::/8").exit_code == 0
    monkeypatch.setenv("CAMPAIGN_TRUSTED_PROXIES", "192.0.2.7 192.0.2.8")
    assert run(git_repo, *common).exit_code == 0
    assert seen == [(), ("10.0.0.1", "fd00::/8"), ("192.0.2.7", "192.0.2.8")]


# --- 7. privacy at rest --------------------------------------------------------------------

def raw_files(db: Path) -> bytes:
    return b"".join(p.read_bytes() for p in db.parent.glob(db.name + "*"))


def test_an_erased_address_is_gone_from_the_database_files_and_the_wal(git_repo: Path, tmp_path: Path) -> None:
    blocked = tmp_path / "outbox"
    blocked.write_text("a file where the outbox folder should be: mails wait in the store")
    for svc in start(git_repo, tmp_path):
        for i in range(40):
            assert svc.sign(name=f"Person {i:02d} Lima", email=f"waiting.{i:02d}@example.org").status_code == 202
        db = svc.intake.store.path
        assert b"waiting.07@example.org" in raw_files(db)  # stored while its mail cannot go
        blocked.unlink()
        assert svc.intake.send_queued(everything=True) == 40
        data = raw_files(db)
        assert b"@example.org" not in data and "example.org".encode("utf-16-le") not in data
        svc.sign(name="Late Signer", email="late.signer@example.org")
        assert b"late.signer" not in raw_files(db), "erased as soon as its mail went out"


def test_expired_addresses_are_gone_from_the_files(git_repo: Path, tmp_path: Path) -> None:
    (tmp_path / "outbox").write_text("blocked")
    for svc in start(git_repo, tmp_path):
        svc.sign(email="expiring@example.org")
        assert svc.intake.store.expire(now=time.time() + 49 * 3600) == 1
        assert b"expiring@example.org" not in raw_files(svc.intake.store.path)


# --- 8-10. names ---------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["Ana\u034fPereira", "Ana\ufe0f", "\u3164", "Ana\u2800Pereira", "A" + "\u0301" * 9])
def test_invisible_and_flooded_names_are_422(svc: Service, name: str) -> None:
    answer = svc.sign(name=name)
    assert answer.status_code == 422 and answer.json()["errors"]["name"]


def test_a_look_alike_is_held_for_review_not_refused(svc: Service) -> None:
    assert run(svc.root, "sign", "--name", "Ana Pereira", "--country", "PT", "--publish", "--letter").exit_code == 0
    git(svc.root, "add", "-A")
    git(svc.root, "commit", "-qm", "Ana")
    svc.intake.reload()
    assert svc.sign(name="\u0410na Pereira", email="cyrillic@example.org").status_code == 202  # held, not 409
    assert svc.sign(name="Arnie Smith", email="arnie@example.org").status_code == 202
    assert svc.sign(name="Amie Smith", email="amie@example.org").status_code == 202  # looks like a pending entry
    for link in svc.links().values():
        svc.client.post(link)
    held = {e.signature["name"]: e.held for e in svc.intake.store.held()}
    assert set(held) == {"\u0410na Pereira", "Amie Smith"}
    assert "data/signatories/" in held["\u0410na Pereira"] and "intake entry" in held["Amie Smith"]
    assert svc.intake.flush().committed == 1  # Arnie; the held two wait for a maintainer
    listing = server.review(svc.root, db=svc.intake.store.path)
    assert "\u0410na Pereira (PT)" in listing and "Amie Smith (PT)" in listing
    amie = next(e.entry_id for e in svc.intake.store.held() if e.signature["name"] == "Amie Smith")
    cyrillic = next(e.entry_id for e in svc.intake.store.held() if e.signature["name"] != "Amie Smith")
    out = run(svc.root, "intake", "review", "--db", str(svc.intake.store.path), "--release", str(amie), "--reject", str(cyrillic))
    assert out.exit_code == 0 and "released 1" in out.output and "no entry is held" in out.output
    assert svc.intake.flush().committed == 1
    assert svc.intake.status()["rejected"] == 1


OLD_SCHEMA = """
CREATE TABLE entries (id INTEGER PRIMARY KEY, state TEXT NOT NULL CHECK (state IN ('pending', 'confirmed', 'flushed', 'rejected')),
    name_key TEXT NOT NULL, fingerprint TEXT NOT NULL, signature TEXT NOT NULL, token_hash TEXT NOT NULL UNIQUE,
    created REAL NOT NULL, expires REAL NOT NULL, confirmed REAL, email TEXT, token TEXT,
    mail_tries INTEGER NOT NULL DEFAULT 0, mail_next REAL, mail_sent REAL, path TEXT, commit_id TEXT, note TEXT);
CREATE UNIQUE INDEX one_per_name ON entries (name_key) WHERE state != 'rejected';
CREATE UNIQUE INDEX one_per_address ON entries (fingerprint) WHERE state != 'rejected';
"""


def test_a_store_from_before_the_look_alike_key_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    old = sqlite3.connect(path)
    old.executescript(OLD_SCHEMA)
    sig = json.dumps({"name": "Ana Pereira", "country": "PT", "type": "individual", "mission": "pt-lisbon"})
    old.execute("INSERT INTO entries (state, name_key, fingerprint, signature, token_hash, created, expires, confirmed) "
                "VALUES ('confirmed', ?, 'f1', ?, 'h1', 1, 2, 1)", ("ana pereira\0PT", sig))
    old.commit()
    old.close()
    for _ in range(2):  # migrating twice changes nothing
        store = Store(path)
        assert [e.signature["name"] for e in store.confirmed()] == ["Ana Pereira"]
        added = store.add(name_key="ana pereira\0PT", fingerprint="f2", signature={"name": "x", "country": "PT"},
                          email="x@example.org", token="t" * 30, ttl=60)
        assert added.kind == "duplicate_name", "the unique index still holds"
        look = store.add(name_key="аna pereira\0PT", fingerprint="f3", signature={"name": "\u0410na Pereira", "country": "PT"},
                         email="y@example.org", token="u" * 30, ttl=60)
        assert look.kind == "new" and look.held == "looks like intake entry 1"
        store.discard(look.entry_id)
        store.close()
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] >= 1


def test_a_resend_keeps_a_link_not_yet_mailed_and_replaces_one_that_was(tmp_path: Path) -> None:
    """A mail in flight (the retry loop's) never carries a link that a resend has killed, and a
    resend racing the retry loop's mail does not replace the link that mail just carried."""
    store = Store(tmp_path / "intake.sqlite3")
    added = store.add(name_key="ana\0PT", fingerprint="f1", signature={"name": "Ana", "country": "PT"},
                      email="a@example.org", token="first" * 8, ttl=600)
    in_flight = store.mail(added.entry_id)
    assert store.rearm(added.entry_id, "second" * 8, "a@example.org")
    assert store.lookup("first" * 8) is not None and store.lookup("second" * 8) is None
    store.mail_sent(added.entry_id, in_flight.token)
    assert not store.rearm(added.entry_id, "third" * 8, "a@example.org"), "mailed a moment ago: nothing to resend"
    assert store.lookup("first" * 8) is not None
    assert store.rearm(added.entry_id, "third" * 8, "a@example.org", now=time.time() + 601)
    assert store.lookup("first" * 8) is None and store.lookup("third" * 8) is not None
    assert store.mail(added.entry_id).token == "third" * 8
    store.close()
