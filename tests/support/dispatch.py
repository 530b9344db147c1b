"""Helpers of the dispatch tests: signatures in a test repository, campaign settings, the
ledger, running the CLI with an environment."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner, Result

from campaign.cli import main
from campaign.data import signatures
from campaign.data.models import Signature
from support.builders import FIXTURES
from support.smtp import SmtpTestServer

LEDGER = "data/dispatch/free-assange-2026-12-10.jsonl"
REHEARSAL = "rehearsal/free-assange-2026-12-10.jsonl"  # file, console and redirected runs keep their own
# In December: Lisbon UTC+0, Washington UTC-5, Chicago UTC-6, Nuku'alofa UTC+13.
ALL_DUE = "2026-12-10T16:00:00Z"  # Lisbon 16:00, Washington 11:00, Chicago 10:00 (Tonga: 11 Dec)


def add_signatures(root: Path, mission: str, count: int, country: str = "PT", letter: bool = True,
                   prefix: str = "Signer", kind: str = "individual") -> list[str]:
    """Write `count` signatures for `mission`; return their paths."""
    paths = []
    for n in range(count):
        sig = Signature.model_validate({
            "type": kind, "name": f"{prefix} {mission} {n}", "country": country, "mission": mission,
            "signed": "2026-11-20", "publish": letter, "letter": letter, "source": "form",
        })
        paths.append(signatures.write(root, sig))
    return paths


def configure(root: Path, **values: str) -> None:
    """Set `key: value` lines in the test repository's data/campaign.yaml (values as YAML)."""
    path = root / "data" / "campaign.yaml"
    text = path.read_text(encoding="utf-8")
    for key, value in values.items():
        text, found = re.subn(rf"(?m)^(\s*){key}: .*$", rf"\g<1>{key}: {value}", text)
        assert found == 1, key
    path.write_text(text, encoding="utf-8")


def ledger_lines(root: Path, rel: str = LEDGER) -> list[dict[str, object]]:
    path = root / rel
    if not path.exists():
        return []
    entries = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            entries.append(json.loads(line))
        except ValueError:  # a torn line
            continue
    return entries


def states(root: Path, rel: str = LEDGER) -> dict[str, str]:
    """Each letter's state as the ledger tells it (sent is final but for a permanent bounce)."""
    from campaign.records.ledger import Ledger

    return {key: info.state for key, info in Ledger(root / rel).letters.items()}


def dispatch(root: Path, *args: str, env: dict[str, str] | None = None) -> Result:
    """The real `campaign dispatch` in-process, with extra environment variables."""
    full = {"GITHUB_STEP_SUMMARY": "", "GITHUB_ACTIONS": "", **(env or {})}
    return CliRunner().invoke(main, ["--root", str(root), "dispatch", *args], env=full, catch_exceptions=False)


def dispatch_process(root: Path, *args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    """The real `campaign dispatch` as a separate process (for SIGKILL)."""
    full = {**os.environ, "GITHUB_STEP_SUMMARY": "", "GITHUB_ACTIONS": "", **env}
    return subprocess.Popen([sys.executable, "-m", "campaign", "--root", str(root), "dispatch", *args],
                            env=full, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def smtp_env(server: SmtpTestServer, timeout: str = "3") -> dict[str, str]:
    return {**server.env(), "SMTP_TIMEOUT": timeout, "SMTP_USERNAME": "", "SMTP_PASSWORD": ""}


def dsn_for(letter_key: str, message_id: str, recipient: str, envelope: str) -> bytes:
    """The real Postfix DSN of fixture a, about another letter: its VERP address, Message-ID and
    recipient substituted (the MTA's format is kept byte for byte otherwise)."""
    raw = (FIXTURES / "dsn" / "a-local-unknown-user-5.1.1.eml").read_bytes()
    raw = raw.replace(b"<free-assange.20261210.s-1f0c2a9b.3a9e0c1d2e@campaign.test>", message_id.encode())
    raw = raw.replace(b"bounces+s-1f0c2a9b@campaign.test", envelope.encode())
    return raw.replace(b"nosuchuser@local.test", recipient.encode())
