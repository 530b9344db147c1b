"""End to end over loopback with the real `campaign serve` process: sign, confirm from the file
outbox, flush, validate the intake branch, and find the address nowhere in git; then 1,000
concurrent submissions with the server killed and restarted in the middle."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from support.builders import git, run
from support.http import confirmation_links, post

CONSENT = "2026-11"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serving(root: Path, port: int, *extra: str) -> Iterator[subprocess.Popen[bytes]]:
    """`campaign serve` as a user runs it, in its own process; waits until it answers.

    Its output goes to a file beside the repository (a pipe nobody reads would block it)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAMPAIGN_")}
    log = open(root.parent / f"serve-{port}.log", "ab")  # noqa: SIM115 - closed below
    proc = subprocess.Popen([sys.executable, "-m", "campaign", "--root", str(root), "serve", "--no-site",
                             "--port", str(port), "--flush-every", "0", *extra],
                            env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("campaign serve did not start:\n" + (root.parent / f"serve-{port}.log").read_text())
            time.sleep(0.05)
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
        log.close()


def all_git_bytes(repo: Path) -> bytes:
    """Every object in the repository (all branches, tags, dangling objects) plus refs and logs."""
    objects = subprocess.run(["git", "cat-file", "--batch-all-objects", "--batch"], cwd=repo, capture_output=True,
                             check=True).stdout
    log = subprocess.run(["git", "log", "--all", "--reflog", "--format=%H %an %ae %cn %ce %B", "-p"], cwd=repo,
                         capture_output=True, check=True).stdout
    return objects + log


def test_sign_confirm_flush_validate_and_no_address_in_git(git_repo: Path, tmp_path: Path) -> None:
    port = free_port()
    address = "ana.flow.test@example.org"
    with serving(git_repo, port) as proc:
        base = f"http://127.0.0.1:{port}"
        answer = httpx.post(f"{base}/api/signatures", json={
            "name": "Ana Pereira", "country": "PT", "email": address, "publish": True, "letter": True,
            "consent": CONSENT, "website": ""})
        assert answer.status_code == 202, answer.text
        link = confirmation_links(git_repo / "outbox")[address]  # the default outbox: repository/outbox
        assert link.startswith(f"{base}/confirm/")
        assert httpx.get(link).status_code == 200
        assert httpx.get(f"{base}/api/health").json()["confirmed"] == 0, "GET confirms nothing"
        assert httpx.post(link).status_code == 200
        assert httpx.get(f"{base}/api/health").json()["confirmed"] == 1
        flushed = run(git_repo, "intake", "flush")  # a second process on the same store
        assert flushed.exit_code == 0, flushed.output
        assert "1 signatures committed" in flushed.output
    assert proc.returncode in (0, -signal.SIGTERM), "SIGTERM shuts down cleanly (uvicorn re-raises the signal)"
    served = (git_repo.parent / f"serve-{port}.log").read_text()
    assert "Application shutdown complete" in served
    assert '"POST /confirm/<token> HTTP/1.1" 200' in served, "the access log shows requests ..."
    assert link.rsplit("/", 1)[1] not in served and address not in served, "... never a token or an address"
    assert git(git_repo, "status", "--porcelain") == "", "the user's checkout is untouched (store, key, outbox ignored)"
    assert git(git_repo, "rev-parse", "--abbrev-ref", "HEAD").strip() == "main"
    (path,) = git(git_repo, "ls-tree", "-r", "--name-only", "intake/signatures", "data/signatories").split()
    text = git(git_repo, "show", f"intake/signatures:{path}")
    assert "name: 'Ana Pereira'" in text and "source: 'form'" in text and "fingerprint: '" in text

    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(git_repo), str(clone))
    git(clone, "checkout", "-q", "-b", "intake/signatures", "origin/intake/signatures")
    validated = run(clone, "validate", "--base", "main")
    assert validated.exit_code == 0, validated.output
    assert "ok: 1 signatures" in validated.output

    for repo in (git_repo, clone):
        assert address.encode() not in all_git_bytes(repo)
        assert b"ana.flow.test" not in all_git_bytes(repo)


async def _submit_all(base: str, people: list[tuple[int, dict[str, object]]], kill_after: int | None,
                      proc: subprocess.Popen[bytes] | None) -> dict[int, int | None]:
    """POST every submission at once, one connection each; SIGKILL `proc` after `kill_after` answers."""
    results: dict[int, int | None] = {}

    async def one(i: int, body: dict[str, object]) -> None:
        try:
            results[i] = await post(base, "/api/signatures", json.dumps(body).encode())
        except (OSError, asyncio.TimeoutError, ValueError, IndexError):
            results[i] = None  # no answer: the client cannot know, and will retry
        if kill_after is not None and proc is not None and len(results) == kill_after:
            proc.kill()

    await asyncio.gather(*(one(i, body) for i, body in people))
    return results


def test_1000_concurrent_submissions_with_a_restart_lose_nothing(git_repo: Path, tmp_path: Path) -> None:
    n = 1000
    countries = ["PT", "NO", "IS", "TO"]
    people = [(i, {"name": f"Signer {i:04d}", "country": countries[i % 4], "email": f"signer{i}@example.org",
                   "publish": i % 2 == 0, "letter": True, "consent": CONSENT}) for i in range(n)]
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    db = tmp_path / "intake.sqlite3"
    options = ("--db", str(db), "--burst", "1000000", "--hourly", "1000000", "--mail-retry-every", "0.5")
    with serving(git_repo, port, *options) as first:
        started = time.perf_counter()
        results = asyncio.run(_submit_all(base, people, n // 2, first))
        elapsed = time.perf_counter() - started
    answered = {i for i, status in results.items() if status is not None}
    assert all(results[i] == 202 for i in answered), {results[i] for i in answered}
    assert n // 2 <= len(answered) < n, "the server was killed mid-way"
    unanswered = [p for p in people if p[0] not in answered]

    with serving(git_repo, port, *options):
        with sqlite3.connect(db) as conn:
            stored = {json.loads(row[0])["name"] for row in conn.execute("SELECT signature FROM entries")}
        assert {f"Signer {i:04d}" for i in answered} <= stored, "every accepted submission survived the SIGKILL"
        retried = asyncio.run(_submit_all(base, unanswered, None, None))
        assert set(retried.values()) == {202}, "a retried submission is accepted again (or re-armed), never lost"
        deadline = time.monotonic() + 30
        while (health := httpx.get(f"{base}/api/health").json())["mail_queued"] and time.monotonic() < deadline:
            time.sleep(0.2)  # mails of entries stored just before the kill are sent after the restart
        assert health["pending"] == n and health["mail_queued"] == 0, health
        links = confirmation_links(git_repo / "outbox")
        assert set(links) == {f"signer{i}@example.org" for i in range(n)}

        async def confirm_all() -> list[int]:
            return await asyncio.gather(*(post(base, urlsplit(u).path) for u in links.values()))

        t0 = time.perf_counter()
        assert set(asyncio.run(confirm_all())) == {200}
        confirm_elapsed = time.perf_counter() - t0
        assert httpx.get(f"{base}/api/health").json()["confirmed"] == n
        t0 = time.perf_counter()
        flushed = run(git_repo, "intake", "flush", "--db", str(db))
        flush_elapsed = time.perf_counter() - t0
        assert flushed.exit_code == 0, flushed.output
    assert git(git_repo, "rev-list", "--count", "main..intake/signatures").strip() == "1", "one commit per flush"
    paths = git(git_repo, "ls-tree", "-r", "--name-only", "intake/signatures", "data/signatories").split()
    assert len(paths) == len(set(paths)) == n
    names = git(git_repo, "grep", "-h", "^name:", "intake/signatures", "--", "data/signatories").split("\n")
    names = [line.split(":", 2)[-1].strip() for line in names if line]
    assert sorted(names) == sorted(f"'Signer {i:04d}'" for i in range(n))
    print(f"\n1,000 submissions: {len(answered)} answered before SIGKILL in {elapsed:.2f} s, "
          f"{len(stored) - len(answered)} more stored but unanswered "
          f"({len(answered) / elapsed:.0f}/s); confirmations {n / confirm_elapsed:.0f}/s; flush of {n} files {flush_elapsed:.2f} s")
