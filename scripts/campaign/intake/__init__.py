"""The intake: how signatures from the form and the issue forms become pull requests.

    web form --POST /api/signatures--> service (validated like `campaign validate`)
        -> pending entry in SQLite + confirmation mail (double opt-in, `file` backend by default)
        -> POST /confirm/{token} -> confirmed entry (the email address is gone by now)
        -> flush: one commit of signature files on the intake branch + one pull request (forge)

    issue form --intake.yml--> `campaign intake issue --event $GITHUB_EVENT_PATH`
        -> signature or action file -> pull request, comment, issue closed

Modules: `service` (the logic, no HTTP), `app` (FastAPI), `store` (SQLite), `forge` (local git
and the `github` REST adapter in `github`), `limits` (rate, body and origin limits), `fingerprint`
(keyed email hash), `issue_form` (issue route), `site` (building the site for `campaign serve`).

Running it for real (`campaign serve --help` for every option):

- CAMPAIGN_FINGERPRINT_KEY: the fingerprint key (32+ characters, from a secret). Without it a
  key is generated once in .cache/intake/fingerprint.key (git-ignored): fine for a local run.
- --forge github with CAMPAIGN_GITHUB_TOKEN (fine-grained token or App installation token with
  contents, pull-requests and issues write on intake.repository): its pull requests trigger CI.
- --mail smtp with the SMTP_* variables of the dispatch mail backend; --public-url (or
  intake.endpoint) is the address put in confirmation links; --db where the store lives (keep it
  on a persistent volume; it holds addresses only until their confirmation mail is sent).
- One process: the store and the rate limits are per process. Behind a reverse proxy, name it
  with --trusted-proxy (or CAMPAIGN_TRUSTED_PROXIES): X-Forwarded-For is believed from no one else.

Modules added against hostile clients (ARCHITECTURE.md, "Intake"): `protocol` (header and body
deadlines for uvicorn), `mails` (the confirmation and notice mails).

In production (ARCHITECTURE.md, "Deployment"; GUIDE.md, "Host the intake"): `production`
(`campaign intake run`: settings from the environment, then serve), `checkout` (its clone of
the repository, pulled before each flush), `backup` (`campaign intake backup`), `healthcheck`
(the container's HEALTHCHECK). The GitHub App's tokens are the forge's (`forge/app_token.py`).
"""

DEFAULT_DB = ".cache/intake/intake.sqlite3"
"""Where the store lives unless --db says otherwise (git-ignored)."""
