"""Pushing the ledger to its own branch: only data/dispatch/, committed with git plumbing (the
work tree, the index and the checked-out branch untouched), lines merged when another push won."""

from __future__ import annotations

from pathlib import Path

import pytest

from campaign.core.errors import CampaignError
from campaign.dispatch import checkpoint
from campaign.records.ledger import Ledger, union
from support import remotes
from support.builders import git, run
from support.deploy import bare_remote
from support.dispatch import ALL_DUE, LEDGER, add_signatures, configure, dispatch, smtp_env, states
from support.smtp import SmtpTestServer


@pytest.fixture
def remote(git_repo: Path, tmp_path: Path) -> Path:
    return bare_remote(git_repo, tmp_path / "remote.git")


def append(root: Path, *keys: str, state: str = "sent") -> None:
    with Ledger(root / LEDGER) as book:
        for key in keys:
            book.append(key, state, "pt-lisbon", f"<{key}@x>")


def test_push_creates_the_branch_with_the_ledger_alone_and_touches_nothing_here(remote: Path, tmp_path: Path) -> None:
    work = remotes.clone(remote, tmp_path / "work")
    main_before, head_before = remotes.tip(remote, "main"), remotes.tip(work, "HEAD")
    (work / "README.md").write_text("an unrelated edit\n")
    git(work, "add", "README.md")  # staged: neither committed nor unstaged
    (work / "NOTES.txt").write_text("untracked\n")
    append(work, "s-1")
    status_before = git(work, "status", "--porcelain", "--untracked-files=all")
    result = run(work, "push-ledger")
    assert result.exit_code == 0, result.output
    assert "pushed the ledger to origin/ledger" in result.output
    assert remotes.files(remote, "ledger") == [LEDGER]
    assert remotes.log(remote, "ledger") == ["dispatch: ledger"]
    assert git(remote, "rev-list", "--parents", "-n1", "ledger").split()[1:] == []  # a history of its own
    assert remotes.show(remote, "ledger", LEDGER) == (work / LEDGER).read_text()
    assert remotes.tip(remote, "main") == main_before
    # here: the same HEAD, index and files; no local branch made; the last tip known is remembered
    assert remotes.tip(work, "HEAD") == head_before and git(work, "symbolic-ref", "HEAD").strip() == "refs/heads/main"
    assert git(work, "status", "--porcelain", "--untracked-files=all") == status_before
    assert git(work, "diff", "--cached", "--name-only").split() == ["README.md"]
    assert remotes.tip(work, "refs/heads/ledger") is None
    assert remotes.tip(work, "refs/remotes/origin/ledger") == remotes.tip(remote, "ledger")


def test_checkpoints_extend_the_branch(remote: Path, tmp_path: Path) -> None:
    work = remotes.clone(remote, tmp_path / "work")
    append(work, "s-1")
    checkpoint.push_ledger(work)
    first = remotes.tip(remote, "ledger")
    assert checkpoint.push_ledger(work) == "no new ledger lines for origin/ledger"
    append(work, "s-2")
    assert checkpoint.push_ledger(work, message="dispatch: ledger") == "pushed the ledger to origin/ledger"
    assert git(remote, "rev-parse", "ledger^").strip() == first
    assert remotes.log(remote, "ledger") == ["dispatch: ledger", "dispatch: ledger checkpoint"]
    assert remotes.show(remote, "ledger", LEDGER).count('"state":"sent"') == 2


def test_a_push_race_merges_the_lines_of_both(remote: Path, tmp_path: Path) -> None:
    """Another run pushed first (not a fast-forward): fetch its tip, apply our lines on it, push;
    no line of either is lost, and ours end up after theirs, as a rebase would put them."""
    work, other = remotes.clone(remote, tmp_path / "work"), remotes.clone(remote, tmp_path / "other")
    append(work, "s-0")
    checkpoint.push_ledger(work)
    checkpoint.restore(other)
    append(other, "s-2")
    append(work, "s-1")
    checkpoint.push_ledger(other)
    pauses: list[float] = []
    said = checkpoint.push_ledger(work, sleep=pauses.append, pause=0.01)
    assert said == "pushed the ledger to origin/ledger" and len(pauses) == 1
    pushed = remotes.show(remote, "ledger", LEDGER)
    assert [k for k in ("s-0", "s-2", "s-1") if f'"letter":"{k}"' in pushed] == ["s-0", "s-2", "s-1"]
    assert [pushed.index(f'"letter":"{k}"') for k in ("s-0", "s-2", "s-1")] == sorted(
        pushed.index(f'"letter":"{k}"') for k in ("s-0", "s-2", "s-1"))
    assert (work / LEDGER).read_text() == pushed  # the other run's line is here too now
    assert len(pushed.splitlines()) == 3


def test_nothing_to_push_is_fine(remote: Path, tmp_path: Path) -> None:
    work = remotes.clone(remote, tmp_path / "work")
    result = run(work, "push-ledger")
    assert result.exit_code == 0 and "no new ledger lines" in result.output
    assert remotes.tip(remote, "ledger") is None


def test_a_branch_holding_other_files_is_not_a_ledger_branch(remote: Path, tmp_path: Path) -> None:
    """dispatch.ledger_branch naming the default branch by mistake is refused."""
    work = remotes.clone(remote, tmp_path / "work")
    main_before = remotes.tip(remote, "main")
    append(work, "s-1")
    configure(work, ledger_branch="'main'")
    result = run(work, "push-ledger")
    assert result.exit_code == 1
    assert "data/dispatch:1: origin/main holds '.gitignore', so it is not a ledger branch" in result.output
    assert remotes.tip(remote, "main") == main_before


def test_the_branch_is_the_one_campaign_yaml_names(remote: Path, tmp_path: Path) -> None:
    work = remotes.clone(remote, tmp_path / "work")
    configure(work, ledger_branch="'records/dispatch'")
    append(work, "s-1")
    assert checkpoint.push_ledger(work) == "pushed the ledger to origin/records/dispatch"
    assert remotes.files(remote, "records/dispatch") == [LEDGER]


def test_a_refused_push_stops_retrying_and_says_why(remote: Path, tmp_path: Path) -> None:
    work = remotes.clone(remote, tmp_path / "work")
    remotes.protect(remote, "ledger")
    append(work, "s-1")
    pauses: list[float] = []
    with pytest.raises(checkpoint.Refused) as err:
        checkpoint.push_ledger(work, sleep=pauses.append)
    assert pauses == []  # a refusal is not a race: no retry
    text = str(err.value)
    assert "origin/ledger refused the ledger push [remote rejected] (pre-receive hook declined)" in text
    assert "GH006: Protected branch update failed for refs/heads/ledger." in text
    assert "leave it out of branch protection" in text
    assert (work / LEDGER).exists()  # nothing here is lost


def test_push_fails_cleanly_without_a_remote(git_repo: Path, repo: Path) -> None:
    append(git_repo, "s-1")
    result = run(git_repo, "push-ledger")
    assert result.exit_code == 1 and "data/dispatch:1: no git remote 'origin' in " in result.output
    with pytest.raises(checkpoint.NoRemote):
        checkpoint.push_ledger(git_repo, attempts=1)


def test_an_unreachable_remote_is_retried_then_reported(remote: Path, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("campaign.core.retry.random.random", lambda: 0.9)  # the jitter, fixed: 95% of each pause
    work = remotes.clone(remote, tmp_path / "work")
    append(work, "s-1")
    checkpoint.push_ledger(work)
    git(work, "remote", "set-url", "origin", str(tmp_path / "gone.git"))
    append(work, "s-2")
    pauses: list[float] = []
    with pytest.raises(CampaignError) as err:
        checkpoint.push_ledger(work, attempts=3, sleep=pauses.append, pause=0.5)
    assert len(pauses) == 2 and pauses[1] > pauses[0] * 1.2  # a growing pause
    assert pauses == pytest.approx([0.475, 0.95])
    assert "could not push the ledger to origin/ledger after 3 attempts: " in str(err.value)
    assert "does not appear to be a git repository" in str(err.value)


def test_dispatch_push_checkpoints_the_ledger(remote: Path, tmp_path: Path, smtp_server: SmtpTestServer) -> None:
    work = remotes.clone(remote, tmp_path / "work")
    add_signatures(work, "pt-lisbon", 3)
    result = dispatch(work, "--now", ALL_DUE, "--backend", "smtp", "--no-throttle", "--push", "--checkpoint-every", "1",
                      env=smtp_env(smtp_server))
    assert result.exit_code == 0, result.output
    assert remotes.log(remote, "ledger")[0] == "dispatch: ledger checkpoint"
    assert remotes.show(remote, "ledger", LEDGER).count('"state":"sent"') == 3


def test_a_refused_checkpoint_stops_the_run(remote: Path, tmp_path: Path, smtp_server: SmtpTestServer) -> None:
    """Letters sent after a refused checkpoint would be invisible to the next run: stop sending.
    (The branch was made and pushed before, then a protection rule came to cover it.)"""
    work = remotes.clone(remote, tmp_path / "work")
    append(work, "s-old")
    checkpoint.push_ledger(work)
    remotes.protect(remote, "ledger")
    configure(work, per_domain_delay="0.6")
    add_signatures(work, "pt-lisbon", 6)
    result = dispatch(work, "--now", ALL_DUE, "--backend", "smtp", "--throttle", "--push", "--checkpoint-every", "1",
                      env=smtp_env(smtp_server))
    assert result.exit_code == 1
    assert "refused the ledger push" in result.output and "stopped early: the ledger push was refused" in result.output
    assert 1 <= len(smtp_server.messages) < 6
    told = states(work)
    assert list(told.values()).count("sent") == len(smtp_server.messages) + 1  # and s-old
    assert set(told.values()) == {"sent", "deferred"}


def test_lines_only_here_are_pushed_before_the_first_letter(remote: Path, tmp_path: Path,
                                                            smtp_server: SmtpTestServer) -> None:
    """A refused ledger branch is found before anything is sent when there is something to push."""
    work = remotes.clone(remote, tmp_path / "work")
    append(work, "s-old")
    remotes.protect(remote, "ledger")
    add_signatures(work, "pt-lisbon", 2)
    result = dispatch(work, "--now", ALL_DUE, "--backend", "smtp", "--no-throttle", "--push", env=smtp_env(smtp_server))
    assert result.exit_code == 1 and "refused the ledger push" in result.output
    assert smtp_server.messages == []


def test_union_keeps_every_line_once() -> None:
    assert union(b"", b"a\n") == b"a\n" and union(b"a\n", b"") == b"a\n"
    assert union(b"a\nb\n", b"a\nb\nc\n") == b"a\nb\nc\n"  # ours only grew
    assert union(b"a\nb\nc\n", b"a\n") == b"a\nb\nc\n"  # theirs only grew
    assert union(b"a\nb\n", b"a\nc\n") == b"a\nb\nc\n"  # both grew: theirs, then ours
    assert union(b"a\n{torn", b"a\n{torn\nd\n") == b"a\n{torn\nd\n"  # a torn last line stays on its own
    assert union(b"x\n", b"y\n\n\ny\n") == b"x\ny\n"
