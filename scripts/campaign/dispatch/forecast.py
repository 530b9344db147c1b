"""`campaign dispatch --plan`: before the day, what the throttle makes of the letters.

For every route (`records.routes`), and for every recipient domain of the mailed routes: how
many letters there are, how long the throttle needs to send them, and a warning when a domain
cannot get all its letters out between its missions' send time and the deadline.

A domain's pace is one letter every max(`per_domain_delay`, 3600 / `per_domain_hourly`)
seconds, and never more than `global_per_minute` overall. The schedule is simulated letter by
letter: each waits for its mission's send time and the domain's pace, and is late when it
would go after the end of the deadline day in its mission's time zone. Overall, the global
pace is checked the same way across every domain.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from campaign.data.models import Dispatch
from campaign.dispatch.planning import Plan, due_at
from campaign.records.routes import KINDS, domain_of


@dataclass
class Lane:
    """The letters of one recipient domain (or all of them: the global lane)."""

    name: str
    letters: int = 0
    seconds: float = 0.0  # the throttle's time for them, at this lane's pace
    late: int = 0
    finish: dt.datetime | None = None
    windows: list[tuple[dt.datetime, dt.datetime]] = field(default_factory=list)  # (due, deadline end) per letter

    def simulate(self, interval: float) -> None:
        self.letters = len(self.windows)
        self.seconds = max(0, self.letters - 1) * interval
        moment: dt.datetime | None = None
        for due, end in sorted(self.windows):
            moment = due if moment is None else max(due, moment + dt.timedelta(seconds=interval))
            self.late += moment > end
        self.finish = moment


@dataclass
class Forecast:
    plan: Plan
    dispatch: Dispatch
    routes: Counter[str]
    missions: Counter[str]
    lanes: list[Lane]
    overall: Lane

    def late(self) -> list[str]:
        """What will not fit in the day: one message per late domain, and one for the global pace."""
        t = self.dispatch.throttle
        fix = ("send one letter per mission (`dispatch.mode: per-mission`) or raise "
               "`dispatch.throttle.per_domain_hourly` (and lower `per_domain_delay`)")
        out = [f"{lane.name}: {lane.late} of {lane.letters} letters cannot go out before the deadline "
               f"({self.dispatch.deadline}) at the throttle's pace (one every {_pace(self.dispatch):g} s: "
               f"per_domain_delay {t.per_domain_delay:g} s, per_domain_hourly {t.per_domain_hourly}); {fix}"
               for lane in self.lanes if lane.late]
        if self.overall.late:
            out.append(f"overall: {self.overall.late} of {self.overall.letters} letters cannot go out before "
                       f"the deadline at global_per_minute {t.global_per_minute}; raise "
                       "`dispatch.throttle.global_per_minute` or send per mission (`dispatch.mode: per-mission`)")
        return out

    def warnings(self) -> list[str]:
        return [f"warning: {line}" for line in self.late()]

    def output(self) -> str:
        return self.text()

    def show(self, echo: Callable[..., object]) -> None:
        """Print the output, then raise what `check` raises."""
        echo(self.output(), nl=False)
        self.check()

    def check(self) -> None:
        """A forecast only informs (its warnings are in the text)."""

    def text(self) -> str:
        d = self.dispatch
        head = (f"dispatch plan for {d.date} (send time {d.send_time:%H:%M} local, deadline {d.deadline}, "
                f"mode {d.mode}): {sum(self.routes.values())} letters")
        out = [head, "", "by route:"]
        out += [f"  {kind:9} {self.routes[kind]:>7} letters to {self.missions[kind]:>4} missions" for kind in KINDS]
        out += ["", f"by recipient domain (one letter every {_pace(d):g} s each, {d.throttle.global_per_minute}/min overall):"]
        width = max((len(lane.name) for lane in self.lanes), default=6)
        for lane in self.lanes:
            finish = f"last at {lane.finish:%d %b %H:%M} UTC" if lane.finish else ""
            out.append(f"  {lane.name:{width}} {lane.letters:>7} letters  {_duration(lane.seconds):>9}  {finish}"
                       + (f"  ({lane.late} late)" if lane.late else ""))
        out.append(f"  {'overall':{width}} {self.overall.letters:>7} letters  {_duration(self.overall.seconds):>9}")
        warnings = self.warnings()
        return "\n".join(out + ([""] + warnings if warnings else ["", "every domain gets its letters out in time"])) + "\n"


def _pace(d: Dispatch) -> float:
    return max(d.throttle.per_domain_delay, 3600 / d.throttle.per_domain_hourly)


def _duration(seconds: float) -> str:
    minutes = round(seconds / 60)
    return f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"


def forecast(the_plan: Plan, dispatch: Dispatch) -> Forecast:
    """The forecast of a plan made with `force` (every letter, whatever the clock)."""
    routes: Counter[str] = Counter()
    missions: Counter[str] = Counter()
    lanes: dict[str, Lane] = {}
    overall = Lane("overall")
    for mp in the_plan.missions.values():
        kind = mp.route.kind
        routes[kind] += len(mp.letters)
        missions[kind] += 1
        if not mp.route.mailed:
            continue
        due = due_at(dispatch, mp.mission.timezone)
        end = dt.datetime.combine(dispatch.deadline + dt.timedelta(days=1), dt.time(),
                                  tzinfo=ZoneInfo(mp.mission.timezone)).astimezone(dt.timezone.utc)
        lane = lanes.setdefault(domain_of(mp.route.address), Lane(domain_of(mp.route.address)))
        lane.windows += [(due, end)] * len(mp.letters)
        overall.windows += [(due, end)] * len(mp.letters)
    for lane in lanes.values():
        lane.simulate(_pace(dispatch))
    overall.simulate(60 / dispatch.throttle.global_per_minute)
    ordered = sorted(lanes.values(), key=lambda lane: (-lane.letters, lane.name))
    return Forecast(the_plan, dispatch, routes, missions, ordered, overall)
