"""The ledger read from its own branch: a fresh runner restores it before sending (so nothing is
sent twice), a protected default branch is never needed, a branch that cannot be read stops a
run before its first letter, and the site is built from the branch's ledger. The remotes are
real bare repositories (tests/support/remotes.py); `main` refuses every push, as a protected
default branch does."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from campaign.core.errors import CampaignError
from campaign.dispatch import checkpoint
from campaign.records.ledger import Ledger, union
from support import remotes
from support.builders import ROOT, git, init_repo, run
from support.deploy import bare_remote
from support.github import FakeGitHub
from support.dispatch import ALL_DUE, LEDGER, add_signatures, configure, dispatch, smtp_env, states
from support.site import build, make_repo
from support.smtp import SmtpTestServer


@pytest.fixture
def remote(repo: Path, tmp_path: Path) -> Path:
    """The campaign with three signatures for Lisbon on `main`, which refuses pushes."""
    add_signatures(repo, "pt-lisbon", 3)
    bare = bare_remote(init_repo(repo), tmp_path / "remote.git")
    remotes.protect(bare, "main")
    return bare


def send(work: Path, smtp: SmtpTestServer, *args: str) -> str:
    result = dispatch(work, "--now", ALL_DUE, "--backend", "smtp", "--no-throttle", *args, env=smtp_env(smtp))
    assert result.exit_code == 0, result.output
    return result.output


def test_a_fresh_runner_restores_the_ledger_and_sends_nothing_twice(remote: Path, tmp_path: Path,
                                                                     smtp_server: SmtpTestServer) -> None:
    main_before = remotes.tip(remote, "main")
    first = remotes.clone(remote, tmp_path / "first")
    said = send(first, smtp_server, "--push")
    assert "no ledger branch origin/ledger yet" in said  # the first run: nothing to restore, and that is fine
    assert len(smtp_server.messages) == 3
    assert remotes.tip(remote, "main") == main_before  # the protected branch was never needed
    assert remotes.files(remote, "ledger") == [LEDGER]

    second = remotes.clone(remote, tmp_path / "second")  # the next scheduled run, on an empty runner
    assert not (second / LEDGER).exists()
    said = send(second, smtp_server, "--push")
    assert "restored the ledger from origin/ledger" in said
    assert len(smtp_server.messages) == 3  # not one letter again
    assert list(states(second).values()) == ["sent"] * 3
    assert (second / LEDGER).read_bytes() == remotes.show(remote, "ledger", LEDGER).encode()


def test_a_branch_that_cannot_be_read_stops_the_run_before_any_letter(remote: Path, tmp_path: Path,
                                                                      smtp_server: SmtpTestServer) -> None:
    first = remotes.clone(remote, tmp_path / "first")
    env = smtp_env(smtp_server)
    assert dispatch(first, "--now", ALL_DUE, "--backend", "smtp", "--no-throttle", "--push", "--limit", "1",
                    env=env).exit_code == 0
    work = remotes.clone(remote, tmp_path / "work")
    remotes.refuse_reads(work)
    result = dispatch(work, "--now", ALL_DUE, "--backend", "smtp", "--no-throttle", "--push", env=env)
    assert result.exit_code == 1
    assert result.output.startswith("data/dispatch:1: cannot read the ledger branch origin/ledger: ")
    assert "ERROR: Permission to free-assange/letter.git denied." in result.output
    assert "could send again what it records as sent" in result.output and "--local-ledger" in result.output
    assert "Traceback" not in result.output
    assert len(smtp_server.messages) == 1 and not (work / LEDGER).exists()  # nothing sent, no empty ledger


def test_local_ledger_sends_from_the_copy_here_when_told(remote: Path, tmp_path: Path,
                                                         smtp_server: SmtpTestServer) -> None:
    work = remotes.clone(remote, tmp_path / "work")
    remotes.refuse_reads(work)
    said = send(work, smtp_server, "--local-ledger")
    assert "note: --local-ledger: data/dispatch/ is used as it is here" in said
    assert len(smtp_server.messages) == 3


def test_commands_that_send_nothing_warn_and_use_the_copy_here(remote: Path, tmp_path: Path) -> None:
    work = remotes.clone(remote, tmp_path / "work")
    with Ledger(work / LEDGER) as book:
        book.append("s-1", "unknown", "pt-lisbon", "<1@x>")
    remotes.refuse_reads(work)
    result = run(work, "dispatch", "resolve", "s-1", "--sent")
    assert result.exit_code == 0, result.output
    assert "warning: cannot read the ledger branch origin/ledger: " in result.output
    assert "using data/dispatch/ as it is here" in result.output
    assert states(work) == {"s-1": "sent"}
    plan = dispatch(work, "--now", ALL_DUE, "--backend", "smtp", "--plan")
    assert plan.exit_code == 0 and "warning: cannot read the ledger branch" in plan.output


def test_resolve_reads_the_branch_first_and_push_ledger_publishes_it(remote: Path, tmp_path: Path) -> None:
    """An organiser settles a letter recorded `unknown` by a run: the line is on the branch only."""
    runner = remotes.clone(remote, tmp_path / "runner")
    with Ledger(runner / LEDGER) as book:
        book.append("s-1", "unknown", "pt-lisbon", "<1@x>")
    checkpoint.push_ledger(runner)
    laptop = remotes.clone(remote, tmp_path / "laptop")
    result = run(laptop, "dispatch", "resolve", "s-1", "--sent")
    assert result.exit_code == 0 and "restored the ledger from origin/ledger" in result.output
    assert run(laptop, "push-ledger").exit_code == 0
    assert Ledger(runner / LEDGER).state("s-1") == "unknown"
    checkpoint.restore(runner)
    assert Ledger(runner / LEDGER).state("s-1") == "sent"


def test_pull_ledger_keeps_lines_only_here_and_says_so(remote: Path, tmp_path: Path) -> None:
    one, two = remotes.clone(remote, tmp_path / "one"), remotes.clone(remote, tmp_path / "two")
    for where, key in ((one, "s-1"), (two, "s-2")):
        with Ledger(where / LEDGER) as book:
            book.append(key, "sent", "pt-lisbon", f"<{key}@x>")
    checkpoint.push_ledger(one)
    result = run(two, "pull-ledger")
    assert result.exit_code == 0, result.output
    assert "restored the ledger from origin/ledger" in result.output
    assert "1 line only here kept (`campaign push-ledger` pushes them)" in result.output
    assert set(states(two)) == {"s-1", "s-2"}
    assert git(two, "status", "--porcelain") == ""  # data/dispatch/ is git-ignored on main


def test_pull_ledger_errors_are_clear(remote: Path, tmp_path: Path, repo: Path) -> None:
    work = remotes.clone(remote, tmp_path / "work")
    assert run(work, "pull-ledger").output.startswith("no ledger branch origin/ledger yet")
    remotes.refuse_reads(work)
    result = run(work, "pull-ledger")
    assert result.exit_code == 1 and result.output.startswith("data/dispatch:1: cannot read the ledger branch ")
    git(work, "remote", "rename", "origin", "upstream")
    result = run(work, "pull-ledger")
    assert result.exit_code == 1 and "data/dispatch:1: no git remote 'origin' in " in result.output
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "data").mkdir()
    with pytest.raises(checkpoint.NoRemote, match="is not a git repository"):
        checkpoint.restore(plain)


def test_the_site_is_built_from_the_ledger_branch(tmp_path: Path, smtp_server: SmtpTestServer) -> None:
    """The deploy workflow's steps: a fresh checkout of main, `campaign pull-ledger`, the build
    (the English site here; `campaign build` runs the same hooks once per language)."""
    site_repo = make_repo(tmp_path / "source")
    add_signatures(site_repo, "pt-lisbon", 2)
    remote = bare_remote(init_repo(site_repo), tmp_path / "remote.git")
    remotes.protect(remote, "main")
    send(remotes.clone(remote, tmp_path / "runner"), smtp_server, "--push")
    deploy = remotes.clone(remote, tmp_path / "deploy")
    assert run(deploy, "pull-ledger").exit_code == 0
    built = build(deploy)
    assert built.returncode == 0, built.stderr[-3000:]
    home = (deploy / "site" / "index.html").read_text(encoding="utf-8")
    assert '<span class="campaign-counter__value" data-counter="sent">2</span>' in home


def test_the_workflows_read_and_push_the_ledger_branch_only() -> None:
    flows = ROOT / ".github" / "workflows"
    deploy = yaml.safe_load((flows / "deploy.yml").read_text(encoding="utf-8"))["jobs"]["build"]
    runs = [s.get("run", "") for s in deploy["steps"]]
    pull = runs.index("campaign pull-ledger")
    assert pull < runs.index(next(r for r in runs if r.startswith("campaign build")))
    assert deploy["steps"][pull]["env"] == {"GITHUB_TOKEN": "${{ github.token }}"}  # a private repository
    assert deploy["permissions"] == {"contents": "read"}
    job = yaml.safe_load((flows / "dispatch.yml").read_text(encoding="utf-8"))["jobs"]["dispatch"]
    runs = [s.get("run", "") for s in job["steps"]]
    assert not any("git " in r for r in runs)  # every push is `campaign push-ledger`'s, to the ledger branch
    assert "campaign push-ledger" in runs and job["permissions"] == {"contents": "write"}


def test_union_is_keyed_per_letter_and_never_undoes_a_sent_letter(tmp_path: Path) -> None:
    """Two copies that grew apart (a run, and an organiser's resolve): merged either way round,
    every line of both is there once and every letter of either has its state from both."""
    base = tmp_path / "base.jsonl"
    with Ledger(base) as book:
        book.append("s-1", "sending", "pt-lisbon", "<1@x>")
        book.append("s-2", "unknown", "pt-lisbon", "<2@x>")
    ours, theirs = tmp_path / "ours.jsonl", tmp_path / "theirs.jsonl"
    for copy in (ours, theirs):
        copy.write_bytes(base.read_bytes())
    with Ledger(ours) as book:
        book.append("s-1", "sent", "pt-lisbon", "<1@x>", attempt=1)
        book.append("s-3", "deferred", "pt-lisbon", "<3@x>", attempt=1)
    with Ledger(theirs) as book:
        book.append("s-2", "resolved", "pt-lisbon", "<2@x>", outcome="sent")
        book.append("s-1", "deferred", "pt-lisbon", "<1@x>", attempt=1)
    a, b = ours.read_bytes(), theirs.read_bytes()
    for merged in (union(a, b), union(b, a)):
        lines = merged.splitlines()
        assert len(lines) == len(set(lines)) == len(set(a.splitlines()) | set(b.splitlines()))
        out = tmp_path / "merged.jsonl"
        out.write_bytes(merged)
        assert {k: v.state for k, v in Ledger(out).letters.items()} == {"s-1": "sent", "s-2": "sent", "s-3": "deferred"}
    assert union(b, a).startswith(b) and union(a, b).startswith(a)  # the branch's file only ever grows


@pytest.mark.parametrize(("value", "why"), [
    ("'a..b'", "is not a git branch name"), ("'ledger.lock'", "is not a git branch name"),
    ("'records/'", "is not a git branch name"), ("'records/.hidden'", "is not a git branch name"),
    ("'-x'", "has an invalid format"),
])
def test_a_bad_ledger_branch_setting_is_a_clear_error(repo: Path, value: str, why: str) -> None:
    configure(repo, ledger_branch=value)
    result = run(repo, "validate")
    assert result.exit_code == 1 and "data/campaign.yaml:" in result.output and why in result.output
    with pytest.raises(CampaignError):
        checkpoint.push_ledger(repo)


def test_the_ledger_is_never_kept_on_the_intake_branch(remote: Path, tmp_path: Path) -> None:
    work = remotes.clone(remote, tmp_path / "work")
    configure(work, ledger_branch="'intake/signatures'")
    result = run(work, "push-ledger")
    assert result.exit_code == 1
    assert "data/campaign.yaml:1: the ledger branch 'intake/signatures' is intake.branch" in result.output
    assert remotes.tip(remote, "intake/signatures") is None


def test_the_ledger_branch_over_github_s_smart_http_with_the_workflow_token(remote: Path, tmp_path: Path) -> None:
    """As on a runner: an https-like remote, the token only in GITHUB_TOKEN (never in .git/config);
    a wrong token stops a read with a clear error and a push at once, without retries."""
    with FakeGitHub("free-assange/letter", token="t0ken", git_repository=remote) as gh:
        url = f"{gh.url}/free-assange/letter.git"
        runner, other = (remotes.clone(remote, tmp_path / name) for name in ("runner", "other"))
        for where in (runner, other):
            git(where, "remote", "set-url", "origin", url)
        with Ledger(runner / LEDGER) as book:
            book.append("s-1", "sent", "pt-lisbon", "<1@x>")
        good = {**os.environ, "GITHUB_TOKEN": "t0ken"}
        assert checkpoint.push_ledger(runner, environ=good) == "pushed the ledger to origin/ledger"
        assert checkpoint.restore(other, environ=good).startswith("restored the ledger from origin/ledger")
        assert states(other) == {"s-1": "sent"}
        assert "t0ken" not in (other / ".git" / "config").read_text() + (runner / ".git" / "config").read_text()
        assert {token for _, _, token in gh.git_requests} == {"t0ken"}

        bad = {**os.environ, "GITHUB_TOKEN": "expired"}
        with pytest.raises(checkpoint.Unreachable, match="cannot read the ledger branch origin/ledger: fatal: could not "
                                                         "read Username"):
            checkpoint.restore(other, environ=bad)
        with Ledger(runner / LEDGER) as book:
            book.append("s-2", "sent", "pt-lisbon", "<2@x>")
        pauses: list[float] = []
        with pytest.raises(checkpoint.Refused, match="needs a token that may write the repository's contents"):
            checkpoint.push_ledger(runner, environ=bad, sleep=pauses.append)
        assert pauses == []


def test_a_first_run_makes_the_branch_before_its_first_letter(remote: Path, tmp_path: Path,
                                                              smtp_server: SmtpTestServer) -> None:
    """A first run has no lines to push yet: it makes the branch anyway, so a ledger branch the
    server refuses is found before a letter goes out (and a run before the day checks it)."""
    remotes.protect(remote, "main", "ledger")
    work = remotes.clone(remote, tmp_path / "work")
    result = dispatch(work, "--now", ALL_DUE, "--backend", "smtp", "--no-throttle", "--push", env=smtp_env(smtp_server))
    assert result.exit_code == 1 and "origin/ledger refused the ledger push [remote rejected]" in result.output
    assert smtp_server.messages == [] and remotes.tip(remote, "ledger") is None

    remotes.protect(remote, "main")
    early = dispatch(work, "--now", "2026-12-01T09:00:00Z", "--backend", "smtp", "--push", env=smtp_env(smtp_server))
    assert early.exit_code == 0, early.output  # before the day: nothing sent, the branch made
    assert smtp_server.messages == [] and remotes.files(remote, "ledger") == [LEDGER]
    assert remotes.show(remote, "ledger", LEDGER) == ""
