"""The intake: how signatures from the form and the issue forms become pull requests.

    web form --POST /api/signatures--> service (validated like `campaign validate`)
        -> pending entry in SQLite + confirmation mail (double opt-in, `file` backend by default)
        -> POST /confirm/{token} -> confirmed entry (the email address is gone by now)
        -> flush: one commit of signature files on the intake branch + one pull request (forge)

    issue form --intake.yml--> `campaign intake issue --event $GITHUB_EVENT_PATH`
        -> signature or action file -> pull request, comment, issue closed

Modules: `service` (the logic, no HTTP), `app` (FastAPI), `store` (SQLite), `forge` (local git
and the `github` REST adapter in `github`), `limits` (rate and body limits), `fingerprint`
(keyed email hash), `issue_form` (issue route), `site` (building the site for `campaign serve`).
"""
