"""Abuse limits: per-client token buckets (a burst and a sustained rate), a body size cap, and
the origin check that refuses cross-site form posts."""

from __future__ import annotations

import ipaddress
import json
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import urlsplit

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def client_key(host: str | None) -> str:
    """The unit a limit applies to: an IPv4 address, or an IPv6 /64 (one subscriber's block)."""
    if not host:
        return "unknown"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if address.version == 6:
        if address.ipv4_mapped:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


class RateLimiter:
    """Two token buckets per client: `burst` per minute and `hourly` per hour.

    A client may send `burst` requests at once, then one every 60/burst seconds, and no more
    than `hourly` in any hour on average. At most `max_clients` clients are tracked (the least
    recently seen are forgotten first), so memory stays bounded under a flood of addresses.
    """

    def __init__(self, burst: int, hourly: int, max_clients: int = 100_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.burst, self.hourly = burst, hourly
        self.max_clients = max_clients
        self.clock = clock
        self._buckets: OrderedDict[str, tuple[float, float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def hit(self, client: str) -> float:
        """Take one token for `client`: 0 if allowed, else the seconds to wait before retrying."""
        now = self.clock()
        with self._lock:
            short, long_, last = self._buckets.pop(client, (float(self.burst), float(self.hourly), now))
            elapsed = max(0.0, now - last)
            short = min(float(self.burst), short + elapsed * self.burst / 60.0)
            long_ = min(float(self.hourly), long_ + elapsed * self.hourly / 3600.0)
            if short >= 1 and long_ >= 1:
                self._buckets[client] = (short - 1, long_ - 1, now)
                wait = 0.0
            else:
                self._buckets[client] = (short, long_, now)
                wait = max((1 - short) * 60.0 / self.burst if short < 1 else 0.0,
                           (1 - long_) * 3600.0 / self.hourly if long_ < 1 else 0.0)
            while len(self._buckets) > self.max_clients:
                self._buckets.popitem(last=False)
        return wait


class BodyTooLarge(Exception):
    pass


class BodyLimit:
    """ASGI middleware: refuse request bodies over `max_bytes` with 413 and a JSON error.

    Checks Content-Length up front and counts the bytes of chunked bodies as they arrive, so
    an oversized body is never read into memory.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None:
            try:
                declared = int(length)
            except ValueError:
                declared = -1
            if declared < 0:
                await _reply(send, 400, "malformed", "the Content-Length header is not a number")
                return
            if declared > self.max_bytes:
                await _too_large(send, self.max_bytes)
                return
        seen = 0
        exceeded = replied = False

        async def counting_receive() -> Message:
            nonlocal seen, exceeded
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    exceeded = True
                    raise BodyTooLarge()
            return message

        async def guarded_send(message: Message) -> None:
            # Once the body ran over, whatever the app answers (its error handler's 500) is
            # replaced by the 413.
            nonlocal replied
            if exceeded:
                if not replied:
                    replied = True
                    await _too_large(send, self.max_bytes)
                return
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except BodyTooLarge:
            pass
        if exceeded and not replied:
            await _too_large(send, self.max_bytes)


SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def origin(url: str) -> str:
    """'https://example.org/path' -> 'https://example.org' (scheme and host, as browsers send Origin)."""
    parts = urlsplit(url.strip())
    return f"{parts.scheme}://{parts.netloc}".lower() if parts.scheme and parts.netloc else url.strip().rstrip("/").lower()


def cross_site(headers: dict[bytes, bytes], allowed: set[str]) -> str | None:
    """Why a state-changing request comes from another site, or None.

    `Sec-Fetch-Site: same-origin` (set by the browser, never by a page) is this service's own
    page; otherwise an `Origin` must be one of `allowed`. `Origin: null` (a sandboxed frame, a
    page with `Referrer-Policy: no-referrer`) proves nothing, so it needs Sec-Fetch-Site. A
    request with neither header is not from a browser (curl, scripts): no cross-site vector.
    """
    fetch_site = headers.get(b"sec-fetch-site", b"").decode("latin-1").strip().lower()
    sent = headers.get(b"origin", b"").decode("latin-1").strip()
    if fetch_site == "same-origin":
        return None
    if sent and sent != "null":
        return None if origin(sent) in allowed else f"posts from {sent} are not accepted"
    if fetch_site:
        return None if fetch_site == "none" else f"{fetch_site} posts are not accepted"
    return "posts from a page that hides its origin are not accepted" if sent else None


class OriginCheck:
    """ASGI middleware: 403 with a JSON error for a state-changing request from another site.

    `allowed` gives the accepted origins at each request (the public URL may be set late)."""

    def __init__(self, app: ASGIApp, allowed: Callable[[], set[str]]) -> None:
        self.app = app
        self.allowed = allowed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] not in SAFE_METHODS:
            refused = cross_site(dict(scope.get("headers") or []), self.allowed())
            if refused:
                await _reply(send, 403, "cross_site", f"{refused}: sign on the campaign's own site")
                return
        await self.app(scope, receive, send)


async def _too_large(send: Send, limit: int) -> None:
    await _reply(send, 413, "too_large", f"the request body is over the {limit:,}-byte limit")


async def _reply(send: Send, status: int, error: str, message: str) -> None:
    body = json.dumps({"error": error, "message": message}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


def retry_after(seconds: float) -> str:
    return str(max(1, math.ceil(seconds)))
