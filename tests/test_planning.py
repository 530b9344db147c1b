"""Planning: a mission's letters are due on the dispatch date from the send time in the
mission's own time zone; around the date line, outside the date, and the workflow's schedule."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from campaign.core.errors import CampaignError
from campaign.data import dataset
from campaign.data.models import Campaign
from campaign.dispatch import planning
from support.dispatch import add_signatures, configure, dispatch, states

ROOT = Path(__file__).resolve().parents[1]
TONGA, CHICAGO = "Pacific/Tongatapu", "America/Chicago"  # UTC+13 and UTC-6 in December


@pytest.fixture
def settings(repo: Path) -> Campaign:
    campaign = dataset.load(repo).campaign
    assert campaign is not None
    return campaign


def at(text: str) -> dt.datetime:
    return planning.parse_now(text)


@pytest.mark.parametrize(("now", "tonga", "chicago"), [
    ("2026-12-09T10:59:00Z", "before", "before"),    # Tonga 9 Dec 23:59, Chicago 9 Dec 04:59
    ("2026-12-09T11:00:00Z", "waiting", "before"),   # Tonga 10 Dec 00:00: the day, not the hour
    ("2026-12-09T19:59:00Z", "waiting", "before"),   # Tonga 10 Dec 08:59
    ("2026-12-09T20:00:00Z", "due", "before"),       # Tonga 10 Dec 09:00: first letters anywhere
    ("2026-12-10T05:59:00Z", "due", "before"),       # Tonga 10 Dec 18:59, Chicago 9 Dec 23:59
    ("2026-12-10T06:00:00Z", "due", "waiting"),      # Chicago 10 Dec 00:00
    ("2026-12-10T10:59:00Z", "due", "waiting"),      # Tonga 10 Dec 23:59: its last minute
    ("2026-12-10T11:00:00Z", "grace", "waiting"),    # Tonga 11 Dec 00:00
    ("2026-12-10T14:59:00Z", "grace", "waiting"),    # Chicago 08:59
    ("2026-12-10T15:00:00Z", "grace", "due"),        # Chicago 09:00
    ("2026-12-11T05:59:00Z", "grace", "due"),        # Chicago 10 Dec 23:59
    ("2026-12-11T06:00:00Z", "grace", "grace"),      # Chicago 11 Dec 00:00
    ("2026-12-11T11:00:00Z", "after", "grace"),      # Tonga 12 Dec 00:00: past the deadline
    ("2026-12-12T06:00:00Z", "after", "after"),
    ("2027-12-10T16:00:00Z", "after", "after"),      # a year later: nothing
    ("2025-12-10T16:00:00Z", "before", "before"),    # a year early: nothing
])
def test_phase_around_the_date_line(settings: Campaign, now: str, tonga: str, chicago: str) -> None:
    d = settings.dispatch
    assert planning.phase(d, TONGA, at(now)) == tonga
    assert planning.phase(d, CHICAGO, at(now)) == chicago


def test_due_moments_span_the_day_from_utc_plus_14_to_utc_minus_10(settings: Campaign) -> None:
    d = settings.dispatch
    assert planning.due_at(d, "Pacific/Kiritimati") == at("2026-12-09T19:00:00Z")
    assert planning.due_at(d, TONGA) == at("2026-12-09T20:00:00Z")
    assert planning.due_at(d, CHICAGO) == at("2026-12-10T15:00:00Z")
    assert planning.due_at(d, "Pacific/Honolulu") == at("2026-12-10T19:00:00Z")


@pytest.mark.parametrize("text", ["2026-12-10", "2026-12-10T09:00", "tomorrow", "2026-13-10T09:00:00Z"])
def test_now_needs_a_date_time_and_offset(text: str) -> None:
    with pytest.raises(CampaignError) as err:
        planning.parse_now(text)
    assert err.value.problems[0].text().startswith("--now:1: ")


def test_parse_now_accepts_z_and_offsets() -> None:
    assert planning.parse_now("2026-12-10T09:00:00+13:00") == at("2026-12-09T20:00:00Z")


@pytest.fixture
def two_sides(repo: Path) -> Path:
    """Letters to a mission in UTC+13 and one in UTC-6."""
    add_signatures(repo, "to-nukualofa", 2, country="TO")
    add_signatures(repo, "us-chicago", 3, country="US")
    return repo


def sent_by_mission(root: Path) -> dict[str, int]:
    from support.dispatch import REHEARSAL, ledger_lines

    counts: dict[str, int] = {}
    for e in ledger_lines(root, REHEARSAL):  # the file backend keeps a rehearsal ledger
        if e["state"] == "sent":
            counts[str(e["mission"])] = counts.get(str(e["mission"]), 0) + 1
    return counts


@pytest.mark.parametrize(("now", "expected"), [
    ("2026-12-09T19:59:00Z", {}),
    ("2026-12-09T20:00:00Z", {"to-nukualofa": 2}),
    ("2026-12-10T14:59:00Z", {}),  # Tonga's day is over (never tried: not sent late), Chicago not yet
    ("2026-12-10T15:00:00Z", {"us-chicago": 3}),
    ("2026-12-11T05:59:00Z", {"us-chicago": 3}),
    ("2026-12-11T06:00:00Z", {}),
    ("2026-12-08T12:00:00Z", {}),
    ("2027-12-10T15:00:00Z", {}),
])
def test_dispatch_sends_only_what_is_due_at_each_moment(two_sides: Path, now: str, expected: dict[str, int]) -> None:
    result = dispatch(two_sides, "--now", now)
    assert result.exit_code == 0, result.output
    assert sent_by_mission(two_sides) == expected
    assert len(list((two_sides / "outbox").glob("*.eml"))) == sum(expected.values())


def test_a_day_of_runs_sends_both_sides_once(two_sides: Path) -> None:
    for hour in range(0, 48, 2):
        now = dt.datetime(2026, 12, 9, 12, tzinfo=dt.timezone.utc) + dt.timedelta(hours=hour)
        dispatch(two_sides, "--now", now.isoformat())
    assert sent_by_mission(two_sides) == {"to-nukualofa": 2, "us-chicago": 3}
    assert len(list((two_sides / "outbox").glob("*.eml"))) == 5


@pytest.mark.parametrize("now", ["2026-11-01T12:00:00Z", "2026-12-12T12:00:00Z", "2027-12-10T15:00:00Z"])
def test_outside_the_dispatch_date_only_force_sends(two_sides: Path, now: str) -> None:
    quiet = dispatch(two_sides, "--now", now)
    assert "this run: 0 sent" in quiet.output and not states(two_sides)
    forced = dispatch(two_sides, "--now", now, "--force")
    assert "this run: 5 sent" in forced.output and ", forced" in forced.output


def test_mission_and_limit_narrow_the_plan(two_sides: Path) -> None:
    result = dispatch(two_sides, "--force", "--mission", "us-chicago", "--limit", "2")
    assert "this run: 2 sent" in result.output
    assert sent_by_mission(two_sides) == {"us-chicago": 2}
    unknown = dispatch(two_sides, "--force", "--mission", "xx-nowhere")
    assert unknown.exit_code == 1 and "--mission:1: unknown mission 'xx-nowhere'" in unknown.output


def test_per_mission_mode_plans_one_letter_per_mission(two_sides: Path) -> None:
    configure(two_sides, mode="'per-mission'")
    ds = dataset.load(two_sides)
    plan = planning.plan(ds, at("2026-12-10T15:00:00Z"))
    assert {m: [len(item.signatures) for item in mp.letters] for m, mp in plan.missions.items()} == {
        "to-nukualofa": [2], "us-chicago": [3]}
    assert [item.key for item in plan.missions["us-chicago"].letters] == ["m-us-chicago"]


def test_repeated_signatures_are_planned_once(repo: Path) -> None:
    add_signatures(repo, "pt-lisbon", 1, prefix="Same")
    from campaign.data import signatures
    from campaign.data.models import Signature

    twin = Signature.model_validate({"type": "individual", "name": "SAME  pt-lisbon 0", "country": "PT",
                                     "mission": "pt-lisbon", "signed": "2026-11-21", "publish": True,
                                     "letter": True, "source": "import"})
    (repo / "data/signatories/zz").mkdir(parents=True)
    (repo / "data/signatories/zz/twin.yaml").write_text(signatures.to_yaml(twin), encoding="utf-8")
    plan = planning.plan(dataset.load(repo, use_cache=False), at("2026-12-10T12:00:00Z"))
    assert len(plan.missions["pt-lisbon"].letters) == 1 and plan.duplicates == ["data/signatories/zz/twin.yaml"]


# --- the workflow's schedule covers every mission's day ------------------------------------


def _expand(field: str, low: int, high: int) -> set[int]:
    values: set[int] = set()
    for part in field.split(","):
        if part == "*":
            values |= set(range(low, high + 1))
        elif "-" in part:
            a, b = part.split("-")
            values |= set(range(int(a), int(b) + 1))
        else:
            values.add(int(part))
    return values


def scheduled_runs(year: int) -> list[dt.datetime]:
    """Every scheduled run of dispatch.yml in December of `year` (UTC)."""
    workflow = yaml.safe_load((ROOT / ".github/workflows/dispatch.yml").read_text(encoding="utf-8"))
    triggers = workflow[True] if True in workflow else workflow["on"]  # YAML 1.1 reads `on` as true
    runs = set()
    for entry in triggers["schedule"]:
        minute, hour, day, month, weekday = entry["cron"].split()
        assert weekday == "*" and _expand(month, 1, 12) == {12}
        assert all(m % 2 == 1 for m in _expand(minute, 0, 59)), "run at odd minutes, off the busy hour marks"
        for d in _expand(day, 1, 31):
            for h in _expand(hour, 0, 23):
                for m in _expand(minute, 0, 59):
                    runs.add(dt.datetime(year, 12, d, h, m, tzinfo=dt.timezone.utc))
    return sorted(runs)


def test_the_schedule_covers_utc_plus_14_to_utc_minus_10_and_the_deadline(settings: Campaign) -> None:
    d = settings.dispatch
    runs = scheduled_runs(d.date.year)
    first_due = planning.due_at(d, "Pacific/Kiritimati")  # UTC+14: the first 09:00 on Earth
    # the end of the deadline day at UTC-10 (Honolulu): the last moment a deferred letter may go
    last_day_end = dt.datetime.combine(d.deadline + dt.timedelta(days=1), dt.time(0), tzinfo=dt.timezone.utc) + dt.timedelta(hours=10)
    assert runs[0] >= first_due - dt.timedelta(minutes=1) and runs[0] - first_due <= dt.timedelta(minutes=30)
    window = [r for r in runs if first_due <= r <= last_day_end]
    gaps = [b - a for a, b in zip(window, window[1:])]
    assert max(gaps) <= dt.timedelta(minutes=30)
    assert last_day_end - window[-1] <= dt.timedelta(minutes=30)
    for zone in ("Pacific/Kiritimati", "Pacific/Tongatapu", "Asia/Tokyo", "Europe/London", "America/Chicago", "Pacific/Honolulu"):
        due = planning.due_at(d, zone)
        assert any(due <= r <= due + dt.timedelta(minutes=30) for r in runs), zone

