"""The intake service over loopback (uvicorn in a thread): every documented answer, double opt-in,
privacy of the address. The end-to-end run through `campaign serve` is in test_intake_flow.py."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from campaign.data.models import IntakeLimits
from campaign.forge.base import LocalForge
from campaign.intake.app import create_app
from campaign.intake.service import Intake, Settings
from support.builders import git, run
from support.http import confirmation_links, serve_in_thread

KEY = b"k" * 32
GOOD = {"name": "Ana Pereira", "country": "PT", "email": "ana.pereira@example.org", "publish": True, "letter": True,
        "consent": "2026-11", "website": ""}


@dataclass
class Service:
    url: str
    intake: Intake
    outbox: Path
    root: Path
    client: httpx.Client

    def sign(self, **changes: object) -> httpx.Response:
        return self.client.post("/api/signatures", json={**GOOD, **changes})

    def links(self) -> dict[str, str]:
        return confirmation_links(self.outbox)


def start(root: Path, tmp_path: Path, limits: IntakeLimits | None = None, origins: list[str] | None = None,
          mail_backend: str = "file", trusted_proxies: list[str] | None = None) -> Iterator[Service]:
    outbox = tmp_path / "outbox"
    intake = Intake(Settings(root=root, db=tmp_path / "intake.sqlite3", public_url="http://127.0.0.1:1", key=KEY,
                             forge=LocalForge(root), mail_backend=mail_backend,
                             mail_options={"outbox": outbox} if mail_backend == "file" else {},
                             limits=limits or IntakeLimits(burst=1000, hourly=10_000, max_body=4096)))
    server, thread, url = serve_in_thread(create_app(intake, allowed_origins=origins, background=False),
                                          trusted_proxies=trusted_proxies or ())
    intake.settings.public_url = url
    with httpx.Client(base_url=url, timeout=10) as client:
        yield Service(url, intake, outbox, root, client)
    server.should_exit = True
    thread.join(timeout=10)
    intake.close()


@pytest.fixture
def svc(git_repo: Path, tmp_path: Path) -> Iterator[Service]:
    yield from start(git_repo, tmp_path, origins=["https://partner.example.org"])


def test_sign_mail_confirm_by_post(svc: Service) -> None:
    answer = svc.sign()
    assert answer.status_code == 202
    assert answer.json()["status"] == "pending" and "email" in answer.json()["message"]
    link = svc.links()["ana.pereira@example.org"]
    assert link.startswith(svc.url + "/confirm/")
    page = svc.client.get(link)
    assert page.status_code == 200 and 'method="post"' in page.text and "Ana Pereira" in page.text
    assert page.headers["referrer-policy"] == "no-referrer"
    assert svc.intake.status()["pending"] == 1
    done = svc.client.post(link)
    assert done.status_code == 200 and "is confirmed" in done.text
    assert svc.intake.status() == {"pending": 0, "confirmed": 1, "flushed": 0, "rejected": 0, "mail_queued": 0}
    again = svc.client.post(link)
    assert again.status_code == 200 and "already confirmed" in again.text


def test_get_of_the_link_confirms_nothing(svc: Service) -> None:
    svc.sign()
    link = svc.links()["ana.pereira@example.org"]
    for _ in range(3):  # a mail scanner prefetching the link, several times
        assert svc.client.get(link).status_code == 200
        assert svc.client.head(link).status_code in (200, 405)
    assert svc.intake.status()["confirmed"] == 0 and svc.intake.status()["pending"] == 1


def test_unknown_or_expired_links_are_404(svc: Service) -> None:
    assert svc.client.get("/confirm/" + "x" * 43).status_code == 404
    assert svc.client.post("/confirm/" + "x" * 43).status_code == 404
    assert svc.client.post("/confirm/short").status_code == 404
    svc.sign()
    link = svc.links()["ana.pereira@example.org"]
    import time

    assert svc.intake.store.expire(now=time.time() + 49 * 3600) == 1
    assert svc.client.post(link).status_code == 404
    assert svc.intake.status()["pending"] == 0


def test_malformed_bodies_are_400(svc: Service) -> None:
    post = svc.client.post
    cases = [
        post("/api/signatures", content=b"{not json", headers={"content-type": "application/json"}),
        post("/api/signatures", content=b"[1, 2]", headers={"content-type": "application/json"}),
        post("/api/signatures", content=b'{"name": "\xff"}', headers={"content-type": "application/json"}),
        post("/api/signatures", content=b"[" * 3000, headers={"content-type": "application/json"}),
        post("/api/signatures", content=b"name=a&name=b", headers={"content-type": "application/x-www-form-urlencoded"}),
        post("/api/signatures", content=b"name=%FF", headers={"content-type": "application/x-www-form-urlencoded"}),
    ]
    for answer in cases:
        assert answer.status_code == 400, answer.text
        assert answer.json()["error"] == "malformed"


def test_unsupported_content_type_is_415(svc: Service) -> None:
    answer = svc.client.post("/api/signatures", content=b"name=x", headers={"content-type": "text/plain"})
    assert answer.status_code == 415 and answer.json()["error"] == "unsupported"


def test_oversized_bodies_are_413_declared_or_streamed(svc: Service) -> None:
    big = {**GOOD, "name": "A" * 5000}
    assert svc.client.post("/api/signatures", json=big).status_code == 413

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        yield b'{"name": "'
        for _ in range(10):
            yield b"A" * 1000
        yield b'"}'

    answer = svc.client.post("/api/signatures", content=chunks(), headers={"content-type": "application/json"})
    assert answer.status_code == 413 and answer.json()["error"] == "too_large"
    assert svc.intake.status()["pending"] == 0


def test_invalid_fields_are_422_with_a_message_per_field(svc: Service) -> None:
    answer = svc.sign(name="", country="XX", email="not-an-address", consent="1999", publish="maybe", extra="x")
    assert answer.status_code == 422
    errors = answer.json()["errors"]
    assert set(errors) == {"name", "country", "email", "consent", "publish", "extra"}
    assert all(isinstance(m, list) and m and all(isinstance(x, str) for x in m) for m in errors.values())
    assert "2026-11" in errors["consent"][0]
    bidi = svc.sign(name="Ana\u202ePereira")
    assert bidi.status_code == 422 and "U+202E" in bidi.json()["errors"]["name"][0]
    assert svc.sign(mission="xx-nowhere").json()["errors"]["mission"]
    assert svc.sign(country="DE").json()["errors"]["mission"][0].startswith("no mission receives letters from Germany")
    assert svc.sign(name=["Ana"]).json()["errors"]["name"] == ["must be text"]
    assert svc.intake.status()["pending"] == 0 and not svc.links()


def test_the_mission_defaults_to_the_country_s_own(svc: Service) -> None:
    assert svc.sign(country="is", name="Jón Jónsson", email="jon@example.org").status_code == 202
    (entry,) = svc.intake.store.entries()
    assert entry.signature["mission"] == "no-oslo" and entry.signature["country"] == "IS"


def test_duplicates_are_409(svc: Service) -> None:
    assert svc.sign().status_code == 202
    again = svc.sign(email="other@example.org", name="  ana   PEREIRA ")
    assert again.status_code == 409 and again.json()["error"] == "duplicate"
    assert run(svc.root, "sign", "--name", "Reporters United", "--country", "NO", "--organisation", "--publish",
               "--letter").exit_code == 0
    svc.intake.reload()
    in_repo = svc.sign(name="Reporters United", country="NO", email="ru@example.org")
    assert in_repo.status_code == 409


def test_a_second_signature_from_the_same_address_reveals_nothing(svc: Service) -> None:
    """Same address, other name: the answer is the usual 202 (no one learns who signed); the
    address itself is told, and no second entry is made."""
    svc.sign()
    svc.client.post(svc.links()["ana.pereira@example.org"])
    answer = svc.sign(name="Someone Else", email="ANA.PEREIRA@example.org")
    assert answer.status_code == 202
    assert svc.intake.status()["confirmed"] == 1 and svc.intake.status()["pending"] == 0
    notices = [p for p in svc.outbox.glob("*.eml") if "notice" in p.name]
    assert len(notices) == 1 and "already signed" in notices[0].read_text()


def test_honeypot_is_400_and_stores_nothing(svc: Service) -> None:
    answer = svc.sign(website="http://spam.example")
    assert answer.status_code == 400 and answer.json()["error"] == "rejected"
    assert svc.intake.status()["pending"] == 0 and not list(svc.outbox.glob("*.eml"))


def test_rate_limit_is_429_with_retry_after(git_repo: Path, tmp_path: Path) -> None:
    for svc in start(git_repo, tmp_path, limits=IntakeLimits(burst=3, hourly=100, max_body=4096)):
        answers = [svc.sign(name=f"Person {chr(65 + i)}", email=f"p{i}@example.org").status_code for i in range(5)]
        assert answers == [202, 202, 202, 429, 429]
        limited = svc.sign(name="Person Z", email="z@example.org")
        assert limited.json()["error"] == "rate_limited" and int(limited.headers["retry-after"]) >= 1
        assert svc.client.get("/api/health").status_code == 200, "only submissions are limited"


def test_form_posts_without_javascript_get_pages(svc: Service) -> None:
    form = {k: ("on" if v is True else v) for k, v in GOOD.items()}
    answer = svc.client.post("/api/signatures", data=form, headers={"accept": "text/html"})
    assert answer.status_code == 202 and answer.headers["content-type"].startswith("text/html")
    assert "Check your email" in answer.text
    bad = svc.client.post("/api/signatures", data={**form, "name": "<script>x</script>", "email": "bad"},
                          headers={"accept": "text/html"})
    assert bad.status_code == 422 and "<script>x" not in bad.text  # signer text is escaped
    multipart = svc.client.post("/api/signatures", data={**form, "name": "Bea Lima", "email": "bea@example.org"},
                                files={"ignored": ("x.txt", b"x")})
    assert multipart.status_code == 400


def test_cors_allows_the_configured_origins_only(svc: Service) -> None:
    ok = svc.client.options("/api/signatures", headers={"origin": "https://partner.example.org",
                                                         "access-control-request-method": "POST"})
    assert ok.headers.get("access-control-allow-origin") == "https://partner.example.org"
    other = svc.client.options("/api/signatures", headers={"origin": "https://evil.example",
                                                            "access-control-request-method": "POST"})
    assert "access-control-allow-origin" not in other.headers


def test_the_address_is_erased_once_mailed_and_never_logged(svc: Service, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    svc.sign()
    db = svc.intake.store.path
    row = sqlite3.connect(db).execute("SELECT email, token FROM entries").fetchone()
    assert row == (None, None), "the address and raw token go as soon as the mail is out"
    svc.client.post(svc.links()["ana.pereira@example.org"])
    svc.intake.flush()
    for path in db.parent.glob(db.name + "*"):
        assert b"ana.pereira@example.org" not in path.read_bytes(), path
    assert "ana.pereira" not in caplog.text and "@example.org" not in caplog.text


def test_a_mail_failure_is_retried_and_survives_a_restart(git_repo: Path, tmp_path: Path) -> None:
    """The outbox cannot be written: the answer is still 202, the address waits in the store, and
    a restarted service sends the mail, then erases the address."""
    blocked = tmp_path / "outbox"
    blocked.write_text("a file where the outbox folder should be")
    for svc in start(git_repo, tmp_path):
        assert svc.sign().status_code == 202
        assert svc.intake.status()["mail_queued"] == 1
    blocked.unlink()
    for svc in start(git_repo, tmp_path):
        assert svc.intake.send_queued(everything=True) == 1
        assert svc.intake.status()["mail_queued"] == 0
        assert "ana.pereira@example.org" in svc.links()


def test_flush_commits_one_batch_on_the_intake_branch(svc: Service) -> None:
    for i, name in enumerate(["Ana Pereira", "Bea Lima", "Carl Berg"]):
        svc.sign(name=name, email=f"s{i}@example.org")
    for link in svc.links().values():
        svc.client.post(link)
    result = svc.intake.flush()
    assert result.committed == 3 and result.published is not None
    assert git(svc.root, "rev-list", "--count", "main..intake/signatures").strip() == "1"
    assert svc.intake.flush().committed == 0, "nothing twice"
    assert svc.intake.status()["flushed"] == 3


def test_health_and_openapi(svc: Service) -> None:
    assert svc.client.get("/api/health").json()["status"] == "ok"
    spec = svc.client.get("/api/openapi.json").json()
    operation = spec["paths"]["/api/signatures"]["post"]
    assert set(operation["requestBody"]["content"]) == {"application/json", "application/x-www-form-urlencoded"}
    assert {"202", "400", "409", "413", "415", "422", "429"} <= set(operation["responses"])
    assert svc.client.get("/").status_code == 200  # no site built: a page that says so
    assert svc.client.get("/api/docs").status_code == 404  # no Swagger UI: it would load a CDN script
