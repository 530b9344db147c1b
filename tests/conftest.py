"""Fixtures only; the helpers they use live in tests/support/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from support.builders import init_repo, make_campaign
from support.smtp import SmtpTestServer


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A campaign repository with the real campaign.yaml and letter, and a small mission list."""
    return make_campaign(tmp_path / "repo")


@pytest.fixture
def git_repo(repo: Path) -> Path:
    """`repo` as a git repository with one commit on `main`."""
    return init_repo(repo)


@pytest.fixture
def smtp_server() -> Iterator[SmtpTestServer]:
    """A real SMTP server (aiosmtpd) on loopback."""
    with SmtpTestServer() as server:
        yield server
