"""`campaign intake automerge`: merge a pull request that only adds valid signatures.

Only when `intake.automerge` is on in the *target* branch's `data/campaign.yaml` (the pull
request cannot turn it on), when every change is an added file under `data/signatories/` (a
removal, a signer's withdrawal, is left to a maintainer), when
the whole tree validates with this (the target branch's) tool, and only the validated head
commit (GitHub refuses if the branch moved since); never when a name looks like an existing one
(a `validate` warning: a maintainer judges those). This is the one unattended path into the
default branch; ARCHITECTURE.md, "Trust", says why it is the security boundary.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from campaign.core.errors import CampaignError, Problem
from campaign.core.git import Git
from campaign.data import checks, dataset
from campaign.data.models import Campaign
from campaign.review import rules

if TYPE_CHECKING:
    from campaign.forge.github import GitHubForge


def target_settings(root: Path, base: str) -> Campaign:
    """The campaign settings as the target branch `base` has them."""
    shown = Git(root, where=dataset.CAMPAIGN).run("show", f"{base}:{dataset.CAMPAIGN}", check=False)
    if shown.returncode != 0:
        raise CampaignError([Problem(dataset.CAMPAIGN, 1, f"cannot read it from {base}; fetch the target branch first")])
    settings, _doc, problems = dataset.parse(dataset.CAMPAIGN, shown.stdout, Campaign)
    if settings is None:
        raise CampaignError(problems)
    return settings


def automerge(root: Path, base: str, number: int, sha: str, forge: GitHubForge | None = None) -> str:
    """Merge pull request `number` at `sha` if it is eligible; what was done, as one line."""
    settings = target_settings(root, base)
    if not settings.intake.automerge:
        return "automerge is off (intake.automerge in data/campaign.yaml): a maintainer merges"
    changes = rules.changes(root, base)
    removals = [c.path for c in changes if c.status == "D" and c.path.startswith(f"{dataset.SIGNATORIES}/")]
    if removals:
        return f"not automerged: the pull request removes {len(removals)} signatures (withdrawals); a maintainer merges removals"
    others = [c.path for c in changes if c.status != "A" or not c.path.startswith(f"{dataset.SIGNATORIES}/")]
    if not changes or others:
        return f"not automerged: the pull request changes more than signatures ({', '.join(others[:5]) or 'nothing'})"
    whole = checks.review_tree(root)
    problems, warnings = whole.problems, whole.warnings
    problems += rules.rules(changes)
    if problems:
        raise CampaignError(problems)
    if warnings:  # look-alike names: likely the same person twice, for a person to judge
        return f"not automerged: {len(warnings)} names look like existing ones; a maintainer checks ({warnings[0].text()})"
    if forge is None:
        from campaign.forge.github import GitHubForge  # httpx: only when merging

        forge = GitHubForge.from_env(settings.intake.repository)
    merged = forge.merge(number, sha)
    return f"merged pull request #{number} ({len(changes)} signatures) as {merged[:12]}"
