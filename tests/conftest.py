"""Fixtures only; the helpers they use live in tests/support/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from support.builders import init_repo, make_campaign
from support.deploy import APP_ID, REPOSITORY, Production, app_keys, bare_remote
from support.github import FakeGitHub
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


@pytest.fixture
def production(tmp_path: Path) -> Iterator[Production]:
    """Around the production intake: GitHub (the fake: the App, the API, the repository over git's
    HTTP, from a bare repository), an SMTP server, and the App's private key as a secret file."""
    source = init_repo(make_campaign(tmp_path / "source"))
    remote = bare_remote(source, tmp_path / "letter.git")
    private, public = app_keys()
    key_file = tmp_path / "secrets" / "github-app.pem"
    key_file.parent.mkdir()
    key_file.write_text(private, encoding="ascii")
    key_file.chmod(0o600)
    with FakeGitHub(REPOSITORY, token="a-static-token-nobody-uses", app_id=APP_ID, app_public_key=public,
                    git_repository=remote) as github, SmtpTestServer() as smtp:
        github.seed({"README.md": b"the campaign\n"})
        yield Production(tmp_path, remote, github, smtp, key_file)
