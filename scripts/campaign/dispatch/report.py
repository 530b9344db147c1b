"""The dispatch report: one row per mission, as text for the terminal and Markdown for the
GitHub Actions step summary.

Counts come from the ledger after the run (so every run shows the whole day so far), plus what
this run did. Every mission shows its delivery route, and every letter is counted under it;
missions whose route is not mailed (form, paper) are listed with their phones and contact form,
to deliver in person or call.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from campaign.core.errors import CampaignError
from campaign.dispatch.planning import MissionPlan
from campaign.dispatch.runner import Result
from campaign.records.ledger import Ledger
from campaign.records.routes import KINDS as ROUTES

COLUMNS = ("letters", "sent", "deferred", "failed", "unknown", "bounced", "pending", "not mailed")
PHASE_TEXT = {
    "before": "before the day",
    "waiting": "not yet due",
    "due": "due",
    "grace": "after the day: retries only",
    "after": "past the deadline",
}


def _letters(n: int) -> str:
    return f"{n} letter" if n == 1 else f"{n} letters"


@dataclass
class Row:
    mission: MissionPlan
    counts: Counter[str] = field(default_factory=Counter)

    @property
    def status(self) -> str:
        if not self.mission.reachable:
            return self.mission.unreachable_reason
        return PHASE_TEXT[self.mission.phase]


@dataclass
class Report:
    result: Result
    rows: list[Row]
    totals: Counter[str]
    run: Counter[str]
    damaged: list[int]
    ledger_path: str
    routes: Counter[str] = field(default_factory=Counter)  # letters per delivery route

    # --- text -----------------------------------------------------------------------------

    def headline(self) -> str:
        r, t = self.result, self.totals
        mode = "dry run: nothing sent, nothing recorded" if r.dry_run else f"{r.attempts} attempts in {r.elapsed:.1f} s"
        forced = ", forced" if r.plan.forced else ""
        return (f"dispatch at {r.plan.now.isoformat()}{forced} ({mode}): {t['letters']} letters, "
                f"{t['sent']} sent, {t['deferred']} deferred, {t['failed']} failed, {t['unknown']} unknown, "
                f"{t['bounced']} bounced, {t['pending']} pending, {t['not mailed']} not mailed (form or paper)")

    def notes(self) -> list[str]:
        r = self.result
        out: list[str] = []
        if r.dry_run:
            out.append(f"would send {len(r.selected)} letters now")
        else:
            out.append("this run: " + ", ".join(f"{self.run[s]} {s}" for s in ("sent", "deferred", "failed", "unknown")))
        out.append("letters by route: " + ", ".join(f"{kind} {self.routes[kind]}" for kind in ROUTES))
        if r.requeued:
            out.append(f"{len(r.requeued)} letters requeued (failed with --retry-failed, or bounced: due on their route now)")
        if r.recovered:
            out.append(f"{len(r.recovered)} letters left in `sending` by an interrupted run are now `unknown` "
                       "(resend only with --resend-unknown, after checking)")
        if r.released:
            out.append(f"{len(r.released)} letters declared `sending` ahead by an interrupted run on this machine were "
                       "never handed over: due again")
        if r.left_over:
            out.append(f"{len(r.left_over)} letters not tried ({r.stopped or 'run ended'}); recorded deferred for the next run")
        if r.stopped:
            out.append(f"stopped early: {r.stopped}")
        if r.plan.unassigned:
            out.append(f"{len(r.plan.unassigned)} signatures have no mission to go to (no mission for their country)")
        if r.plan.duplicates:
            out.append(f"{len(r.plan.duplicates)} repeated signatures (same name and country) sent once")
        if self.damaged:
            out.append(f"{self.ledger_path}: {len(self.damaged)} damaged line(s) ignored (torn by a crash?): "
                       + ", ".join(str(n) for n in self.damaged[:10]))
        out += [f"not composed: {p}" for p in r.problems]
        if r.fatal:
            out.append(f"stopped: {r.fatal}")
        return out

    def unreachable(self) -> list[Row]:
        return [row for row in self.rows if not row.mission.reachable]

    @staticmethod
    def _contact(mp: MissionPlan) -> str:
        m = mp.mission
        bits = [f"{p.label} {p.number}" for p in m.phones]
        if m.contact_form:
            bits.append(m.contact_form)
        if m.address:
            bits.append(m.address.replace("\n", ", "))
        return "; ".join(bits) or "no contact details"

    def text(self) -> str:
        head = ("mission", "local time", "route", "status", *COLUMNS)
        body = [(row.mission.mission.id, f"{row.mission.local:%d %b %H:%M}", row.mission.route.kind, row.status,
                 *(str(row.counts[c]) for c in COLUMNS)) for row in self.rows]
        total = ("total", "", "", "", *(str(self.totals[c]) for c in COLUMNS))
        table = [head, *body, total]
        widths = [max(len(r[i]) for r in table) for i in range(len(head))]

        def line(cells: tuple[str, ...]) -> str:
            return "  ".join(c.ljust(w) if i < 4 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

        out = [self.headline(), "", line(head), *(line(r) for r in body), line(total), ""]
        out += self.notes()
        missing = self.unreachable()
        if missing:
            out += ["", "deliver in person or call:"]
            out += [f"  {row.mission.mission.id} ({_letters(row.counts['letters'])}): {self._contact(row.mission)}"
                    for row in missing]
        return "\n".join(out).rstrip() + "\n"

    def markdown(self) -> str:
        def cell(text: str) -> str:
            return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").replace("<", "&lt;")

        out = ["## Dispatch report", "", cell(self.headline()), "",
               "| Mission | Local time | Route | Status | " + " | ".join(c.capitalize() for c in COLUMNS) + " |",
               "|---|---|---|---|" + "---:|" * len(COLUMNS)]
        for row in self.rows:
            m = row.mission.mission
            out.append(f"| {cell(m.name)} (`{m.id}`) | {row.mission.local:%d %b %H:%M} | {row.mission.route.kind} | "
                       f"{cell(row.status)} | "
                       + " | ".join(str(row.counts[c]) for c in COLUMNS) + " |")
        out.append("| **Total** | | | | " + " | ".join(f"**{self.totals[c]}**" for c in COLUMNS) + " |")
        out += ["", *(f"- {cell(n)}" for n in self.notes())]
        missing = self.unreachable()
        if missing:
            out += ["", "### Deliver in person or call", ""]
            out += [f"- **{cell(r.mission.mission.name)}** ({_letters(r.counts['letters'])}): {cell(self._contact(r.mission))}"
                    for r in missing]
        return "\n".join(out) + "\n"

    def annotations(self) -> list[str]:
        """GitHub workflow commands drawing attention to letters that need a human."""
        out = []
        if self.totals["failed"]:
            out.append(f"::warning title=dispatch::{self.totals['failed']} letters failed (5xx); see the step summary")
        if self.totals["unknown"]:
            out.append(f"::warning title=dispatch::{self.totals['unknown']} letters in state unknown; check before --resend-unknown")
        if self.result.fatal:
            out.append(f"::error title=dispatch::{self.result.fatal.replace(chr(10), ' ')}")
        return out

    def write_step_summary(self, environ: os._Environ[str] | dict[str, str] = os.environ) -> bool:
        """Append the Markdown report to $GITHUB_STEP_SUMMARY when it is set."""
        target = environ.get("GITHUB_STEP_SUMMARY")
        if not target:
            return False
        with open(Path(target), "a", encoding="utf-8") as fh:
            fh.write(self.markdown())
        return True

    def output(self, environ: os._Environ[str] | dict[str, str] = os.environ) -> str:
        """What the command prints: the text, then the annotations under GitHub Actions."""
        notes = self.annotations() if environ.get("GITHUB_ACTIONS") == "true" else []
        return self.text() + "".join(f"{line}\n" for line in notes)

    def show(self, echo: Callable[..., object]) -> None:
        """Print the output, then raise what `check` raises."""
        echo(self.output(), nl=False)
        self.check()

    def check(self) -> None:
        """Raise CampaignError when the run was stopped by a problem that hits every letter."""
        if self.result.fatal:
            raise CampaignError(f"dispatch stopped: {self.result.fatal}")


def build(result: Result, ledger: Ledger) -> Report:
    """Count every mission's letters by ledger state (or pending / no email)."""
    rows: list[Row] = []
    totals: Counter[str] = Counter()
    routes: Counter[str] = Counter()
    for mp in result.plan.missions.values():
        row = Row(mp)
        for item in mp.letters:
            row.counts["letters"] += 1
            state = ledger.state(item.key)
            info = ledger.letters.get(item.key)
            routes[info.route if state in ("sent", "sending", "unknown") and info and info.route else mp.route.kind] += 1
            if state in ("sent", "deferred", "failed", "unknown", "bounced"):
                row.counts[state] += 1
            elif state == "sending":
                row.counts["unknown"] += 1
            elif not mp.reachable:
                row.counts["not mailed"] += 1
            else:
                row.counts["pending"] += 1
        totals.update(row.counts)
        rows.append(row)
    run: Counter[str] = Counter(o.state for o in result.outcomes.values())
    return Report(result, rows, totals, run, list(ledger.damaged), ledger.rel, routes)
