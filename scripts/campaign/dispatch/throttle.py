"""Sending limits from data/campaign.yaml `dispatch.throttle`, per recipient domain and overall.

- per domain: at most one connection at a time (the dispatcher sends one message at a time),
  at least `per_domain_delay` seconds between two messages, at most `per_domain_hourly`
  messages in any hour;
- overall: at most `global_per_minute` messages a minute, spread evenly (one every
  60/global_per_minute seconds) rather than in bursts.

The throttle only answers "when may the next message to this domain go?"; the dispatcher
sends to whichever domain is ready and sleeps when none is.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

from campaign.data import models


class Throttle:
    def __init__(self, per_domain_delay: float = 0.0, per_domain_hourly: int | None = None,
                 global_per_minute: int | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.delay = per_domain_delay
        self.hourly = per_domain_hourly
        self.interval = 60.0 / global_per_minute if global_per_minute else 0.0
        self.clock = clock
        self._last: dict[str, float] = {}
        self._hour: dict[str, deque[float]] = {}
        self._last_any: float | None = None

    @classmethod
    def from_settings(cls, settings: models.Throttle, clock: Callable[[], float] = time.monotonic) -> Throttle:
        return cls(settings.per_domain_delay, settings.per_domain_hourly, settings.global_per_minute, clock)

    @classmethod
    def unlimited(cls, clock: Callable[[], float] = time.monotonic) -> Throttle:
        return cls(clock=clock)

    def ready_at(self, domain: str) -> float:
        """The earliest clock time a message to `domain` may be sent."""
        at = 0.0
        if self._last_any is not None:
            at = self._last_any + self.interval
        last = self._last.get(domain)
        if last is not None:
            at = max(at, last + self.delay)
        if self.hourly is not None:
            window = self._hour.get(domain)
            if window:
                now = self.clock()
                while window and window[0] <= now - 3600:
                    window.popleft()
                if len(window) >= self.hourly:
                    at = max(at, window[0] + 3600)
        return at

    def record(self, domain: str) -> None:
        """Note that a message to `domain` was just handed to the mail server."""
        now = self.clock()
        self._last[domain] = now
        self._last_any = now
        if self.hourly is not None:
            self._hour.setdefault(domain, deque()).append(now)
