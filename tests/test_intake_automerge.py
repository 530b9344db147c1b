"""`campaign intake automerge` (validate.yml's optional job): merges only a pull request that adds
valid signatures and nothing else, only when intake.automerge is on in the target branch, and only
its validated head. The GitHub API is the recorded fake served on loopback (the real API cannot be
reached from the tests)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from support.builders import git, run
from support.github import FakeGitHub


@pytest.fixture
def gh(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGitHub]:
    with FakeGitHub("free-assange/letter", token="app-token") as fake:
        fake.seed({"README.md": b"x\n"})
        monkeypatch.setenv("CAMPAIGN_GITHUB_TOKEN", "app-token")
        monkeypatch.setenv("CAMPAIGN_GITHUB_API", fake.url)
        yield fake


def pull_request(repo: Path, gh: FakeGitHub, automerge: bool, extra: dict[str, str] | None = None) -> str:
    """`main` with intake.automerge set, a branch adding one signature (and `extra` files), its PR #1."""
    if automerge:
        path = repo / "data" / "campaign.yaml"
        path.write_text(path.read_text().replace("automerge: false", "automerge: true"))
        git(repo, "commit", "-qam", "automerge on")
    git(repo, "checkout", "-q", "-b", "intake/signatures")
    assert run(repo, "sign", "--name", "Ana Pereira", "--country", "PT", "--publish", "--letter",
               "--source", "form").exit_code == 0
    for rel, text in (extra or {}).items():
        (repo / rel).write_text(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "intake: add 1 signature")
    gh.refs["heads/intake/signatures"] = gh.refs["heads/main"]  # the fake only needs the PR to exist
    gh.pulls.append({"number": 1, "state": "open", "merged": False, "title": "t", "body": "b",
                     "head": "intake/signatures", "base": "main"})
    return gh.refs["heads/intake/signatures"]


def test_merges_a_signatures_only_pull_request_when_enabled(git_repo: Path, gh: FakeGitHub) -> None:
    sha = pull_request(git_repo, gh, automerge=True)
    result = run(git_repo, "intake", "automerge", "--base", "main", "--pr", "1", "--sha", sha)
    assert result.exit_code == 0, result.output
    assert "merged pull request #1 (1 signatures)" in result.output
    assert gh.pulls[0]["merged"] is True
    assert ("PUT", "/repos/free-assange/letter/pulls/1/merge", {"sha": sha, "merge_method": "squash"}) in gh.requests


def test_off_by_default(git_repo: Path, gh: FakeGitHub) -> None:
    sha = pull_request(git_repo, gh, automerge=False)
    result = run(git_repo, "intake", "automerge", "--base", "main", "--pr", "1", "--sha", sha)
    assert result.exit_code == 0 and "automerge is off" in result.output
    assert not any(method == "PUT" for method, _, _ in gh.requests)


def test_the_setting_is_read_from_the_target_branch(git_repo: Path, gh: FakeGitHub) -> None:
    """A pull request that switches automerge on for itself is not merged (and not eligible anyway)."""
    sha = pull_request(git_repo, gh, automerge=False)
    path = git_repo / "data" / "campaign.yaml"
    path.write_text(path.read_text().replace("automerge: false", "automerge: true"))
    git(git_repo, "commit", "-qam", "sneaky")
    result = run(git_repo, "intake", "automerge", "--base", "main", "--pr", "1", "--sha", sha)
    assert "automerge is off" in result.output and gh.pulls[0]["merged"] is False


def test_anything_beyond_signatures_needs_a_maintainer(git_repo: Path, gh: FakeGitHub) -> None:
    sha = pull_request(git_repo, gh, automerge=True, extra={"README.md": "changed\n"})
    result = run(git_repo, "intake", "automerge", "--base", "main", "--pr", "1", "--sha", sha)
    assert result.exit_code == 0 and "not automerged" in result.output and "README.md" in result.output
    assert gh.pulls[0]["merged"] is False


def test_an_invalid_signature_is_not_merged(git_repo: Path, gh: FakeGitHub) -> None:
    sha = pull_request(git_repo, gh, automerge=True)
    bad = git_repo / "data" / "signatories" / "ff" / "0000000000000000.yaml"
    bad.parent.mkdir(parents=True, exist_ok=True)
    bad.write_text("type: 'individual'\nname: 'X'\n")
    git(git_repo, "add", "-A")
    git(git_repo, "commit", "-qm", "bad")
    result = run(git_repo, "intake", "automerge", "--base", "main", "--pr", "1", "--sha", sha)
    assert result.exit_code == 1 and "0000000000000000.yaml" in result.output
    assert gh.pulls[0]["merged"] is False


def test_a_look_alike_name_waits_for_a_maintainer(git_repo: Path, gh: FakeGitHub) -> None:
    """A name that looks like an existing one (Cyrillic "А") is only a warning for validate, but
    the unattended path leaves it to a person."""
    assert run(git_repo, "sign", "--name", "\u0410na Pereira", "--country", "PT", "--publish", "--letter").exit_code == 0
    git(git_repo, "add", "-A")
    git(git_repo, "commit", "-qm", "a signature on main")
    sha = pull_request(git_repo, gh, automerge=True)
    result = run(git_repo, "intake", "automerge", "--base", "main", "--pr", "1", "--sha", sha)
    assert result.exit_code == 0, result.output
    assert "not automerged: 1 names look like existing ones" in result.output
    assert gh.pulls[0]["merged"] is False
