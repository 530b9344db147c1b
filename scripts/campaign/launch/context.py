"""What the checks of `campaign doctor` read, gathered once: the data and the line of every
setting, the environment, the missions that receive letters with their routes, the dispatch plan.

A check is a function of the `Context` returning `Found`: (level, problem) pairs, where `BLOCK`
stops the launch and `WARN` is something the organisers must plan for (ARCHITECTURE.md,
"Readiness (doctor)").
"""

from __future__ import annotations

import datetime as dt
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from campaign.core.errors import DataError, Problem
from campaign.data import yamlio
from campaign.data.dataset import CAMPAIGN, Dataset, Record, read
from campaign.data.models import Campaign, Mission
from campaign.dispatch.planning import Plan, plan
from campaign.i18n import catalogues
from campaign.records.routes import Failure, Route, failures, route

BLOCK, WARN = "block", "warn"
Found = list[tuple[str, Problem]]


def settings_lines(root: Path) -> yamlio.Document | None:
    """data/campaign.yaml with the line of every value (None when it does not parse)."""
    raw = read(root, CAMPAIGN)
    try:
        return None if isinstance(raw, Problem) else yamlio.loads(raw)
    except DataError:
        return None


@dataclass
class Context:
    root: Path
    env: Mapping[str, str]
    ds: Dataset
    today: dt.date
    timeout: float
    """Seconds for each network step (a connection, a request)."""
    settings: yamlio.Document | None

    @property
    def campaign(self) -> Campaign:
        assert self.ds.campaign is not None, "the checks that read the campaign run only when it loaded"
        return self.ds.campaign

    def line(self, *loc: str) -> int:
        """The line of a setting in data/campaign.yaml (`line("dispatch", "sender", "email")`)."""
        return self.settings.line_of(loc) if self.settings else 1

    @cached_property
    def tls(self) -> ssl.SSLContext:
        """How servers' certificates are checked: the system's authorities, or SSL_CERT_FILE's."""
        return ssl.create_default_context(cafile=self.env.get("SSL_CERT_FILE") or None)

    @cached_property
    def failing(self) -> dict[str, Failure]:
        return failures(self.root)

    @cached_property
    def words(self) -> catalogues.Catalogues:
        """Each language's words in its version of the letter (compiled when first asked)."""
        return catalogues.Catalogues(self.root)

    @cached_property
    def plan(self) -> Plan:
        """Every letter of the signatures so far, whatever the clock (`campaign dispatch --plan`'s)."""
        return plan(self.ds, dt.datetime.now(dt.timezone.utc), force=True, failing=self.failing)

    @cached_property
    def routes(self) -> list[tuple[Record[Mission], Route]]:
        """Every mission, in file order, with the route its letters take."""
        dispatch = self.campaign.dispatch
        return [(rec, route(rec.model, dispatch, self.failing)) for rec in self.ds.missions]

    @cached_property
    def receiving(self) -> list[tuple[Record[Mission], Route]]:
        """The missions that receive letters: each country's (`Dataset.serving`: the form sends
        its signers' letters there) and any other one a signature names."""
        wanted = {m.id for m in self.ds.serving.values()} | set(self.plan.missions)
        return [(rec, way) for rec, way in self.routes if rec.model.id in wanted]

    def prepare(self) -> None:
        """Compute what the checks share before they run side by side in threads."""
        for name in ("tls", "failing", "words", "plan", "routes", "receiving"):
            getattr(self, name)
