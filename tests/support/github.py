"""A recorded fake of the GitHub REST endpoints the `github` forge uses, served on loopback.

The real API cannot be reached from the test machines, so the forge is tested against this:
the routes, status codes and response shapes follow GitHub's REST API (version 2022-11-28)
as recorded from real responses, reduced to the fields the forge and a reviewer look at.
State (refs, commits, trees, blobs, pull requests, issues) is kept in memory and changed only
on the server's event loop (every handler is async), every request is logged in `requests`,
and a wrong token gets GitHub's 401.

    with FakeGitHub("free-assange/letter", token="t0ken") as gh:   # http://127.0.0.1:<port>
        gh.seed({"README.md": b"..."})                            # main's first commit
        forge = GitHubForge("free-assange/letter", "t0ken", api_url=gh.url)
        ...
        gh.files("intake/signatures"), gh.pulls, gh.issues[3]["comments"]

A GitHub App (`app_id` and the App's public key) mints installation tokens at GitHub's two
App endpoints, which check the App's JWT as GitHub does (RS256, `iss`, at most 10 minutes);
each token is accepted until it expires (`token_lifetime`). With `git_repository` (a bare
repository on disk) the fake also serves git's smart HTTP at `/{owner}/{name}.git` through
the real `git http-backend`, accepting a token as the password of `x-access-token`, as GitHub
does: the production intake clones and fetches from it.

Workflow runs and their artifacts (the base summary's restore) are `support/github_actions.py`,
in `gh.actions`. The default branch's rules (`forge/protection.py`): `gh.rulesets` (the
rulesets API's shape) and `gh.protection` (classic branch protection, as its PUT takes it);
`gh.require_code_owner_review()` turns it on either way, and `protection_readable = False`
answers 403 as GitHub does to a token without Administration: read.

For tests and local experiments only; uvicorn runs it in a thread.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import fnmatch
import hashlib
import json
import os
import secrets
import threading
import time
from pathlib import Path
from typing import Any

import jwt
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from support.github_actions import BLOB, FakeActions
from support.http import serve_in_thread

DOCS = "https://docs.github.com/rest"


def _sha(kind: str, data: bytes) -> str:
    return hashlib.sha1(f"{kind} {len(data)}\0".encode() + data).hexdigest()  # noqa: S324 - git object ids


class FakeGitHub:
    def __init__(self, repository: str = "free-assange/letter", token: str = "test-token",
                 default_branch: str = "main", app_id: str | None = None, app_public_key: bytes | None = None,
                 git_repository: Path | None = None) -> None:
        self.repository = repository
        self.app_id, self.app_public_key = app_id, app_public_key
        self.installation_id = 4242
        self.token_lifetime = 3600.0
        self.installation_tokens: dict[str, dict[str, Any]] = {}
        """Minted token -> what it was asked for and when it expires."""
        self.git_repository = git_repository
        self.git_requests: list[tuple[str, str, str | None]] = []
        """(method, path, token used) of every git request."""
        self.owner = repository.split("/")[0]
        self.token = token
        self.default_branch = default_branch
        self.blobs: dict[str, bytes] = {}
        self.trees: dict[str, dict[str, str]] = {}
        self.commits: dict[str, dict[str, Any]] = {}
        self.refs: dict[str, str] = {}
        self.pulls: list[dict[str, Any]] = []
        self.issues: dict[int, dict[str, Any]] = {}
        self.rulesets: list[dict[str, Any]] = []
        """Repository rulesets as GitHub's ruleset API shows them (id, target, enforcement, conditions, rules)."""
        self.protection: dict[str, dict[str, Any]] = {}
        """Branch -> its classic protection rule, as PUT /repos/{repo}/branches/{branch}/protection takes it."""
        self.protection_readable = True
        self.actions = FakeActions(repository, default_branch)
        """Workflow runs and their artifacts (`support/github_actions.py`)."""
        self.requests: list[tuple[str, str, Any]] = []
        self.lock = threading.RLock()
        self.url = ""
        self.app = self._build()
        self._server: Any = None
        self._thread: threading.Thread | None = None

    # --- state helpers ----------------------------------------------------------------------

    def _blob(self, data: bytes) -> str:
        sha = _sha("blob", data)
        self.blobs[sha] = data
        return sha

    def _tree(self, entries: dict[str, str]) -> str:
        sha = _sha("tree", repr(sorted(entries.items())).encode())
        self.trees[sha] = dict(entries)
        return sha

    def _commit(self, tree: str, parents: list[str], message: str) -> str:
        sha = _sha("commit", f"{tree}{parents}{message}{time.time_ns()}".encode())
        self.commits[sha] = {"tree": tree, "parents": parents, "message": message}
        return sha

    def seed(self, files: dict[str, bytes], message: str = "initial commit") -> str:
        """Give the default branch a first commit holding `files`."""
        with self.lock:
            tree = self._tree({path: self._blob(data) for path, data in files.items()})
            sha = self._commit(tree, [], message)
            self.refs[f"heads/{self.default_branch}"] = sha
            return sha

    def files(self, branch: str) -> dict[str, bytes]:
        """The files at the tip of `branch`."""
        with self.lock:
            tree = self.trees[self.commits[self.refs[f"heads/{branch}"]]["tree"]]
            return {path: self.blobs[sha] for path, sha in tree.items()}

    def require_code_owner_review(self, how: str = "ruleset", required: bool = True) -> None:
        """Protect the default branch with a pull request rule (`ruleset`, or classic `protection`)."""
        if how == "ruleset":
            self.rulesets.append({
                "id": 42 + len(self.rulesets), "name": "Protect the default branch", "target": "branch",
                "source_type": "Repository", "source": self.repository, "enforcement": "active",
                "conditions": {"ref_name": {"include": ["~DEFAULT_BRANCH"], "exclude": []}},
                "rules": [{"type": "deletion"}, {"type": "non_fast_forward"},
                          {"type": "pull_request", "parameters": {
                              "required_approving_review_count": 1, "dismiss_stale_reviews_on_push": False,
                              "require_code_owner_review": required, "require_last_push_approval": False,
                              "required_review_thread_resolution": False}}]})
        else:
            self.protection[self.default_branch] = {
                "required_status_checks": None, "enforce_admins": True, "restrictions": None,
                "required_pull_request_reviews": {"dismiss_stale_reviews": False, "require_code_owner_reviews": required,
                                                  "required_approving_review_count": 1}}

    def _applies(self, ruleset: dict[str, Any], branch: str) -> bool:
        names = ruleset.get("conditions", {}).get("ref_name", {})

        def match(pattern: str) -> bool:
            return pattern == "~ALL" or (pattern == "~DEFAULT_BRANCH" and branch == self.default_branch) or \
                fnmatch.fnmatchcase(f"refs/heads/{branch}", pattern)

        return (ruleset["enforcement"] == "active" and ruleset["target"] == "branch"
                and any(map(match, names.get("include", []))) and not any(map(match, names.get("exclude", []))))

    def _protection_json(self, branch: str) -> dict[str, Any]:
        """A classic protection rule as GET .../protection answers: flags become {url, enabled}."""
        rule, url = self.protection[branch], f"{self._base()}/branches/{branch}/protection"
        out: dict[str, Any] = {"url": url, "enforce_admins": {"url": f"{url}/enforce_admins",
                                                             "enabled": bool(rule.get("enforce_admins"))}}
        for name in ("required_linear_history", "allow_force_pushes", "allow_deletions"):
            out[name] = {"enabled": bool(rule.get(name))}
        if rule.get("required_pull_request_reviews") is not None:
            out["required_pull_request_reviews"] = {"url": f"{url}/required_pull_request_reviews",
                                                    **rule["required_pull_request_reviews"]}
        return out

    def open_issue(self, number: int) -> None:
        self.issues[number] = {"state": "open", "state_reason": None, "comments": []}

    def _ancestors(self, sha: str) -> set[str]:
        seen, todo = set(), [sha]
        while todo:
            current = todo.pop()
            if current not in seen:
                seen.add(current)
                todo += self.commits.get(current, {}).get("parents", [])
        return seen

    def _merged(self, base: str, head: str) -> dict[str, str]:
        """The base's files with the head's changes since their merge base applied (additions,
        changes and deletions), as a squash merge makes them."""
        tree = dict(self.trees[self.commits[base]["tree"]])
        ancestors, todo, fork = self._ancestors(base), [head], None
        while todo and fork is None:  # breadth first: the nearest common ancestor
            current = todo.pop(0)
            fork = current if current in ancestors else None
            todo += self.commits.get(current, {}).get("parents", [])
        was = self.trees[self.commits[fork]["tree"]] if fork else {}
        now = self.trees[self.commits[head]["tree"]]
        tree.update({path: sha for path, sha in now.items() if was.get(path) != sha})
        for path in set(was) - set(now):
            tree.pop(path, None)
        return tree

    # --- credentials --------------------------------------------------------------------

    def _token_ok(self, token: str) -> bool:
        with self.lock:
            minted = self.installation_tokens.get(token)
        return token == self.token or (minted is not None and minted["expires"] > time.time())

    def _app_jwt_problem(self, authorization: str) -> str | None:
        """Why the App's JWT is refused (GitHub's wording), or None."""
        if self.app_public_key is None:
            return "This endpoint needs a GitHub App; none is configured"
        try:
            claims = jwt.decode(authorization.removeprefix("Bearer "), self.app_public_key, algorithms=["RS256"],
                                options={"require": ["iat", "exp", "iss"]}, leeway=0)
        except jwt.PyJWTError as exc:
            return f"A JSON web token could not be decoded ({type(exc).__name__})"
        if str(claims["iss"]) != self.app_id:
            return "Integration not found"
        if claims["exp"] - claims["iat"] > 660:
            return "'Expiration time' claim ('exp') is too far in the future"
        return None

    def revoke_tokens(self) -> None:
        """Expire every minted installation token (as if an hour had passed)."""
        with self.lock:
            for minted in self.installation_tokens.values():
                minted["expires"] = 0.0

    async def _git_http(self, rest: str, request: Request) -> Response:
        """git's smart HTTP through `git http-backend` (CGI), after GitHub's token check."""
        scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
        user, _, token = (base64.b64decode(encoded).decode(errors="replace") if scheme.lower() == "basic" else "").partition(":")
        with self.lock:
            self.git_requests.append((request.method, rest, token or None))
        if self.git_repository is None:
            return Response(b"Not Found", 404)
        if user != "x-access-token" or not self._token_ok(token):
            return Response(b"Invalid username or token.", 401, {"WWW-Authenticate": 'Basic realm="GitHub"'})
        body = await request.body()
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "GIT_PROJECT_ROOT": str(self.git_repository.parent),
               "GIT_HTTP_EXPORT_ALL": "1", "PATH_INFO": f"/{self.git_repository.name}/{rest}",
               "REQUEST_METHOD": request.method, "QUERY_STRING": request.url.query, "REMOTE_USER": user,
               "CONTENT_TYPE": request.headers.get("content-type", ""), "CONTENT_LENGTH": str(len(body)),
               "HTTP_CONTENT_ENCODING": request.headers.get("content-encoding", ""),
               "GIT_PROTOCOL": request.headers.get("git-protocol", "")}
        proc = await asyncio.create_subprocess_exec("git", "http-backend", stdin=asyncio.subprocess.PIPE,
                                                    stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env)
        out, _err = await proc.communicate(body)
        head, _, payload = out.partition(b"\r\n\r\n")
        headers, status = {}, 200
        for line in head.decode("latin-1").split("\r\n"):
            name, _, value = line.partition(":")
            if name.lower() == "status":
                status = int(value.split()[0])
            elif name:
                headers[name.strip()] = value.strip()
        return Response(payload, status, headers)

    # --- the HTTP API -----------------------------------------------------------------------

    def _base(self) -> str:
        return f"{self.url}/repos/{self.repository}"

    def _ref_json(self, ref: str) -> dict[str, Any]:
        sha = self.refs[ref]
        return {"ref": f"refs/{ref}", "node_id": "REF_" + sha[:10], "url": f"{self._base()}/git/refs/{ref}",
                "object": {"sha": sha, "type": "commit", "url": f"{self._base()}/git/commits/{sha}"}}

    def _pull_json(self, pull: dict[str, Any]) -> dict[str, Any]:
        number = pull["number"]
        return {"url": f"{self._base()}/pulls/{number}", "id": 1000 + number, "number": number,
                "state": pull["state"], "title": pull["title"], "body": pull["body"], "merged": pull["merged"],
                "html_url": f"https://github.com/{self.repository}/pull/{number}",
                "user": {"login": "campaign-intake[bot]", "type": "Bot"},
                "head": {"label": f"{self.owner}:{pull['head']}", "ref": pull["head"],
                         "sha": self.refs.get(f"heads/{pull['head']}"), "repo": {"full_name": self.repository}},
                "base": {"label": f"{self.owner}:{pull['base']}", "ref": pull["base"],
                         "sha": self.refs.get(f"heads/{pull['base']}"), "repo": {"full_name": self.repository}},
                "maintainer_can_modify": pull.get("maintainer_can_modify", False)}

    def _build(self) -> FastAPI:
        app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
        repo = "/repos/{owner}/{name}"

        def error(status: int, message: str, **extra: Any) -> JSONResponse:
            return JSONResponse({"message": message, "documentation_url": DOCS, **extra}, status)

        @app.middleware("http")
        async def record(request: Request, call_next: Any) -> Any:
            path = request.url.path
            if path.startswith((f"/{self.repository}.git/", f"{BLOB}/")):
                return await call_next(request)  # git's own authentication (`git_http`); a signed blob URL
            body = await request.body()
            payload = json.loads(body) if body else None
            with self.lock:
                self.requests.append((request.method, path, payload))
            if path.startswith("/app/") or (path.startswith("/repos/") and path.endswith("/installation")):
                problem = self._app_jwt_problem(request.headers.get("authorization", ""))
                if problem:
                    return error(401, problem)
                if path.startswith("/repos/") and path != f"/repos/{self.repository}/installation":
                    return error(404, "Not Found")  # the App is installed on this one repository
                return await call_next(request)
            if not self._token_ok(request.headers.get("authorization", "").removeprefix("Bearer ")):
                return error(401, "Bad credentials")
            if request.url.path.startswith("/repos/") and not request.url.path.startswith(f"/repos/{self.repository}"):
                return error(404, "Not Found")
            return await call_next(request)

        self.actions.register(app, self._base, error)

        @app.get(repo + "/installation")
        async def installation() -> dict[str, Any]:
            return {"id": self.installation_id, "app_id": int(self.app_id or 0), "target_type": "Organization",
                    "account": {"login": self.owner}, "repository_selection": "selected"}

        @app.post("/app/installations/{number}/access_tokens")
        async def access_token(number: int, request: Request) -> Any:
            if number != self.installation_id:
                return error(404, "Not Found")
            data = await request.json()
            if any(name != self.repository.split("/")[1] for name in data.get("repositories") or []):
                return error(422, "There is at least one repository that does not exist or is not accessible "
                                  "to the parent installation.")
            token = "ghs_" + secrets.token_urlsafe(27)
            expires = time.time() + self.token_lifetime
            with self.lock:
                self.installation_tokens[token] = {"expires": expires, "repositories": data.get("repositories"),
                                                   "permissions": data.get("permissions")}
            stamp = dt.datetime.fromtimestamp(expires, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
            return JSONResponse({"token": token, "expires_at": stamp, "permissions": data.get("permissions"),
                                 "repository_selection": "selected"}, 201)

        @app.api_route(f"/{self.repository}.git/{{rest:path}}", methods=["GET", "POST"])
        async def git_http(rest: str, request: Request) -> Response:
            return await self._git_http(rest, request)

        @app.get(repo)
        async def repository() -> dict[str, Any]:
            return {"full_name": self.repository, "default_branch": self.default_branch, "private": False,
                    "html_url": f"https://github.com/{self.repository}"}

        @app.get(repo + "/rules/branches/{branch:path}")
        async def branch_rules(branch: str) -> Any:
            return [{**rule, "ruleset_source_type": ruleset["source_type"], "ruleset_source": ruleset["source"],
                     "ruleset_id": ruleset["id"]}
                    for ruleset in self.rulesets if self._applies(ruleset, branch) for rule in ruleset["rules"]]

        @app.get(repo + "/branches/{branch}/protection")
        async def branch_protection(branch: str) -> Any:
            if f"heads/{branch}" not in self.refs:
                return error(404, "Branch not found")
            if not self.protection_readable:
                return error(403, "Resource not accessible by integration")
            if branch not in self.protection:
                return error(404, "Branch not protected")
            return self._protection_json(branch)

        @app.get(repo + "/git/ref/{ref:path}")
        async def get_ref(ref: str) -> Any:
            if ref not in self.refs:
                return error(404, "Not Found")
            return self._ref_json(ref)

        @app.post(repo + "/git/refs")
        async def create_ref(request: Request) -> Any:
            data = await request.json()
            ref = str(data["ref"]).removeprefix("refs/")
            if ref in self.refs:
                return error(422, "Reference already exists")
            if data["sha"] not in self.commits:
                return error(422, "Object does not exist")
            self.refs[ref] = data["sha"]
            return JSONResponse(self._ref_json(ref), 201)

        @app.patch(repo + "/git/refs/{ref:path}")
        async def update_ref(ref: str, request: Request) -> Any:
            data = await request.json()
            if ref not in self.refs:
                return error(422, "Reference does not exist")
            if data["sha"] not in self.commits:
                return error(422, "Object does not exist")
            if not data.get("force") and self.refs[ref] not in self._ancestors(data["sha"]):
                return error(422, "Update is not a fast forward")
            self.refs[ref] = data["sha"]
            return self._ref_json(ref)

        @app.get(repo + "/git/commits/{sha}")
        async def get_commit(sha: str) -> Any:
            if sha not in self.commits:
                return error(404, "Not Found")
            commit = self.commits[sha]
            return {"sha": sha, "url": f"{self._base()}/git/commits/{sha}", "message": commit["message"],
                    "tree": {"sha": commit["tree"], "url": f"{self._base()}/git/trees/{commit['tree']}"},
                    "parents": [{"sha": p, "url": f"{self._base()}/git/commits/{p}"} for p in commit["parents"]]}

        @app.post(repo + "/git/blobs")
        async def create_blob(request: Request) -> Any:
            data = await request.json()
            content = base64.b64decode(data["content"]) if data.get("encoding") == "base64" else data["content"].encode()
            sha = self._blob(content)
            return JSONResponse({"sha": sha, "url": f"{self._base()}/git/blobs/{sha}"}, 201)

        @app.post(repo + "/git/trees")
        async def create_tree(request: Request) -> Any:
            data = await request.json()
            entries = dict(self.trees.get(data.get("base_tree") or "", {}))
            if data.get("base_tree") and data["base_tree"] not in self.trees:
                return error(422, "base_tree is not a valid tree oid")
            for item in data["tree"]:
                if item.get("mode") != "100644" or item.get("type") != "blob":
                    return error(422, "Invalid tree info")
                if "content" in item:
                    entries[item["path"]] = self._blob(item["content"].encode("utf-8"))
                elif "sha" in item and item["sha"] is None:  # a deletion; GitHub refuses one of a missing path
                    if entries.pop(item["path"], None) is None:
                        return error(422, "GitRPC::BadObjectState")
                elif item.get("sha") in self.blobs:
                    entries[item["path"]] = item["sha"]
                else:
                    return error(422, "Invalid tree info", errors=[f"sha {item.get('sha')} is not a blob"])
            sha = self._tree(entries)
            return JSONResponse({"sha": sha, "url": f"{self._base()}/git/trees/{sha}", "truncated": False,
                                 "tree": [{"path": p, "mode": "100644", "type": "blob", "sha": s}
                                          for p, s in sorted(entries.items())]}, 201)

        @app.post(repo + "/git/commits")
        async def create_commit(request: Request) -> Any:
            data = await request.json()
            if data["tree"] not in self.trees or any(p not in self.commits for p in data["parents"]):
                return error(422, "Tree SHA does not exist")
            sha = self._commit(data["tree"], list(data["parents"]), data["message"])
            return JSONResponse({"sha": sha, "url": f"{self._base()}/git/commits/{sha}", "message": data["message"],
                                 "tree": {"sha": data["tree"]}, "parents": [{"sha": p} for p in data["parents"]],
                                 "author": {"name": "campaign-intake[bot]", "email": "bot@users.noreply.github.com"},
                                 "verification": {"verified": False, "reason": "unsigned"}}, 201)

        @app.get(repo + "/pulls")
        async def list_pulls(request: Request) -> Any:
            query = request.query_params
            found = [p for p in self.pulls
                     if (not query.get("head") or f"{self.owner}:{p['head']}" == query["head"])
                     and (not query.get("base") or p["base"] == query["base"])
                     and (query.get("state", "open") == "all" or p["state"] == query.get("state", "open"))]
            return [self._pull_json(p) for p in found]

        @app.post(repo + "/pulls")
        async def create_pull(request: Request) -> Any:
            data = await request.json()
            if f"heads/{data['head']}" not in self.refs:
                return error(422, "Validation Failed", errors=[{"resource": "PullRequest", "field": "head", "code": "invalid"}])
            if any(p["head"] == data["head"] and p["base"] == data["base"] and p["state"] == "open" for p in self.pulls):
                return error(422, "Validation Failed", errors=[{"resource": "PullRequest", "code": "custom",
                             "message": f"A pull request already exists for {self.owner}:{data['head']}."}])
            number = max([*self.issues, *(p["number"] for p in self.pulls), 0]) + 1
            pull = {"number": number, "state": "open", "merged": False, "title": data["title"], "body": data.get("body"),
                    "head": data["head"], "base": data["base"], "maintainer_can_modify": data.get("maintainer_can_modify")}
            self.pulls.append(pull)
            return JSONResponse(self._pull_json(pull), 201)

        def find_pull(number: int) -> dict[str, Any] | None:
            return next((p for p in self.pulls if p["number"] == number), None)

        @app.get(repo + "/pulls/{number}")
        async def get_pull(number: int) -> Any:
            pull = find_pull(number)
            return self._pull_json(pull) if pull else error(404, "Not Found")

        @app.patch(repo + "/pulls/{number}")
        async def update_pull(number: int, request: Request) -> Any:
            pull = find_pull(number)
            if pull is None:
                return error(404, "Not Found")
            data = await request.json()
            pull.update({k: data[k] for k in ("title", "body", "state") if k in data})
            return self._pull_json(pull)

        @app.put(repo + "/pulls/{number}/merge")
        async def merge_pull(number: int, request: Request) -> Any:
            pull = find_pull(number)
            if pull is None:
                return error(404, "Not Found")
            data = await request.json()
            head = self.refs.get(f"heads/{pull['head']}")
            if pull["state"] != "open":
                return error(405, "Pull Request is not mergeable")
            if data.get("sha") and data["sha"] != head:
                return error(409, "Head branch was modified. Review and try the merge again.")
            base_ref = f"heads/{pull['base']}"
            entries = self._merged(self.refs[base_ref], head)
            sha = self._commit(self._tree(entries), [self.refs[base_ref]], f"{pull['title']} (#{number})")
            self.refs[base_ref] = sha
            pull.update(state="closed", merged=True)
            return {"sha": sha, "merged": True, "message": "Pull Request successfully merged"}

        @app.post(repo + "/issues/{number}/comments")
        async def comment(number: int, request: Request) -> Any:
            if number not in self.issues:
                return error(404, "Not Found")
            data = await request.json()
            self.issues[number]["comments"].append(data["body"])
            index = len(self.issues[number]["comments"])
            return JSONResponse({"id": number * 1000 + index, "body": data["body"],
                                 "html_url": f"https://github.com/{self.repository}/issues/{number}#issuecomment-{index}"}, 201)

        @app.patch(repo + "/issues/{number}")
        async def update_issue(number: int, request: Request) -> Any:
            if number not in self.issues:
                return error(404, "Not Found")
            data = await request.json()
            self.issues[number].update({k: data[k] for k in ("state", "state_reason") if k in data})
            return {"number": number, "state": self.issues[number]["state"],
                    "state_reason": self.issues[number]["state_reason"]}

        return app

    # --- serving ------------------------------------------------------------------------

    def __enter__(self) -> FakeGitHub:
        self._server, self._thread, self.url = serve_in_thread(self.app)
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        if self._thread:
            self._thread.join(timeout=10)

