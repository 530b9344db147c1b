"""The doctor's checks of the campaign's own content: the data, the routes and age of the mission
records, the letters, the site and the dispatch plan. What blocks and what warns (ARCHITECTURE.md,
"Readiness (doctor)"):

- `data`: every problem `campaign validate` reports blocks.
- `routes`: a mission receiving letters whose route is `form` or `paper` warns (its letters are
  printed and delivered by people: plan who does it); a closed or suspended post receiving
  letters that cannot be mailed anywhere blocks (nobody can take them: choose another mission
  for its country, or a fallback address).
- `verified`: a mission receiving letters whose record is older than the age rule of
  `records/findings.py` (`stale`) warns: check it against GOV.UK.
- `letters`: `launch/letters.py`.
- `site`: `campaign build` (every language, strict) into a temporary folder (`intake/sitebuild.py`);
  every warning of the build blocks, as it fails the deploy workflow.
- `plan`: the throttle's forecast (`campaign dispatch --plan`) of the signatures so far; letters
  that cannot go out before the deadline block.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from campaign.core.errors import Problem
from campaign.data import checks
from campaign.data.dataset import CAMPAIGN, MISSIONS
from campaign.dispatch import forecast
from campaign.intake import sitebuild
from campaign.launch.context import BLOCK, WARN, Context, Found
from campaign.records import findings

_LOGGED = re.compile(r"^\[(?P<lang>[a-z]{2,3})\] (?:WARNING|ERROR) +- +(?P<message>.+)$")
"""A warning or error of one language's build, as `campaign build` prints it."""


def data(ctx: Context) -> Found:
    """`campaign validate` finds nothing."""
    return [(BLOCK, p) for p in checks.validate(ctx.ds)]


def routes(ctx: Context) -> Found:
    """Every mission receiving letters can be reached, by mail or by people."""
    found: Found = []
    for rec, way in ctx.receiving:
        m = rec.model
        if way.mailed:
            continue
        mp = ctx.plan.missions.get(m.id)
        now = f" ({len(mp.letters)} letters so far)" if mp and mp.letters else ""
        why = "; ".join(way.skipped) or "no general or consular email"
        if m.status != "open":  # nobody to deliver to, by post or in person
            found.append((BLOCK, Problem(MISSIONS, rec.line(""), (
                f"{m.id}: the post is {m.status} but receives letters{now}; send its country's letters to "
                "another mission (`primary`, `also_covers`) or set `dispatch.fallback`"))))
            continue
        by = "through its contact form by hand, or " if way.kind == "form" else ""
        found.append((WARN, Problem(MISSIONS, rec.line(""), (
            f"{m.id}: its letters{now} go by {way.text()}, not by mail ({why}); plan who delivers them: {by}printed "
            "(`campaign letters --pdf DIR`) by post or in person; or find a current email (`campaign missions check`)"))))
    return found


def verified(ctx: Context) -> Found:
    """The contact data of every mission receiving letters was verified within the age rule."""
    wanted = {rec.model.id for rec, _ in ctx.receiving}
    by_mission = findings.findings(ctx.ds, today=ctx.today, failed=ctx.failing)
    return [(WARN, Problem(MISSIONS, f.line, f"{f.mission}: {f.message}; {f.action}"))
            for mission, found in by_mission.items() if mission in wanted for f in found if f.kind == "stale"]


def site(ctx: Context) -> Found:
    """`campaign build` (every language, strict) succeeds with the campaign's own settings, into a
    temporary folder; one problem per warning, with the languages it stopped."""
    with tempfile.TemporaryDirectory(prefix="campaign-doctor-") as tmp:
        _built, why = sitebuild.build(ctx.root, Path(tmp) / "site", endpoint=None)
    if why is None:
        return []
    said: dict[str, list[str]] = {}
    for line in why.splitlines():
        m = _LOGGED.match(line)
        if m:
            said.setdefault(" ".join(m["message"].split()), []).append(m["lang"])
    order = {lang: n for n, lang in enumerate(ctx.campaign.languages)}
    lines = [f"in {', '.join(sorted(set(langs), key=lambda lang: order.get(lang, len(order))))}: {message}"
             for message, langs in said.items()] or [" ".join(why.split())]
    return [(BLOCK, Problem("mkdocs.yml", 0, f"the site does not build: {line}; fix it and check with `campaign build`"))
            for line in lines]


def plan(ctx: Context) -> Found:
    """The throttle gets every letter of the signatures so far out before the deadline."""
    fc = forecast.forecast(ctx.plan, ctx.campaign.dispatch)
    return [(BLOCK, Problem(CAMPAIGN, ctx.line("dispatch", "throttle", "global_per_minute" if late.startswith("overall:")
                                               else "per_domain_hourly"), f"the dispatch plan does not fit in the day: {late}"))
            for late in fc.late()]
