"""GitHub Actions' workflow runs and artifacts for FakeGitHub (tests/support/github.py).

The three endpoints `campaign.forge.artifacts` reads, with GitHub's REST shapes (API version
2022-11-28), reduced to the fields a client looks at: the runs of a workflow file (filtered by
`branch`, `event`, `status` and `head_sha`, newest first), a run's artifacts (by `name`), and an
artifact's zip, answered as GitHub does with a 302 to a short-lived blob URL that must be fetched
*without* the API token (the fake's blob route refuses one), or 410 once it has expired.

    run = gh.actions.publish("base-summary.yml", "base-summary", {"base-summary.json": data}, head_sha=sha)
"""

from __future__ import annotations

import datetime as dt
import io
import secrets
import zipfile
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

BLOB = "/_blob/artifacts"
"""Where an artifact's zip is served (the real one is another host; its URL carries a signature)."""


def _stamp(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class FakeActions:
    repository: str
    default_branch: str
    runs: list[dict[str, Any]] = field(default_factory=list)
    artifacts: dict[int, dict[str, Any]] = field(default_factory=dict)
    signatures: dict[str, int] = field(default_factory=dict)
    """Blob URL signature -> artifact id (each signature is good once, like a short-lived URL)."""
    next_id: int = 7000

    def publish(self, workflow: str, name: str, files: dict[str, bytes], *, head_sha: str, branch: str | None = None,
                event: str = "push", conclusion: str = "success", expired: bool = False,
                head_repository: str | None = None) -> int:
        """A completed run of `workflow` that uploaded artifact `name` (a zip of `files`); its id."""
        self.next_id += 1
        run_id = self.next_id
        now = dt.datetime.now(dt.UTC)
        self.runs.insert(0, {"id": run_id, "name": workflow.removesuffix(".yml"), "path": f".github/workflows/{workflow}",
                             "head_branch": branch or self.default_branch, "head_sha": head_sha, "event": event,
                             "status": "completed", "conclusion": conclusion, "run_number": len(self.runs) + 1,
                             "created_at": _stamp(now), "repository": {"full_name": self.repository},
                             "head_repository": {"full_name": head_repository or self.repository}})
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zipped:
            for path, data in files.items():
                zipped.writestr(path, data)
        self.next_id += 1
        self.artifacts[self.next_id] = {"name": name, "run": run_id, "zip": buffer.getvalue(), "expired": expired,
                                        "created": now}
        return run_id

    def _artifact_json(self, base: str, number: int) -> dict[str, Any]:
        a = self.artifacts[number]
        run = next(r for r in self.runs if r["id"] == a["run"])
        return {"id": number, "node_id": f"MDg6QXJ0aWZhY3Q{number}", "name": a["name"], "size_in_bytes": len(a["zip"]),
                "url": f"{base}/actions/artifacts/{number}", "archive_download_url": f"{base}/actions/artifacts/{number}/zip",
                "expired": a["expired"], "created_at": _stamp(a["created"]),
                "expires_at": _stamp(a["created"] + dt.timedelta(days=90)), "updated_at": _stamp(a["created"]),
                "workflow_run": {"id": run["id"], "repository_id": 1, "head_repository_id": 1,
                                 "head_branch": run["head_branch"], "head_sha": run["head_sha"]}}

    def register(self, app: FastAPI, base: Any, error: Any) -> None:
        """Add the routes to `app`; `base()` is the API's URL of the repository, `error` GitHub's error body."""
        repo = "/repos/{owner}/{name}/actions"

        @app.get(repo + "/workflows/{workflow}/runs")
        async def workflow_runs(workflow: str, request: Request) -> Any:
            runs = [r for r in self.runs if r["path"] == f".github/workflows/{workflow}"]
            if not runs:
                return error(404, "Not Found")
            q = request.query_params
            for key, value in (("head_branch", q.get("branch")), ("event", q.get("event")), ("head_sha", q.get("head_sha"))):
                runs = [r for r in runs if value is None or r[key] == value]
            if status := q.get("status"):  # a status or a conclusion, as GitHub accepts either
                runs = [r for r in runs if status in (r["status"], r["conclusion"])]
            per_page = int(q.get("per_page", "30"))
            return {"total_count": len(runs), "workflow_runs": runs[:per_page]}

        @app.get(repo + "/runs/{run_id}/artifacts")
        async def run_artifacts(run_id: int, request: Request) -> Any:
            if not any(r["id"] == run_id for r in self.runs):
                return error(404, "Not Found")
            name = request.query_params.get("name")
            found = [n for n, a in self.artifacts.items() if a["run"] == run_id and name in (None, a["name"])]
            return {"total_count": len(found), "artifacts": [self._artifact_json(base(), n) for n in found]}

        @app.get(repo + "/artifacts/{number}/{archive_format}")
        async def download(number: int, archive_format: str, request: Request) -> Any:
            if number not in self.artifacts or archive_format != "zip":
                return error(404, "Not Found")
            if self.artifacts[number]["expired"]:
                return error(410, "Artifact has expired")
            signature = secrets.token_urlsafe(16)
            self.signatures[signature] = number
            return Response(status_code=302, headers={"Location": f"{request.base_url}{BLOB.lstrip('/')}/{number}?sig={signature}"})

        @app.get(BLOB + "/{number}")
        async def blob(number: int, request: Request) -> Any:
            if "authorization" in request.headers:  # as the blob store does: its URL is the credential
                return JSONResponse({"message": "the blob URL carries its own credential; send no Authorization"}, 400)
            if self.signatures.pop(request.query_params.get("sig", ""), None) != number:
                return JSONResponse({"message": "AuthenticationFailed"}, 403)
            return Response(self.artifacts[number]["zip"], 200, media_type="application/zip")
