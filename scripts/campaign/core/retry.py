"""Retry pauses: exponential backoff, capped, with optional jitter; one formula for every retry."""

from __future__ import annotations

import random


def backoff(attempt: int, first: float, cap: float = float("inf"), jitter: bool = False) -> float:
    """Seconds to wait after failed try number `attempt` (1-based): `first`, doubling each time,
    at most `cap`; with `jitter`, a random 50-100% of that, so many clients do not retry in step."""
    pause = min(cap, first * 2 ** max(0, attempt - 1))
    return pause * (0.5 + random.random() / 2) if jitter else pause
