"""Whether a branch requires code-owner review: a repository setting, not a file (ARCHITECTURE.md,
"Trust"), read through GitHub's REST API (version 2022-11-28) for `campaign doctor`.

Two kinds of rule can require it, and either is enough:

    GET /repos/{repo}/rules/branches/{branch}        the rules of every active ruleset on the branch
                                                     (repository or organisation level; readable
                                                     with the repository's metadata)
    GET /repos/{repo}/branches/{branch}/protection   classic branch protection (needs Administration:
                                                     read; 404 "Branch not protected")

Rulesets are asked first: a token that may only read the repository can see them. Classic
protection answers 403 to a token without administration rights: then nobody can tell from
here. Served by tests/support/github.py too.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from campaign.forge.github import GitHubForge


@dataclass(frozen=True)
class Review:
    """Does the branch require code-owner review: yes, no, or None (it cannot be read); and what says so."""

    required: bool | None
    source: str


def code_owner_review(forge: GitHubForge, branch: str) -> Review:
    """What the repository's rules say about code-owner review on `branch`."""
    name = quote(branch, safe="")
    rules = forge.call("GET", f"/rules/branches/{name}", ok=(200, 404), params={"per_page": "100"})
    for rule in rules.json() if rules.status_code == 200 else []:
        if rule.get("type") == "pull_request" and (rule.get("parameters") or {}).get("require_code_owner_review"):
            return Review(True, f"ruleset {rule.get('ruleset_id', '?')} ({rule.get('ruleset_source', forge.repository)})")
    found = forge.call("GET", f"/branches/{name}/protection", ok=(200, 403, 404))
    if found.status_code == 404:
        return Review(False, "no active ruleset and no branch protection rule")
    if found.status_code == 403:
        return Review(None, "no active ruleset requires it, and this token may not read branch protection "
                            "(it needs Administration: read)")
    reviews = found.json().get("required_pull_request_reviews")
    if not reviews:
        return Review(False, "the branch protection rule does not require a pull request")
    if reviews.get("require_code_owner_reviews"):
        return Review(True, "branch protection")
    return Review(False, "the branch protection rule does not require review from Code Owners")
