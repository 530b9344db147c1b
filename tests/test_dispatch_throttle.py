"""Throttling per recipient domain (minimum delay, hourly cap) and overall, and retries with
exponential backoff, on a fake clock."""

from __future__ import annotations

import re
from email.message import EmailMessage
from pathlib import Path

import pytest

from campaign.data import dataset
from campaign.dispatch.planning import parse_now
from campaign.dispatch.runner import Dispatcher, Settings
from campaign.dispatch.throttle import Throttle
from campaign.mail import BaseBackend, Outcome
from campaign.mail.base import recipients
from campaign.records.ledger import Ledger
from support.dispatch import ALL_DUE, add_signatures


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0
        self.now += seconds


class Recorder(BaseBackend):
    """A backend that notes when (on the fake clock) each message went, and can defer."""

    name = "recorder"

    def __init__(self, clock: Clock, defer: dict[str, int] | None = None) -> None:
        super().__init__()
        self.clock, self.defer = clock, dict(defer or {})
        self.sent: list[tuple[float, str]] = []
        self.tries: list[tuple[float, str]] = []

    def _deliver(self, message: EmailMessage, before_data) -> Outcome:  # type: ignore[no-untyped-def]
        to = recipients(message)[0]
        self.tries.append((self.clock(), to))
        if self.defer.get(to, 0) > 0:
            self.defer[to] -= 1
            return Outcome("deferred", "451 4.7.1 try later")
        before_data()
        self.sent.append((self.clock(), to))
        return Outcome("sent", "250 ok")


def test_per_domain_delay() -> None:
    clock = Clock()
    t = Throttle(per_domain_delay=2.0, clock=clock)
    assert wait(t, "a.org") == 0
    t.record("a.org")
    assert wait(t, "a.org") == 2.0 and wait(t, "b.org") == 0
    clock.sleep(1.5)
    assert wait(t, "a.org") == pytest.approx(0.5)


def test_hourly_cap_per_domain() -> None:
    clock = Clock()
    t = Throttle(per_domain_hourly=3, clock=clock)
    for _ in range(3):
        t.record("a.org")
        clock.sleep(10)
    assert wait(t, "a.org") == pytest.approx(3600 - 30)
    assert wait(t, "b.org") == 0
    clock.sleep(3600 - 30)
    assert wait(t, "a.org") == 0


def test_global_rate_spreads_messages_evenly() -> None:
    clock = Clock()
    t = Throttle(global_per_minute=120, clock=clock)
    t.record("a.org")
    assert wait(t, "b.org") == pytest.approx(0.5)


def test_settings_come_from_campaign_yaml(repo: Path) -> None:
    campaign = dataset.load(repo).campaign
    assert campaign is not None
    t = Throttle.from_settings(campaign.dispatch.throttle)
    assert (t.delay, t.hourly, t.interval) == (1.0, 600, 0.5)


def two_domains(repo: Path) -> Path:
    """4 letters to example.org (Lisbon) and 4 to another domain (Washington)."""
    path = repo / "data/missions.yaml"
    path.write_text(re.sub("washington.test@example.org", "washington@other.example", path.read_text()), encoding="utf-8")
    add_signatures(repo, "pt-lisbon", 4)
    add_signatures(repo, "us-washington", 4, country="US")
    return repo


def run(repo: Path, backend: Recorder, clock: Clock, throttle: Throttle | None, **settings: object) -> Dispatcher:
    ds = dataset.load(repo)
    assert ds.campaign is not None
    book = Ledger.for_campaign(repo, ds.campaign)
    runner = Dispatcher(ds, backend, book, Settings(now=parse_now(ALL_DUE), **settings), throttle,  # type: ignore[arg-type]
                        clock=clock, sleep=clock.sleep)
    runner.result = runner.run()  # type: ignore[attr-defined]
    book.close()
    return runner


def test_dispatch_alternates_domains_and_waits_for_the_slower_one(repo: Path) -> None:
    two_domains(repo)
    clock = Clock()
    backend = Recorder(clock)
    run(repo, backend, clock, Throttle(per_domain_delay=10, per_domain_hourly=100, global_per_minute=60, clock=clock))
    domains = [to.split("@")[1] for _, to in backend.sent]
    assert domains == ["example.org", "other.example"] * 4  # round robin while one domain waits
    times = [at for at, _ in backend.sent]
    by_domain: dict[str, list[float]] = {}
    for at, to in backend.sent:
        by_domain.setdefault(to.split("@")[1], []).append(at)
    for series in by_domain.values():
        assert all(b - a >= 10 for a, b in zip(series, series[1:]))
    assert all(b - a >= 1 for a, b in zip(times, times[1:]))  # 60 a minute overall
    assert times[-1] - times[0] == pytest.approx(31)


def test_hourly_cap_stops_a_domain_and_the_budget_leaves_the_rest_deferred(repo: Path) -> None:
    two_domains(repo)
    clock = Clock()
    backend = Recorder(clock)
    runner = run(repo, backend, clock, Throttle(0, 2, None, clock=clock), time_budget=600)
    assert len(backend.sent) == 4  # two per domain, then an hour's wait exceeds the budget
    assert len(runner.result.left_over) == 4  # type: ignore[attr-defined]
    assert "time budget" in str(runner.result.stopped)  # type: ignore[attr-defined]
    assert clock.now - 1000 == pytest.approx(600)


def test_deferred_letters_are_retried_with_exponential_backoff(repo: Path) -> None:
    add_signatures(repo, "pt-lisbon", 1)
    clock = Clock()
    backend = Recorder(clock, defer={"lisbon.test@example.org": 3})
    runner = run(repo, backend, clock, None, backoff=5.0, max_backoff=15.0, attempts=5)
    tries = [at - 1000 for at, _ in backend.tries]
    assert tries == [0, 5, 15, 30]  # waits of 5, 10, then 15 (capped)
    assert len(backend.sent) == 1 and runner.result.attempts == 4  # type: ignore[attr-defined]


def test_retries_stop_after_the_attempts(repo: Path) -> None:
    add_signatures(repo, "pt-lisbon", 1)
    clock = Clock()
    backend = Recorder(clock, defer={"lisbon.test@example.org": 99})
    runner = run(repo, backend, clock, None, backoff=1.0, attempts=3)
    assert len(backend.tries) == 3 and backend.sent == []
    assert [o.state for o in runner.result.outcomes.values()] == ["deferred"]  # type: ignore[attr-defined]


def wait(t: Throttle, domain: str) -> float:
    """Seconds before a message to `domain` may go (0 when it may go now)."""
    return max(0.0, t.ready_at(domain) - t.clock())
