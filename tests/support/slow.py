"""Slow clients for the intake's deadline tests: stalled and dribbling connections on loopback,
plus a probe timing GET /api/health while they are open.

Kinds: `silent` connects and sends nothing; `partial` sends half a request head; `slowloris`
sends that, then one more header byte every `header_every` seconds (an idle timer would never
fire); `slowbody` sends a full head with Content-Length 10000, then a body byte every
`body_every` seconds. Loopback only; every loop is bounded in count and time.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

HEAD = b"POST /api/signatures HTTP/1.1\r\nHost: a\r\n"
FULL_HEAD = HEAD + b"Content-Type: application/json\r\nContent-Length: 10000\r\n\r\n"
HEALTH = b"GET /api/health HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"


@dataclass
class Slow:
    kind: str
    dialed: float = 0.0
    connected: float | None = None
    head_done: float | None = None
    closed: float | None = None
    status: str | None = None
    error: str | None = None


@dataclass
class Run:
    slow: list[Slow] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


async def _slow(port: int, c: Slow, stop: asyncio.Event, header_every: float, body_every: float) -> None:
    c.dialed = time.monotonic()
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 10)
    except (OSError, TimeoutError) as exc:
        c.error = type(exc).__name__
        return
    c.connected = time.monotonic()

    async def watch() -> None:
        data = b""
        try:
            while chunk := await reader.read(65536):
                data += chunk
        except OSError:
            pass
        c.closed = time.monotonic()
        c.status = data.split(b"\r\n", 1)[0].decode("latin-1") if data else None

    watcher = asyncio.create_task(watch())

    async def pause(seconds: float) -> bool:
        """Wait; True once the server closed the connection or the run is over."""
        stopper = asyncio.create_task(stop.wait())
        await asyncio.wait([watcher, stopper], timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        stopper.cancel()
        return watcher.done() or stop.is_set()

    try:
        if c.kind == "silent":
            await pause(1e9)
        elif c.kind in ("partial", "slowloris"):
            writer.write(HEAD)
            for i in range(10_000):
                if await pause(header_every if c.kind == "slowloris" else 1e9):
                    break
                writer.write(b"X-Pad: a\r\n"[i % 10:i % 10 + 1] if i % 10 < 8 else b"a")
        else:
            writer.write(FULL_HEAD)
            c.head_done = time.monotonic()
            for _ in range(9_999):
                if await pause(body_every):
                    break
                writer.write(b"x")
    except OSError:
        pass
    finally:
        if not watcher.done():
            await asyncio.sleep(0)
            watcher.cancel()
        writer.close()


async def _probe(port: int, run: Run, timeout: float) -> None:
    started = time.monotonic()
    try:
        async def once() -> bytes:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(HEALTH)
            data = await reader.read()
            writer.close()
            return data
        data = await asyncio.wait_for(once(), timeout)
        if data.startswith(b"HTTP/1.1 200"):
            run.latencies.append(time.monotonic() - started)
        else:
            run.failures.append(data.split(b"\r\n", 1)[0].decode("latin-1") or "empty")
    except (OSError, TimeoutError) as exc:
        run.failures.append(type(exc).__name__)


async def attack(port: int, *, silent: int, partial: int, slowloris: int, slowbody: int, duration: float,
                 header_every: float, body_every: float, probe_every: float = 0.1, settle: float = 0.5) -> Run:
    """Open the slow connections, probe /api/health for `duration` seconds, then close everything."""
    run, stop = Run(), asyncio.Event()
    run.slow = [Slow(k) for k, n in (("silent", silent), ("partial", partial), ("slowloris", slowloris),
                                     ("slowbody", slowbody)) for _ in range(n)]
    tasks = [asyncio.create_task(_slow(port, c, stop, header_every, body_every)) for c in run.slow]
    await asyncio.sleep(settle)
    probes = []
    end = time.monotonic() + duration
    while time.monotonic() < end:
        probes.append(asyncio.create_task(_probe(port, run, 3.0)))
        await asyncio.sleep(probe_every)
    stop.set()
    await asyncio.gather(*probes, *tasks, return_exceptions=True)
    return run
