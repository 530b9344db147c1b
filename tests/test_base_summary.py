"""The base summary on an empty runner: written by the trusted workflow's `validate --summary`,
restored by the pull-request check (`--restore FILE|github`), and used only when it is of the
base's tree, by this code version, and whole; otherwise a full validation that says why."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from campaign.core.errors import CampaignError
from campaign.forge.artifacts import Artifacts
from campaign.forge.github import GitHubForge
from campaign.review import incremental, summary
from support.builders import git, run, write
from support.github import FakeGitHub
from test_prcheck import FP, commit
from test_validate import GOOD

USED = "base summary used: only the added files checked"
IN_FULL = ": validated in full"


@pytest.fixture
def published(git_repo: Path, tmp_path: Path) -> Path:
    """The trusted workflow's run on `main` (two signatures): the summary file it uploads."""
    write(git_repo, "data/signatories/aa/jose.yaml", GOOD.replace("Ana Pereira", "José Pereira") + FP)
    write(git_repo, "data/signatories/bb/rui.yaml", GOOD.replace("Ana", "Rui"))
    commit(git_repo, "two signatures")
    out = tmp_path / "artifact" / summary.NAME
    out.parent.mkdir()
    result = run(git_repo, "validate", "--summary", str(out))
    assert result.exit_code == 0, result.output
    assert f"base summary written to {out}" in result.output
    return out


def fresh_pr(origin: Path, tmp_path: Path, files: dict[str, str]) -> Path:
    """A fresh clone of `origin` (nothing cached) on a branch adding `files`, as a runner checks it out."""
    clone = tmp_path / "runner"
    git(tmp_path, "clone", "-q", str(origin), str(clone))
    git(clone, "checkout", "-qb", "pr")
    for rel, text in files.items():
        write(clone, rel, text)
    return clone


def check(root: Path, *options: str) -> tuple[int, str, str]:
    """Exit code, output without the note, and the note (how it was checked)."""
    result = run(root, "validate", "--base", "origin/main", *options)
    assert "Traceback" not in result.output
    lines = result.output.splitlines(keepends=True)
    notes = [ln.strip() for ln in lines if ln.startswith("base summary")]
    assert len(notes) == 1, result.output
    return result.exit_code, "".join(ln for ln in lines if not ln.startswith("base summary")), notes[0]


EVA = {"data/signatories/cc/eva.yaml": GOOD.replace("Ana", "Eva")}
DUPLICATE = {"data/signatories/cc/dup.yaml": GOOD.replace("Ana", "Rui")}


def test_a_good_summary_is_restored_and_only_the_added_files_are_checked(git_repo: Path, tmp_path: Path, published: Path) -> None:
    clone = fresh_pr(git_repo, tmp_path, EVA)
    code, out, note = check(clone, "--restore", str(published))
    assert code == 0
    assert out == "ok: 1 added file checked against 2 signatures, 5 missions and 0 actions already validated\n"
    assert note == f"base summary restored from {published}; {USED}"
    assert (clone / ".cache/campaign" / summary.NAME).read_bytes() == published.read_bytes()  # a file copy


def test_a_restored_summary_finds_duplicates_of_the_base(git_repo: Path, tmp_path: Path, published: Path) -> None:
    clone = fresh_pr(git_repo, tmp_path, DUPLICATE)
    code, out, note = check(clone, "--restore", str(published))
    assert code == 1 and note.endswith(USED)
    assert "data/signatories/cc/dup.yaml:2: duplicate signature: data/signatories/bb/rui.yaml already has this name" in out


def test_a_missing_summary_means_a_full_validation(git_repo: Path, tmp_path: Path, published: Path) -> None:
    clone = fresh_pr(git_repo, tmp_path, EVA)
    code, out, note = check(clone, "--restore", str(tmp_path / "nowhere.json"))
    assert (code, out) == (0, "ok: 3 signatures, 5 missions, 0 actions\n")
    assert note == f"base summary not restored (none published for this base); base summary missing (none made for this base yet){IN_FULL}"


def test_a_stale_summary_of_another_tree_means_a_full_validation(git_repo: Path, tmp_path: Path, published: Path) -> None:
    write(git_repo, "data/signatories/dd/mia.yaml", GOOD.replace("Ana", "Mia"))
    commit(git_repo, "merged since the summary was made")
    clone = fresh_pr(git_repo, tmp_path, {"data/signatories/cc/again.yaml": GOOD.replace("Ana", "Mia")})
    code, out, note = check(clone, "--restore", str(published))
    assert code == 1 and "duplicate signature" in out and "mia.yaml" in out, out  # the summary would miss it
    old = json.loads(published.read_bytes())["tree"]
    assert f"base summary stale (it is of tree {old[:12]}, the base is " in note and note.endswith(IN_FULL)


def reseal(file: Path, **changes: object) -> None:
    """Change the summary file's header (tree, code) and keep its checksum right."""
    stored = json.loads(file.read_bytes())
    stored.update(changes)
    file.write_bytes(json.dumps(stored).encode())


def test_a_summary_of_another_code_version_is_stale(git_repo: Path, tmp_path: Path, published: Path) -> None:
    reseal(published, code="0" * 64)
    clone = fresh_pr(git_repo, tmp_path, EVA)
    code, out, note = check(clone, "--restore", str(published))
    assert code == 0 and out == "ok: 3 signatures, 5 missions, 0 actions\n"
    assert note.endswith(f"base summary stale (made by another version of the tool){IN_FULL}")


def test_a_tampered_summary_is_detected_and_the_tree_validated_in_full(git_repo: Path, tmp_path: Path, published: Path) -> None:
    """Someone removed Rui from the summary (so a second Rui would pass): the checksum no longer
    matches, the full validation runs, and the duplicate is found anyway."""
    stored = json.loads(published.read_bytes())
    stored["summary"]["names"] = {k: v for k, v in stored["summary"]["names"].items() if "rui" not in k}
    published.write_bytes(json.dumps(stored).encode())
    clone = fresh_pr(git_repo, tmp_path, DUPLICATE)
    code, out, note = check(clone, "--restore", str(published))
    assert code == 1 and "duplicate signature" in out
    assert note.endswith(f"base summary tampered (its content does not match its checksum){IN_FULL}")


@pytest.mark.parametrize("damage", [b"", b"\x00\xff", b'{"format": 1}', b"[]", b'{"format": 1, "tree": 5'])
def test_a_damaged_summary_is_detected(git_repo: Path, tmp_path: Path, published: Path, damage: bytes) -> None:
    published.write_bytes(damage)
    clone = fresh_pr(git_repo, tmp_path, EVA)
    code, out, note = check(clone, "--restore", str(published))
    assert code == 0 and out == "ok: 3 signatures, 5 missions, 0 actions\n"
    assert "base summary stale" in note or "base summary tampered (not a summary file" in note, note


def test_a_summary_is_only_written_for_a_committed_tree(git_repo: Path, tmp_path: Path) -> None:
    write(git_repo, "data/signatories/cc/eva.yaml", GOOD.replace("Ana", "Eva"))  # untracked
    result = run(git_repo, "validate", "--summary", str(tmp_path / "s.json"))
    assert result.exit_code == 1 and ".:1: the work tree differs from HEAD" in result.output
    with pytest.raises(CampaignError):
        incremental.validate(git_repo, write=tmp_path / "s.json")
    assert not (tmp_path / "s.json").exists()
    both = run(git_repo, "validate", "--base", "main", "--summary", str(tmp_path / "s.json"))
    assert both.exit_code == 1 and "leave out --base" in both.output


def test_read_checks_tree_code_and_checksum(tmp_path: Path) -> None:
    file = tmp_path / summary.NAME
    assert summary.read(file, "t", "c").reason.startswith("missing")
    assert summary.write(file, summary.Summary(True, ["pt-lisbon"], signatures=3), "t", "c")
    good = summary.read(file, "t", "c").summary
    assert good is not None and good.ok and good.missions == ["pt-lisbon"] and good.signatures == 3
    assert summary.read(file, "other", "c").reason.startswith("stale")
    assert summary.read(file, "t", "other").reason.startswith("stale")
    body = json.loads(file.read_bytes())
    assert body["checksum"] == hashlib.sha256(summary.encode(good, "t", "c").split(b',"summary":', 1)[1][:-1]).hexdigest()
    file.write_bytes(file.read_bytes().replace(b'"signatures":3', b'"signatures":4'))
    assert summary.read(file, "t", "c").reason.startswith("tampered")


# --- the artifact of the trusted workflow, through GitHub's API (the recorded fake) ---------------


def github_env(monkeypatch: pytest.MonkeyPatch, gh: FakeGitHub, token: str = "test-token") -> None:
    monkeypatch.setenv("GITHUB_REPOSITORY", gh.repository)
    monkeypatch.setenv("GITHUB_TOKEN", token)
    monkeypatch.setenv("GITHUB_API_URL", gh.url)
    monkeypatch.delenv("CAMPAIGN_GITHUB_TOKEN", raising=False)
    monkeypatch.delenv("CAMPAIGN_GITHUB_API", raising=False)


def head(repo: Path) -> str:
    return git(repo, "rev-parse", "HEAD").strip()


def test_the_artifact_of_the_base_commit_is_downloaded(git_repo: Path, tmp_path: Path, published: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeGitHub() as gh:
        github_env(monkeypatch, gh)
        gh.actions.publish(summary.WORKFLOW, summary.ARTIFACT, {summary.NAME: b"older"}, head_sha="1" * 40)
        gh.actions.publish(summary.WORKFLOW, summary.ARTIFACT, {summary.NAME: b"from a PR"}, head_sha=head(git_repo),
                           event="pull_request", branch="main", head_repository="someone/fork")
        gh.actions.publish(summary.WORKFLOW, summary.ARTIFACT, {summary.NAME: published.read_bytes()}, head_sha=head(git_repo))
        clone = fresh_pr(git_repo, tmp_path, EVA)
        code, out, note = check(clone, "--restore", "github")
    assert code == 0 and out.startswith("ok: 1 added file checked")
    # neither the older commit's artifact nor the pull request run's (both would not be USED)
    assert note == f"base summary restored from the workflow artifact; {USED}"


def test_no_artifact_for_the_base_commit_means_a_full_validation(git_repo: Path, tmp_path: Path, published: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeGitHub() as gh:
        github_env(monkeypatch, gh)
        gh.actions.publish(summary.WORKFLOW, summary.ARTIFACT, {summary.NAME: published.read_bytes()}, head_sha="1" * 40)
        clone = fresh_pr(git_repo, tmp_path, EVA)
        code, out, note = check(clone, "--restore", "github")  # the run for the base is still going
    assert (code, out) == (0, "ok: 3 signatures, 5 missions, 0 actions\n")
    assert note.startswith("base summary not restored (none published for this base); base summary missing")


@pytest.mark.parametrize("case", ["expired", "bad token", "no file in the zip", "no workflow"])
def test_a_download_that_fails_means_a_full_validation(git_repo: Path, tmp_path: Path, published: Path,
                                                       monkeypatch: pytest.MonkeyPatch, case: str) -> None:
    with FakeGitHub() as gh:
        github_env(monkeypatch, gh, "wrong" if case == "bad token" else "test-token")
        files = {"other.json": b"{}"} if case == "no file in the zip" else {summary.NAME: published.read_bytes()}
        workflow = "other.yml" if case == "no workflow" else summary.WORKFLOW
        gh.actions.publish(workflow, summary.ARTIFACT, files, head_sha=head(git_repo), expired=case == "expired")
        clone = fresh_pr(git_repo, tmp_path, EVA)
        code, out, note = check(clone, "--restore", "github")
    assert (code, out) == (0, "ok: 3 signatures, 5 missions, 0 actions\n")
    assert note.startswith("base summary not restored (") and note.endswith(IN_FULL)
    if case == "bad token":
        assert "401: Bad credentials" in note
    if case == "no file in the zip":
        assert f"not a zip archive holding {summary.NAME}" in note


def test_artifact_source_fetches_the_file_without_sending_the_token_to_the_blob(published: Path) -> None:
    with FakeGitHub(token="t0ken") as gh:
        gh.actions.publish(summary.WORKFLOW, summary.ARTIFACT, {summary.NAME: b"payload"}, head_sha="a" * 40)
        artifacts = Artifacts(GitHubForge(gh.repository, "t0ken", api_url=gh.url))
        source = summary.ArtifactSource(artifacts, "main", "a" * 40)
        assert source.fetch() == b"payload"  # the fake's blob route refuses a request carrying the token
        assert summary.ArtifactSource(artifacts, "main", "b" * 40).fetch() is None
        assert summary.ArtifactSource(artifacts, "other", "a" * 40).fetch() is None
        assert artifacts.latest(summary.WORKFLOW, "other-name", branch="main", head_sha="a" * 40, max_bytes=10**6) is None
