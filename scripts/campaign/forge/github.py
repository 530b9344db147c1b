"""The `github` forge: branch, commit, pull request and issue comments through the REST API.

Authentication is a fine-grained personal access token or a GitHub App installation token
(`actions/create-github-app-token` in a workflow) with contents, pull-requests and issues
write access to the one repository. Not the workflow's default GITHUB_TOKEN: pull requests it
opens do not trigger the validation workflow. A long-running service gives the App's id and
key instead (`app_token.AppToken`), and each request takes the current token from it.

Endpoints used (API version 2022-11-28), and nothing else; `tests/support/github.py`
(FakeGitHub) serves the same ones on loopback for the tests, since the real API cannot be reached there:

    GET   /repos/{repo}                           default branch
    GET   /repos/{repo}/git/ref/heads/{branch}    branch tips
    POST  /repos/{repo}/git/refs                  create the branch
    PATCH /repos/{repo}/git/refs/heads/{branch}   move it (fast-forward, or forced when fresh)
    GET   /repos/{repo}/git/commits/{sha}         the parent's tree
    POST  /repos/{repo}/git/blobs                 binary files (photos)
    POST  /repos/{repo}/git/trees                 the new tree (text files inline; `"sha": null` deletes a path)
    POST  /repos/{repo}/git/commits               the commit
    GET   /repos/{repo}/pulls?head=&base=&state=  the open pull request, if any
    POST  /repos/{repo}/pulls                     open one
    PATCH /repos/{repo}/pulls/{number}            update its title and text
    GET   /repos/{repo}/pulls/{number}            head sha and files' author (automerge)
    PUT   /repos/{repo}/pulls/{number}/merge      merge exactly the validated head (automerge)
    POST  /repos/{repo}/issues/{number}/comments  answer on an issue
    PATCH /repos/{repo}/issues/{number}           close it

and, for an App's token (`app_token.py`): GET /repos/{repo}/installation and
POST /app/installations/{id}/access_tokens; for the base summary (`artifacts.py`), the three
artifact endpoints listed there.
"""

from __future__ import annotations

import base64
import os
import socket
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from campaign.core.errors import ForgeError
from campaign.core.retry import backoff
from campaign.forge.app_token import AppToken
from campaign.forge.base import Published, check_paths

API = "https://api.github.com"
TOKEN_ENVS = ("CAMPAIGN_GITHUB_TOKEN", "GITHUB_TOKEN")


@dataclass
class GitHubForge:
    repository: str
    token: str | AppToken
    """A token, or the App's token source (asked before every request)."""
    api_url: str = API
    base: str | None = None
    timeout: float = 30.0
    retry_pause: float = 0.5
    name: str = "github"
    client: httpx.Client = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # TCP_NODELAY: headers and body are written separately; without it each request with
        # a body waits for a delayed ACK (~40 ms).
        transport = httpx.HTTPTransport(socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)])
        self.client = httpx.Client(base_url=self.api_url.rstrip("/"), timeout=self.timeout, transport=transport, headers={
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28",
            "User-Agent": "campaign-intake",
        })

    @classmethod
    def from_env(cls, repository: str | None, base: str | None = None, env: dict[str, str] | None = None,
                 timeout: float = 30.0) -> GitHubForge:
        env = dict(os.environ) if env is None else env
        repository = repository or env.get("GITHUB_REPOSITORY", "")
        if not repository or "/" not in repository:
            raise ForgeError("the github forge needs the repository as owner/name (intake.repository in data/campaign.yaml)")
        api = env.get("CAMPAIGN_GITHUB_API") or env.get("GITHUB_API_URL") or API
        token: str | AppToken | None = AppToken.from_env(repository, api, env)
        token = token or next((env[name] for name in TOKEN_ENVS if env.get(name)), "")
        if not token:
            raise ForgeError("the github forge needs a token: set CAMPAIGN_GITHUB_TOKEN (a fine-grained token or an "
                             "App installation token with contents, pull-requests and issues write access), or "
                             "CAMPAIGN_GITHUB_APP_ID and CAMPAIGN_GITHUB_APP_KEY_FILE")
        return cls(repository, token, api, base, timeout)

    def bearer(self) -> str:
        """The token to send now (a fresh one from the App when the current one is old)."""
        return self.token if isinstance(self.token, str) else self.token.get()

    def close(self) -> None:
        self.client.close()

    # --- HTTP ---------------------------------------------------------------------------

    def call(self, method: str, path: str, *, ok: tuple[int, ...] = (200, 201), json: Any = None,
              params: dict[str, str] | None = None) -> httpx.Response:
        url = f"/repos/{self.repository}{path}"
        for attempt in range(3):
            try:
                response = self.client.request(method, url, json=json, params=params,
                                               headers={"Authorization": f"Bearer {self.bearer()}"})
            except httpx.HTTPError as exc:
                if attempt == 2:
                    raise ForgeError(f"cannot reach {self.api_url} ({type(exc).__name__}); try again later") from None
                time.sleep(backoff(attempt + 1, self.retry_pause))
                continue
            if response.status_code in (502, 503, 504) and attempt < 2:
                time.sleep(backoff(attempt + 1, self.retry_pause))
                continue
            if response.status_code in ok:
                return response
            raise ForgeError(f"GitHub answered {method} {url} with {response.status_code}: {_message(response)}")
        raise AssertionError("unreachable")  # pragma: no cover

    def download(self, path: str, max_bytes: int) -> bytes:
        """GET `path`, which answers with a redirect to a short-lived URL (an artifact's zip), and
        that URL without the token (it carries its own credential); at most `max_bytes`."""
        where = self.call("GET", path, ok=(302,)).headers.get("location", "")
        if not where.startswith(("https://", "http://")):
            raise ForgeError(f"GitHub answered GET {path} without a download address")
        try:
            with self.client.stream("GET", where) as response:
                if response.status_code != 200:
                    raise ForgeError(f"the download of {path} was answered with {response.status_code}")
                data = bytearray()
                for chunk in response.iter_bytes():
                    data += chunk
                    if len(data) > max_bytes:
                        raise ForgeError(f"the download of {path} is larger than {max_bytes} bytes")
                return bytes(data)
        except httpx.HTTPError as exc:
            raise ForgeError(f"cannot download {path} ({type(exc).__name__}); try again later") from None

    def default_branch(self) -> str:
        if not self.base:
            self.base = self.call("GET", "").json()["default_branch"]
        return self.base

    def _tip(self, branch: str) -> str | None:
        response = self.call("GET", f"/git/ref/heads/{branch}", ok=(200, 404))
        return None if response.status_code == 404 else response.json()["object"]["sha"]

    def open_pull(self, branch: str, base: str) -> dict[str, Any] | None:
        owner = self.repository.split("/")[0]
        pulls = self.call("GET", "/pulls", params={"head": f"{owner}:{branch}", "base": base, "state": "open"}).json()
        return pulls[0] if pulls else None

    # --- Forge --------------------------------------------------------------------------

    def publish(self, files: dict[str, bytes], *, branch: str, message: str, title: str, body: str,
                fresh: bool = False, removed: Sequence[str] = ()) -> Published:
        check_paths([*files, *removed])
        base = self.default_branch()
        for _attempt in range(4):
            base_sha = self._tip(base)
            if base_sha is None:
                raise ForgeError(f"the base branch {base!r} does not exist in {self.repository}")
            tip = self._tip(branch)
            pull = self.open_pull(branch, base) if tip else None
            parent = tip if tip and pull and not fresh else base_sha
            parent_tree = self.call("GET", f"/git/commits/{parent}").json()["tree"]["sha"]
            entries = [self._entry(path, content) for path, content in sorted(files.items())]
            entries += [{"path": path, "mode": "100644", "type": "blob", "sha": None} for path in sorted(removed)]  # null: delete
            tree = self.call("POST", "/git/trees", json={"base_tree": parent_tree, "tree": entries}).json()["sha"]
            commit = self.call("POST", "/git/commits", json={"message": message, "tree": tree, "parents": [parent]}).json()["sha"]
            if tip is None:
                moved = self.call("POST", "/git/refs", json={"ref": f"refs/heads/{branch}", "sha": commit}, ok=(201, 422))
            else:
                moved = self.call("PATCH", f"/git/refs/heads/{branch}", json={"sha": commit, "force": parent != tip},
                                   ok=(200, 422))
            if moved.status_code != 422:
                break
            time.sleep(0.2)  # the branch moved meanwhile (another flush): build on the new tip
        else:
            raise ForgeError(f"{branch} kept moving while committing; try again")
        if pull is None:
            pull = self.open_pull(branch, base)
        if pull is None:
            pull = self.call("POST", "/pulls", json={"title": title, "head": branch, "base": base, "body": body,
                                                      "maintainer_can_modify": True}).json()
            return Published(branch, commit, base, pull["html_url"], pull["number"], opened=True)
        self.call("PATCH", f"/pulls/{pull['number']}", json={"title": title, "body": body})
        return Published(branch, commit, base, pull["html_url"], pull["number"])

    def _entry(self, path: str, content: bytes) -> dict[str, str | None]:
        try:
            return {"path": path, "mode": "100644", "type": "blob", "content": content.decode("utf-8")}
        except UnicodeDecodeError:
            blob = self.call("POST", "/git/blobs", json={"content": base64.b64encode(content).decode(), "encoding": "base64"})
            return {"path": path, "mode": "100644", "type": "blob", "sha": blob.json()["sha"]}

    def comment(self, issue: int, body: str) -> None:
        self.call("POST", f"/issues/{issue}/comments", json={"body": body})

    def close_issue(self, issue: int) -> None:
        self.call("PATCH", f"/issues/{issue}", json={"state": "closed", "state_reason": "completed"})

    def pull(self, number: int) -> dict[str, Any]:
        return self.call("GET", f"/pulls/{number}").json()

    def merge(self, number: int, sha: str, method: str = "squash") -> str:
        """Merge pull request `number` only if its head is still `sha`; the merge commit id."""
        done = self.call("PUT", f"/pulls/{number}/merge", json={"sha": sha, "merge_method": method})
        return done.json()["sha"]


def _message(response: httpx.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return response.text[:200]
    return str(data.get("message", data))[:300] if isinstance(data, dict) else str(data)[:300]
