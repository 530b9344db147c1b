"""`campaign doctor`: is this campaign ready to launch?

    report = doctor.run(root, skip=("site",))      # the environment: os.environ
    print(report.text()); report.ready             # or report.json()

Runs every check of `campaign.launch.CHECKS` (side by side: most of them wait on the network or
on mkdocs) and reports one line per problem, each saying where and how to fix it: `path:line:
message` for the data, `SETTING: message` for an environment variable, the settings page for a
repository setting. A problem either blocks the launch (the command exits 1) or is a warning the
organisers must plan for. Nothing is sent, written or changed. ARCHITECTURE.md, "Readiness (doctor)".
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Callable, Collection, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from campaign.core.errors import CampaignError, Problem
from campaign.data import dataset
from campaign.launch import CHECKS, content, letters, services, settings
from campaign.launch.context import BLOCK, WARN, Context, Found, settings_lines

CHECKERS: dict[str, Callable[[Context], Found]] = {
    "data": content.data, "sender": settings.sender, "urls": services.urls, "smtp": services.smtp,
    "key": settings.key, "github": services.github, "routes": content.routes, "verified": content.verified,
    "letters": letters.letters, "site": content.site, "plan": content.plan,
}
LABELS = {
    "data": "the data validates (`campaign validate`)",
    "sender": "sender, reply-to and envelope on your own domain",
    "urls": "the site and the intake's endpoint answer",
    "smtp": "the mail server: connect, EHLO, STARTTLS, AUTH",
    "key": "the fingerprint key is set, the follow-up key is yours",
    "github": "the GitHub token, and code-owner review on the default branch",
    "routes": "a route for every mission receiving letters",
    "verified": "the contact data of those missions verified recently",
    "letters": "the letter renders for every mission in every language",
    "site": "the site builds in every language, strictly",
    "plan": "the dispatch plan fits in the day",
}
TIMEOUT = 10.0


@dataclass(frozen=True)
class Issue:
    """One problem one check found: `block` stops the launch, `warn` needs a plan."""

    check: str
    level: str
    problem: Problem

    def text(self) -> str:
        return ("warning: " if self.level == WARN else "") + self.problem.text()


@dataclass
class Report:
    issues: list[Issue]
    status: dict[str, str]
    """Check -> ok, blocking, warning, skipped (asked with --skip) or not run (the campaign did not load)."""

    @property
    def blocking(self) -> list[Issue]:
        return [i for i in self.issues if i.level == BLOCK]

    @property
    def warnings(self) -> list[Issue]:
        return [i for i in self.issues if i.level == WARN]

    @property
    def ready(self) -> bool:
        return not self.blocking

    def text(self) -> str:
        blocking, warnings = len(self.blocking), len(self.warnings)
        verdict = "ready to launch" if self.ready else "not ready"
        head = (f"campaign doctor: {verdict}: {blocking} problem{'s' * (blocking != 1)} block the launch, "
                f"{warnings} warning{'s' * (warnings != 1)} to plan for")
        rows = [f"  {name:9}{state:10}{LABELS[name]}" for name, state in self.status.items()]
        return "\n".join([*(i.text() for i in self.blocking), *(i.text() for i in self.warnings), head, *rows])

    def json(self) -> str:
        return json.dumps({
            "ready": self.ready, "blocking": len(self.blocking), "warnings": len(self.warnings),
            "checks": {name: {"status": state, "checks": LABELS[name]} for name, state in self.status.items()},
            "problems": [{"check": i.check, "level": i.level, "path": i.problem.path, "line": i.problem.line,
                          "message": i.problem.message, "text": i.problem.text()} for i in self.issues],
        }, ensure_ascii=False, indent=2)


def _run(check: Callable[[Context], Found], ctx: Context) -> Found:
    """A check's findings; one that cannot finish (a CampaignError) blocks with what it said."""
    try:
        return check(ctx)
    except CampaignError as exc:
        return [(BLOCK, p) for p in exc.problems]


def run(root: Path, *, env: Mapping[str, str] | None = None, skip: Collection[str] = (),
        today: dt.date | None = None, timeout: float = TIMEOUT) -> Report:
    """Every check not in `skip`, against the repository at `root` and the environment `env`."""
    unknown = sorted(set(skip) - set(CHECKS))
    if unknown:
        raise CampaignError([Problem("--skip", 0, f"no check is called {name!r}; the checks are {', '.join(CHECKS)}")
                             for name in unknown])
    ds = dataset.load(root)
    ctx = Context(root, os.environ if env is None else env, ds, today or dt.date.today(), timeout, settings_lines(root))
    loaded = ds.campaign is not None
    status = {name: "skipped" if name in skip else "not run" if not loaded and name != "data" else "" for name in CHECKS}
    todo = [name for name, state in status.items() if not state]
    if loaded:
        ctx.prepare()
    with ThreadPoolExecutor(max_workers=4, thread_name_prefix="doctor") as pool:
        futures = {name: pool.submit(_run, CHECKERS[name], ctx) for name in todo}
        results = {name: future.result() for name, future in futures.items()}
    issues = [Issue(name, level, problem) for name in todo for level, problem in results[name]]
    for name in todo:
        levels = {i.level for i in issues if i.check == name}
        status[name] = "blocking" if BLOCK in levels else "warning" if WARN in levels else "ok"
    return Report(issues, status)
