"""The `github` forge against a recorded fake of the GitHub REST API, served on loopback.

The GitHub API cannot be reached from where these tests run. `campaign.intake.testing.FakeGitHub`
serves the few endpoints the forge uses (refs, commits, trees, blobs, pulls, issue comments),
with GitHub's routes, status codes and response shapes (API version 2022-11-28), on 127.0.0.1;
the forge talks to it over real HTTP exactly as it would to api.github.com.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from campaign.forge.base import ForgeError
from campaign.forge.github import GitHubForge
from support.github import FakeGitHub

REPO = "free-assange/letter"


@pytest.fixture
def gh() -> Iterator[FakeGitHub]:
    with FakeGitHub(REPO, token="s3cret") as fake:
        fake.seed({"README.md": b"# letter\n", "data/campaign.yaml": b"id: 'x'\n"})
        yield fake


@pytest.fixture
def forge(gh: FakeGitHub) -> Iterator[GitHubForge]:
    forge = GitHubForge(REPO, "s3cret", api_url=gh.url)
    yield forge
    forge.close()


def publish(forge: GitHubForge, files: dict[str, bytes], **kw: object):
    return forge.publish(files, branch="intake/signatures", message="intake: add", title="Signatures from the form",
                         body="batch", **kw)


def test_first_flush_creates_the_branch_and_one_pull_request(gh: FakeGitHub, forge: GitHubForge) -> None:
    result = publish(forge, {"data/signatories/aa/1.yaml": b"name: 'A'\n"})
    assert result.opened and result.number == 1 and result.url.endswith("/pull/1")
    assert gh.files("intake/signatures")["data/signatories/aa/1.yaml"] == b"name: 'A'\n"
    assert gh.files("intake/signatures")["README.md"] == b"# letter\n", "the base tree is kept"
    assert gh.commits[result.commit]["parents"] == [gh.refs["heads/main"]]
    (pull,) = gh.pulls
    assert (pull["head"], pull["base"], pull["maintainer_can_modify"]) == ("intake/signatures", "main", True)


def test_later_flushes_add_commits_to_the_same_pull_request(gh: FakeGitHub, forge: GitHubForge) -> None:
    first = publish(forge, {"data/signatories/aa/1.yaml": b"1\n"})
    second = publish(forge, {"data/signatories/bb/2.yaml": b"2\n"})
    assert not second.opened and second.number == first.number
    assert gh.commits[second.commit]["parents"] == [first.commit]
    assert len(gh.pulls) == 1
    assert set(gh.files("intake/signatures")) >= {"data/signatories/aa/1.yaml", "data/signatories/bb/2.yaml"}
    assert ("PATCH", f"/repos/{REPO}/pulls/1", {"title": "Signatures from the form", "body": "batch"}) in gh.requests


def test_after_the_pull_request_is_merged_a_new_one_starts_from_main(gh: FakeGitHub, forge: GitHubForge) -> None:
    first = publish(forge, {"data/signatories/aa/1.yaml": b"1\n"})
    forge.merge(first.number, gh.refs["heads/intake/signatures"])
    second = publish(forge, {"data/signatories/bb/2.yaml": b"2\n"})
    assert second.opened and second.number != first.number
    assert gh.commits[second.commit]["parents"] == [gh.refs["heads/main"]]
    assert [p["state"] for p in gh.pulls] == ["closed", "open"]


def test_binary_files_go_through_the_blob_endpoint(gh: FakeGitHub, forge: GitHubForge) -> None:
    photo = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
    publish(forge, {"docs/assets/actions/x/1.png": photo, "data/actions/x.yaml": b"type: 'call'\n"})
    assert gh.files("intake/signatures")["docs/assets/actions/x/1.png"] == photo
    assert sum(1 for method, path, _ in gh.requests if method == "POST" and path.endswith("/git/blobs")) == 1


def test_a_branch_moved_meanwhile_is_built_upon(gh: FakeGitHub, forge: GitHubForge) -> None:
    """Another flush won the race: the ref update is refused (422) and the commit is redone on the new tip."""
    publish(forge, {"data/signatories/aa/1.yaml": b"1\n"})
    original = forge.call

    def racing(method: str, path: str, **kw):  # type: ignore[no-untyped-def]
        if method == "PATCH" and "/git/refs/" in path and not getattr(racing, "done", False):
            racing.done = True  # type: ignore[attr-defined]
            other = GitHubForge(REPO, "s3cret", api_url=gh.url)
            other.publish({"data/signatories/cc/3.yaml": b"3\n"}, branch="intake/signatures", message="m",
                          title="t", body="b")
        return original(method, path, **kw)

    forge.call = racing  # type: ignore[method-assign]
    publish(forge, {"data/signatories/bb/2.yaml": b"2\n"})
    files = gh.files("intake/signatures")
    assert {"data/signatories/aa/1.yaml", "data/signatories/bb/2.yaml", "data/signatories/cc/3.yaml"} <= set(files)


def test_fresh_branches_are_reset_to_main(gh: FakeGitHub, forge: GitHubForge) -> None:
    forge.publish({"data/signatories/aa/1.yaml": b"1\n"}, branch="intake/issue-4", message="m", title="t", body="b")
    again = forge.publish({"data/signatories/aa/2.yaml": b"2\n"}, branch="intake/issue-4", message="m", title="t",
                          body="b", fresh=True)
    assert "data/signatories/aa/1.yaml" not in gh.files("intake/issue-4")
    assert gh.commits[again.commit]["parents"] == [gh.refs["heads/main"]]
    assert len(gh.pulls) == 1


def test_comment_close_and_merge_only_the_validated_head(gh: FakeGitHub, forge: GitHubForge) -> None:
    gh.open_issue(9)
    forge.comment(9, "Thank you")
    forge.close_issue(9)
    assert gh.issues[9] == {"state": "closed", "state_reason": "completed", "comments": ["Thank you"]}
    result = publish(forge, {"data/signatories/aa/1.yaml": b"1\n"})
    with pytest.raises(ForgeError, match="409"):
        forge.merge(result.number, "0" * 40)
    assert forge.merge(result.number, result.commit) == gh.refs["heads/main"]


def test_every_request_is_authenticated_and_a_bad_token_is_reported(gh: FakeGitHub) -> None:
    bad = GitHubForge(REPO, "wrong", api_url=gh.url)
    with pytest.raises(ForgeError, match="401: Bad credentials"):
        publish(bad, {"a.yaml": b"x"})
    with pytest.raises(ForgeError, match="CAMPAIGN_GITHUB_TOKEN"):
        GitHubForge.from_env(REPO, env={})
    assert GitHubForge.from_env(None, env={"CAMPAIGN_GITHUB_TOKEN": "t", "GITHUB_REPOSITORY": REPO}).repository == REPO


def test_an_unreachable_api_is_a_clear_error() -> None:
    forge = GitHubForge(REPO, "t", api_url="http://127.0.0.1:9", timeout=0.5, retry_pause=0.01)
    with pytest.raises(ForgeError, match="cannot reach"):
        publish(forge, {"a.yaml": b"x"})
