"""The `local` forge: commits on the intake branch with git plumbing, never touching the checkout."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from campaign.forge.base import BOT_EMAIL, ForgeError, LocalForge
from support.builders import git


def publish(forge: LocalForge, files: dict[str, bytes], branch: str = "intake/signatures", **kw: object):
    return forge.publish(files, branch=branch, message="intake: test", title="t", body="b", **kw)


def test_commits_on_the_branch_without_touching_the_working_tree(git_repo: Path) -> None:
    (git_repo / "notes.txt").write_text("work in progress\n")  # an untracked file of the user
    git(git_repo, "add", "notes.txt")  # ... and a staged change
    before_status = git(git_repo, "status", "--porcelain")
    before_head = git(git_repo, "rev-parse", "HEAD")
    forge = LocalForge(git_repo)
    result = publish(forge, {"data/signatories/ab/0123456789abcdef.yaml": b"name: 'x'\n"})
    assert result.branch == "intake/signatures" and result.base == "main"
    assert git(git_repo, "rev-parse", "intake/signatures").strip() == result.commit
    assert git(git_repo, "show", "intake/signatures:data/signatories/ab/0123456789abcdef.yaml") == "name: 'x'\n"
    assert git(git_repo, "rev-parse", "intake/signatures^").strip() == before_head.strip()
    assert git(git_repo, "status", "--porcelain") == before_status
    assert git(git_repo, "rev-parse", "HEAD") == before_head
    assert not (git_repo / "data/signatories/ab").exists()
    assert git(git_repo, "log", "-1", "--format=%an <%ae>", "intake/signatures").strip() == f"Campaign intake <{BOT_EMAIL}>"
    assert not git(git_repo, "for-each-ref", "refs/campaign-intake/").strip(), "scratch refs are removed"


def test_batches_stack_until_merged_then_start_from_the_base(git_repo: Path) -> None:
    forge = LocalForge(git_repo)
    first = publish(forge, {"data/signatories/aa/1.yaml": b"1\n"})
    second = publish(forge, {"data/signatories/bb/2.yaml": b"2\n"})
    assert git(git_repo, "rev-parse", f"{second.commit}^").strip() == first.commit
    assert git(git_repo, "rev-list", "--count", "main..intake/signatures").strip() == "2"
    git(git_repo, "merge", "-q", "--no-edit", "intake/signatures")  # the maintainer merges
    third = publish(forge, {"data/signatories/cc/3.yaml": b"3\n"})
    assert git(git_repo, "rev-parse", f"{third.commit}^").strip() == git(git_repo, "rev-parse", "main").strip()


def test_republishing_the_same_files_changes_nothing(git_repo: Path) -> None:
    """A flush retried after a crash commits the same tree: no duplicate files."""
    forge = LocalForge(git_repo)
    files = {"data/signatories/aa/1.yaml": b"1\n"}
    one = publish(forge, files)
    two = publish(forge, files)
    assert git(git_repo, "rev-parse", f"{one.commit}^{{tree}}") == git(git_repo, "rev-parse", f"{two.commit}^{{tree}}")


def test_fresh_starts_from_the_base(git_repo: Path) -> None:
    forge = LocalForge(git_repo)
    publish(forge, {"data/signatories/aa/1.yaml": b"1\n"}, branch="intake/issue-7")
    again = publish(forge, {"data/signatories/aa/2.yaml": b"2\n"}, branch="intake/issue-7", fresh=True)
    listing = git(git_repo, "ls-tree", "-r", "--name-only", again.commit)
    assert "data/signatories/aa/2.yaml" in listing and "data/signatories/aa/1.yaml" not in listing


def test_refuses_a_checked_out_intake_branch(git_repo: Path) -> None:
    git(git_repo, "checkout", "-q", "-b", "intake/signatures")
    with pytest.raises(ForgeError, match="checked out"):
        publish(LocalForge(git_repo, base="main"), {"data/signatories/aa/1.yaml": b"1\n"})


def test_refuses_unsafe_paths_and_non_repositories(git_repo: Path, tmp_path: Path) -> None:
    with pytest.raises(ForgeError, match="unsafe"):
        publish(LocalForge(git_repo), {"../escape.yaml": b"x"})
    with pytest.raises(ForgeError, match="not a git repository"):
        publish(LocalForge(tmp_path), {"a.yaml": b"x"})


def test_concurrent_publishers_lose_nothing(git_repo: Path) -> None:
    """Two flushes racing for the branch: the compare-and-swap makes the loser build on the winner."""
    forge = LocalForge(git_repo)
    errors: list[BaseException] = []

    def one(i: int) -> None:
        try:
            publish(forge, {f"data/signatories/{i:02x}/{i}.yaml": f"{i}\n".encode()})
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    listing = git(git_repo, "ls-tree", "-r", "--name-only", "intake/signatures", "data/signatories").split()
    assert len(listing) == 6
