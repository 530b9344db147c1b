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
- `letters`: the letter in each of the campaign's `languages`, rendered for every mission (composed
  as the email dispatch sends where the route is mailed); anything that does not render blocks.
- `site`: `mkdocs build --strict` into a temporary folder (`intake/sitebuild.py`); every warning
  of the build blocks, as it fails the deploy workflow.
- `plan`: the throttle's forecast (`campaign dispatch --plan`) of the signatures so far; letters
  that cannot go out before the deadline block.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from types import TracebackType

from campaign.core.errors import CampaignError, Problem
from campaign.data import checks, letter
from campaign.data.dataset import CAMPAIGN, LETTERS, MISSIONS
from campaign.data.models import Mission, Signature
from campaign.dispatch import compose, forecast
from campaign.intake import sitebuild
from campaign.launch.context import BLOCK, WARN, Context, Found
from campaign.records import findings
from campaign.records.routes import Route


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
                f"{m.id}: the post is {m.status} but receives letters{now} ({why}); send its country's letters to "
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


def _sample(mission: Mission, ctx: Context) -> Signature:
    return Signature.model_validate({"type": "individual", "name": "A. Sample Signer", "country": mission.country,
                                     "mission": mission.id, "signed": ctx.campaign.dispatch.date, "publish": False,
                                     "letter": True, "source": "form"})


def _template_line(exc: BaseException) -> int:
    """The template line an error was raised at (Jinja puts the template's frames in the traceback)."""
    line = getattr(exc, "lineno", None) or 1
    tb: TracebackType | None = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _render(ctx: Context, lang: str, template: str, mission: Mission, way: Route) -> None:
    """The letter to `mission` in `lang`, as dispatch makes it (an email where mailed), else its text."""
    c, sample = ctx.campaign, (_sample(mission, ctx),)
    if way.mailed:
        compose.compose(c, template, mission, sample, "doctor", letter.version(template, c.dispatch.subject),
                        lang=lang, to=way.address, fallback=way.kind == "fallback")
    else:
        letter.body(template, c, mission, sample)


def letters(ctx: Context) -> Found:
    """The letter renders for every mission in every language the campaign declares (a declared
    language without its letter is the `data` check's: validation reports it)."""
    found: Found = []
    failed: dict[tuple[str, int, str], list[str]] = {}
    for lang in (lang for lang in ctx.campaign.languages if lang in ctx.ds.letters):
        template = ctx.ds.letters[lang]
        for rec, way in ctx.routes:
            try:
                _render(ctx, lang, template, rec.model, way)
            except CampaignError as exc:  # a header that cannot be built for this mission
                found.append((BLOCK, Problem(MISSIONS, rec.line(""), f"{rec.model.id}: its letter in {lang!r} cannot be "
                                                                       f"composed: {exc.message}")))
            except Exception as exc:  # noqa: BLE001 - a template is data: whatever it raises is its problem
                said = f"{type(exc).__name__}: {exc}"
                failed.setdefault((f"{LETTERS}/{lang}.md", _template_line(exc), said), []).append(rec.model.id)
    for (path, line, said), missions in failed.items():
        shown = ", ".join(missions[:5]) + (f" and {len(missions) - 5} more" if len(missions) > 5 else "")
        found.append((BLOCK, Problem(path, line, f"the letter does not render for {len(missions)} of {len(ctx.routes)} "
                                                 f"missions ({shown}): {said}; fix the template (`campaign letter "
                                                 f"--mission {missions[0]}` shows it)")))
    return found


def site(ctx: Context) -> Found:
    """`mkdocs build --strict` succeeds, with the campaign's own settings, into a temporary folder."""
    with tempfile.TemporaryDirectory(prefix="campaign-doctor-") as tmp:
        _built, why = sitebuild.build(ctx.root, Path(tmp) / "site", endpoint=None, strict=True)
    if why is None:
        return []
    said = [" ".join(line.split()) for line in why.splitlines()[1:] if line.startswith(("WARNING", "ERROR"))]
    return [(BLOCK, Problem("mkdocs.yml", 0, f"the site does not build with --strict: {line}; fix it and check with "
                                             "`mkdocs build --strict`")) for line in said or [" ".join(why.split())]]


def plan(ctx: Context) -> Found:
    """The throttle gets every letter of the signatures so far out before the deadline."""
    fc = forecast.forecast(ctx.plan, ctx.campaign.dispatch)
    return [(BLOCK, Problem(CAMPAIGN, ctx.line("dispatch", "throttle", "global_per_minute" if late.startswith("overall:")
                                               else "per_domain_hourly"), f"the dispatch plan does not fit in the day: {late}"))
            for late in fc.late()]
