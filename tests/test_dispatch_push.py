"""Committing and pushing the ledger: only data/dispatch/, retried when another push won."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from campaign.core.errors import CampaignError
from campaign.records.ledger import Ledger
from support.builders import git, run
from support.dispatch import ALL_DUE, LEDGER, add_signatures, dispatch, smtp_env
from support.smtp import SmtpTestServer


@pytest.fixture
def remote(git_repo: Path, tmp_path: Path) -> Path:
    bare = tmp_path / "remote.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(git_repo), str(bare)], check=True)
    return bare


def clone(remote: Path, where: Path, shallow: bool = True) -> Path:
    args = ["git", "clone", "-q", *(["--depth", "1"] if shallow else []), f"file://{remote}", str(where)]
    subprocess.run(args, check=True)
    git(where, "config", "user.email", "bot@example.org")
    git(where, "config", "user.name", "Bot")
    return where


def remote_log(remote: Path) -> list[str]:
    return git(remote, "log", "--format=%s", "main").splitlines()


def test_push_commits_only_the_ledger(remote: Path, tmp_path: Path) -> None:
    work = clone(remote, tmp_path / "work")
    (work / "README.md").write_text("an unrelated edit\n")
    git(work, "add", "README.md")  # even staged, it is not committed
    with Ledger(work / LEDGER) as book:
        book.append("s-1", "sent", "pt-lisbon", "<1@x>")
    result = run(work, "push-ledger")
    assert result.exit_code == 0, result.output
    assert "pushed the ledger to origin/main" in result.output
    assert remote_log(remote)[0] == "dispatch: ledger"
    changed = git(remote, "show", "--name-only", "--format=", "main").split()
    assert changed == [LEDGER]


def test_push_race_is_retried_after_a_rebase(remote: Path, tmp_path: Path) -> None:
    work = clone(remote, tmp_path / "work")
    other = clone(remote, tmp_path / "other", shallow=False)
    with Ledger(work / LEDGER) as book:
        book.append("s-1", "sent", "pt-lisbon", "<1@x>")
    (other / "NOTES.txt").write_text("someone merged something meanwhile\n")
    git(other, "add", "-A")
    git(other, "commit", "-qm", "meanwhile")
    git(other, "push", "-q", "origin", "main")
    result = run(work, "push-ledger", "--pause", "0.01")
    assert result.exit_code == 0, result.output
    assert remote_log(remote)[:2] == ["dispatch: ledger", "meanwhile"]


def test_nothing_to_push_is_fine(remote: Path, tmp_path: Path) -> None:
    work = clone(remote, tmp_path / "work")
    result = run(work, "push-ledger")
    assert result.exit_code == 0 and "no new ledger lines" in result.output


def test_a_ledger_conflict_is_reported_not_forced(remote: Path, tmp_path: Path) -> None:
    work = clone(remote, tmp_path / "work")
    other = clone(remote, tmp_path / "other", shallow=False)
    for where, key in ((other, "s-2"), (work, "s-1")):
        with Ledger(where / LEDGER) as book:
            book.append(key, "sent", "pt-lisbon", f"<{key}@x>")
    git(other, "add", "-A")
    git(other, "commit", "-qm", "a second dispatcher")
    git(other, "push", "-q", "origin", "main")
    result = run(work, "push-ledger", "--attempts", "2", "--pause", "0")
    assert result.exit_code == 1 and "does not rebase" in result.output
    assert remote_log(remote)[0] == "a second dispatcher"


def test_dispatch_push_checkpoints_the_ledger(remote: Path, tmp_path: Path, smtp_server: SmtpTestServer) -> None:
    work = clone(remote, tmp_path / "work")
    add_signatures(work, "pt-lisbon", 3)
    result = dispatch(work, "--now", ALL_DUE, "--backend", "smtp", "--no-throttle", "--push", "--checkpoint-every", "1",
                      env=smtp_env(smtp_server))
    assert result.exit_code == 0, result.output
    assert remote_log(remote)[0] == "dispatch: ledger checkpoint"
    pushed = git(remote, "show", f"main:{LEDGER}")
    assert pushed.count('"state":"sent"') == 3


def test_push_fails_cleanly_without_a_remote(git_repo: Path) -> None:
    with Ledger(git_repo / LEDGER) as book:
        book.append("s-1", "sent", "pt-lisbon", "<1@x>")
    with pytest.raises(CampaignError):
        from campaign.dispatch.checkpoint import push_ledger

        push_ledger(git_repo, attempts=1)
