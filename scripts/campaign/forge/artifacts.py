"""Workflow artifacts through GitHub's REST API: the latest one of a name from a trusted run.

Used to restore the base summary on an empty runner (`review/summary.py`). A workflow's token
needs `actions: read`. Endpoints (API version 2022-11-28), served by tests/support/github.py too:

    GET /repos/{repo}/actions/workflows/{file}/runs?branch=&event=push&status=success&head_sha=
    GET /repos/{repo}/actions/runs/{run_id}/artifacts?name=
    GET /repos/{repo}/actions/artifacts/{artifact_id}/zip   (302 to a short-lived blob URL)
"""

from __future__ import annotations

from dataclasses import dataclass

from campaign.core.errors import ForgeError
from campaign.forge.github import GitHubForge


@dataclass
class Artifacts:
    """The artifacts of one repository's workflow runs."""

    forge: GitHubForge

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Artifacts:
        """GITHUB_REPOSITORY, GITHUB_TOKEN (or CAMPAIGN_GITHUB_TOKEN) and GITHUB_API_URL, as a workflow has them."""
        return cls(GitHubForge.from_env(None, env=env))

    def latest(self, workflow: str, name: str, *, branch: str, head_sha: str, max_bytes: int) -> bytes | None:
        """The zip archive of artifact `name` from the latest successful push run of `workflow`
        on `branch` at commit `head_sha`; None when there is none (or it expired)."""
        params = {"branch": branch, "event": "push", "status": "success", "head_sha": head_sha, "per_page": "1"}
        found = self.forge.call("GET", f"/actions/workflows/{workflow}/runs", params=params, ok=(200, 404))
        if found.status_code == 404:
            return None  # no such workflow in this repository
        for run in found.json().get("workflow_runs", [])[:1]:
            if run.get("head_sha") != head_sha or run.get("event") != "push" or run.get("head_branch") != branch:
                return None  # an answer to another question: nothing to trust
            listed = self.forge.call("GET", f"/actions/runs/{run['id']}/artifacts", params={"name": name}).json()
            for artifact in listed.get("artifacts", []):
                if artifact.get("name") != name or artifact.get("expired"):
                    continue
                if int(artifact.get("size_in_bytes", 0)) > max_bytes:
                    raise ForgeError(f"the {name} artifact is larger than {max_bytes} bytes")
                return self.forge.download(f"/actions/artifacts/{artifact['id']}/zip", max_bytes)
        return None
