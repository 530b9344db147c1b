"""Header and body deadlines for uvicorn's h11 protocol (uvicorn has neither; ARCHITECTURE.md, "Intake").

Each request gets two *total* deadlines, not idle timers: bytes that keep arriving do not
extend them, so a slowloris sending one byte every few seconds is still cut.

- header deadline (`header_timeout`, 10 s): on a new connection from the accept, on a kept-alive
  connection from the first byte of the next request (between requests uvicorn's own
  `timeout_keep_alive` applies), until the request's headers are complete. On expiry the client
  gets `408 Request Timeout` (if it sent anything) and the connection is closed.
- body deadline (`body_timeout`, 30 s): from the end of the headers to the end of the body,
  whether or not the app reads it. On expiry: a 408 if the app has not started its response;
  the app's `receive()` then returns `http.disconnect` and the connection is closed.

This leans on uvicorn internals (`H11Protocol.conn`, `cycle.response_started`,
`cycle.disconnected`, `cycle.message_event`, the `data_received`, `on_response_complete` and
`connection_lost` hooks), so uvicorn is held below the next minor version in pyproject.toml;
tests/test_intake_slow_clients.py fails against stock uvicorn.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

log = logging.getLogger("uvicorn.error")

REQUEST_TIMEOUT = (b"HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain; charset=utf-8\r\n"
                   b"content-length: 16\r\nconnection: close\r\n\r\nRequest Timeout\n")


class DeadlineProtocol(H11Protocol):
    """uvicorn's h11 protocol with a header and a body deadline per request."""

    header_timeout: float = 10.0
    body_timeout: float = 30.0
    _header_timer: asyncio.TimerHandle | None = None
    _body_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm("header")  # a new connection must send its headers in time

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._follow(received=True)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._follow(received=bool(self.conn.trailing_data[0]))  # a pipelined request may be buffered

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel("header", "body")
        super().connection_lost(exc)

    def _ours(self) -> bool:
        """False once the connection is closing (or was handed to another protocol)."""
        return (self.transport is not None and not self.transport.is_closing()
                and self.transport.get_protocol() is self)

    def _arm(self, which: str) -> None:
        timeout = self.header_timeout if which == "header" else self.body_timeout
        if getattr(self, f"_{which}_timer") is None and timeout:
            expired = self._header_expired if which == "header" else self._body_expired
            setattr(self, f"_{which}_timer", self.loop.call_later(timeout, expired))

    def _cancel(self, *which: str) -> None:
        for name in which:
            timer = getattr(self, f"_{name}_timer")
            if timer is not None:
                timer.cancel()
                setattr(self, f"_{name}_timer", None)

    def _follow(self, received: bool) -> None:
        """Arm or cancel the timers from where h11 is in the client's request."""
        if not self._ours():
            self._cancel("header", "body")
            return
        state = self.conn.their_state
        if state is h11.IDLE:  # no complete request head yet
            if received:
                self._arm("header")
        elif state is h11.SEND_BODY:  # head complete, body pending
            self._cancel("header")
            self._arm("body")
        else:  # DONE, MUST_CLOSE, CLOSED, ERROR, SWITCHED_PROTOCOL
            self._cancel("header", "body")

    def _header_expired(self) -> None:
        self._header_timer = None
        if not self._ours():
            return
        log.debug("%s - request headers not complete after %ss: closing", _peer(self.client), self.header_timeout)
        if self.conn.their_state is h11.IDLE and self.conn.trailing_data[0]:
            self.transport.write(REQUEST_TIMEOUT)
        self._cancel("body")
        self.transport.close()

    def _body_expired(self) -> None:
        self._body_timer = None
        if not self._ours():
            return
        log.debug("%s - request body not complete after %ss: closing", _peer(self.client), self.body_timeout)
        cycle: Any = self.cycle
        if cycle is not None:
            if not cycle.response_started:
                self.transport.write(REQUEST_TIMEOUT)
            cycle.disconnected = True  # receive() -> http.disconnect; send() -> no-op
            cycle.message_event.set()
        self._cancel("header")
        self.transport.close()


def _peer(client: tuple[str, int] | None) -> str:
    return f"{client[0]}:{client[1]}" if client else "-"


def deadline_protocol(header_timeout: float = 10.0, body_timeout: float = 30.0) -> type[asyncio.Protocol]:
    """A protocol class for `uvicorn.Config(http=...)` with these deadlines (0 turns one off)."""
    return type("DeadlineProtocol", (DeadlineProtocol,), {"header_timeout": float(header_timeout),
                                                          "body_timeout": float(body_timeout)})
