"""GitHub App installation tokens for a long-running service (the production intake).

A workflow mints its token with `actions/create-github-app-token`; a service that runs for
weeks cannot be handed one, since an installation token expires after an hour. `AppToken`
mints them itself, as that action does:

1. a JWT signed with the App's private key (RS256, `iss` the App's id, valid 9 minutes,
   issued a minute in the past against clock drift);
2. `GET /repos/{owner}/{repo}/installation` with the JWT: the App's installation on this
   repository (unless its id is configured);
3. `POST /app/installations/{id}/access_tokens` with the JWT, narrowed to this one repository
   and to `contents: write` and `pull_requests: write`: the token and when it expires.

`get()` returns the current token and mints a new one when less than `margin` seconds (10
minutes) are left, so no flush starts with a token about to die. It is thread-safe.
Configuration: `CAMPAIGN_GITHUB_APP_ID`, `CAMPAIGN_GITHUB_APP_KEY_FILE` (the private key's PEM
file, from a secret) and optionally `CAMPAIGN_GITHUB_APP_INSTALLATION`.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import jwt

from campaign.core.errors import ForgeError

APP_ID_ENV = "CAMPAIGN_GITHUB_APP_ID"
KEY_FILE_ENV = "CAMPAIGN_GITHUB_APP_KEY_FILE"
INSTALLATION_ENV = "CAMPAIGN_GITHUB_APP_INSTALLATION"
PERMISSIONS = {"contents": "write", "pull_requests": "write"}
"""What the intake's token may do: commit the signature files and open the pull request."""


@dataclass
class AppToken:
    app_id: str
    private_key: str
    repository: str
    api_url: str = "https://api.github.com"
    installation: str | None = None
    margin: float = 600.0
    timeout: float = 30.0
    _token: str = field(default="", init=False, repr=False)
    _expires: float = field(default=0.0, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    @classmethod
    def from_env(cls, repository: str, api_url: str, env: Mapping[str, str]) -> AppToken | None:
        """The App's token source if CAMPAIGN_GITHUB_APP_ID is set, else None."""
        app_id = env.get(APP_ID_ENV, "").strip()
        if not app_id:
            return None
        if not app_id.isdigit() and not app_id.startswith("Iv"):
            raise ForgeError(f"is {app_id!r}; use the App's numeric id (or its client id, Iv...)", APP_ID_ENV)
        key_file = env.get(KEY_FILE_ENV, "").strip()
        if not key_file:
            raise ForgeError(f"is unset but {APP_ID_ENV} is set; point it at the App's private key (.pem)", KEY_FILE_ENV)
        try:
            key = Path(key_file).read_text(encoding="ascii")
        except (OSError, UnicodeDecodeError) as exc:
            raise ForgeError(f"cannot read the App's private key {key_file} ({exc}); mount the secret there",
                             KEY_FILE_ENV) from None
        if "PRIVATE KEY-----" not in key:
            raise ForgeError(f"{key_file} is not a PEM private key; download one from the App's settings page", KEY_FILE_ENV)
        installation = env.get(INSTALLATION_ENV, "").strip() or None
        if installation is not None and not installation.isdigit():
            raise ForgeError(f"is {installation!r}; use the number at the end of the installation's "
                             "settings URL, or leave it unset", INSTALLATION_ENV)
        return cls(app_id, key, repository, api_url, installation)

    def app_jwt(self, now: float | None = None) -> str:
        """The App's own short-lived credential (RS256)."""
        now = int(time.time() if now is None else now)
        try:
            return jwt.encode({"iat": now - 60, "exp": now + 540, "iss": self.app_id}, self.private_key, algorithm="RS256")
        except (ValueError, TypeError, jwt.PyJWTError) as exc:
            raise ForgeError(f"the App's private key cannot sign ({type(exc).__name__}); download a new key", KEY_FILE_ENV) from None

    def get(self) -> str:
        """A token with at least `margin` seconds to live (minted when needed)."""
        with self._lock:
            if not self._token or self._expires - time.time() < self.margin:
                self._token, self._expires = self._mint()
            return self._token

    @property
    def expires(self) -> float:
        return self._expires

    def _mint(self) -> tuple[str, float]:
        headers = {"Accept": "application/vnd.github+json", "Authorization": f"Bearer {self.app_jwt()}",
                   "X-GitHub-Api-Version": "2022-11-28", "User-Agent": "campaign-intake"}
        with httpx.Client(base_url=self.api_url.rstrip("/"), headers=headers, timeout=self.timeout) as client:
            if self.installation is None:
                found = self._ask(client, "GET", f"/repos/{self.repository}/installation")
                self.installation = str(found["id"])
            name = self.repository.split("/", 1)[1]
            minted = self._ask(client, "POST", f"/app/installations/{self.installation}/access_tokens",
                               json={"repositories": [name], "permissions": PERMISSIONS})
        try:
            expires = dt.datetime.fromisoformat(minted["expires_at"]).timestamp()
            return str(minted["token"]), expires
        except (KeyError, TypeError, ValueError):
            raise ForgeError("GitHub's answer to the installation-token request has no token or expiry") from None

    def _ask(self, client: httpx.Client, method: str, path: str, json: object = None) -> dict:
        try:
            response = client.request(method, path, json=json)
        except httpx.HTTPError as exc:
            raise ForgeError(f"cannot reach {self.api_url} to mint the App's token ({type(exc).__name__}); "
                             "it is tried again at the next flush") from None
        if response.status_code == 401:
            raise ForgeError(f"GitHub refused the App's JWT (401): check this id and that {KEY_FILE_ENV} is this "
                             "App's key; the machine's clock must be right", APP_ID_ENV)
        if response.status_code == 404 and path.endswith("/installation"):
            raise ForgeError(f"the App {self.app_id} is not installed on {self.repository}: install it there "
                             "(GUIDE.md, 'The GitHub App')", APP_ID_ENV)
        if response.status_code not in (200, 201):
            raise ForgeError(f"GitHub answered {method} {path} with {response.status_code}: {response.text[:200]}",
                             APP_ID_ENV)
        return response.json()
