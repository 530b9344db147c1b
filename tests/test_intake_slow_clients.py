"""Slow clients must not take the intake down (issue 12, item 4): total header and body deadlines
(`campaign.intake.protocol`), 300 stalled connections while /api/health answers within a second.

The deadlines are shortened (1 s for headers, 2 s for a body) so the suite stays fast; the
slow clients are shaped relative to them: a slowloris sends a byte every 0.3 s, so an idle
timer would never fire and only a total deadline can cut it. Production uses 10 s and 30 s.
"""

from __future__ import annotations

import asyncio
import resource
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from campaign.data.models import IntakeLimits
from campaign.intake import protocol
from campaign.intake.app import create_app, server_config
from campaign.intake.service import Intake, Settings
from support.http import serve_in_thread
from support.slow import attack

HEADER_S, BODY_S = 1.0, 2.0
SLACK = 0.8  # timer granularity and a loaded 2-core machine
N_HEADER, N_BODY = 150, 150  # 300 stalled connections


@pytest.fixture(scope="module")
def port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    from support.builders import make_campaign

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = 2 * (N_HEADER + N_BODY) + 300  # both ends of every connection live in this process
    if soft != resource.RLIM_INFINITY and soft < needed:
        if hard != resource.RLIM_INFINITY and hard < needed:
            pytest.skip(f"needs {needed} file descriptors, the hard limit is {hard}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))
    base = tmp_path_factory.mktemp("slow")
    root = make_campaign(base / "repo")
    intake = Intake(Settings(root=root, db=base / "intake.sqlite3", public_url="http://127.0.0.1:1", key=b"k" * 32,
                             mail_backend="file", mail_options={"outbox": base / "outbox"},
                             limits=IntakeLimits(burst=100_000, hourly=100_000)))  # slow bodies must reach the endpoint
    server, thread, url = serve_in_thread(create_app(intake, background=False), header_timeout=HEADER_S, body_timeout=BODY_S)
    yield int(url.rsplit(":", 1)[1])
    server.should_exit = True
    thread.join(timeout=10)
    intake.close()


def test_the_service_runs_the_deadline_protocol() -> None:
    config = server_config(object())
    assert issubclass(config.http, protocol.DeadlineProtocol)
    assert (config.http.header_timeout, config.http.body_timeout) == (10.0, 30.0)
    assert config.forwarded_allow_ips == [] and not config.proxy_headers  # no proxy trusted by default


def test_300_stalled_connections_are_cut_and_health_stays_fast(port: int) -> None:
    run = asyncio.run(attack(port, silent=50, partial=50, slowloris=N_HEADER - 100, slowbody=N_BODY,
                             duration=BODY_S + 1.5, header_every=0.3, body_every=0.5))
    assert len(run.latencies) >= 20 and not run.failures, run.failures
    assert max(run.latencies) < 1.0, max(run.latencies)
    for c in run.slow:
        assert c.error is None and c.connected is not None, (c.kind, c.error)
        assert c.closed is not None, f"a {c.kind} connection was never closed by the server"
        if c.kind == "slowbody":  # the body deadline runs from the end of the head
            assert c.head_done is not None and BODY_S - 0.05 <= c.closed - c.head_done <= BODY_S + SLACK, c.closed - c.head_done
            assert c.status == "HTTP/1.1 408 Request Timeout"
        else:  # a new connection's header deadline runs from the accept
            assert HEADER_S - 0.05 <= c.closed - c.dialed and c.closed - c.connected <= HEADER_S + SLACK, (c.kind, c.closed - c.connected)
            assert c.status == (None if c.kind == "silent" else "HTTP/1.1 408 Request Timeout")


async def _exchange(port: int, chunks: list[tuple[float, bytes]]) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    for delay, chunk in chunks:
        await asyncio.sleep(delay)
        writer.write(chunk)
    data = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    return data


def test_a_slow_but_timely_client_is_served(port: int) -> None:
    head = b"GET /api/health HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
    data = asyncio.run(_exchange(port, [(0.0, head[:10]), (0.3, head[10:30]), (0.3, head[30:])]))  # 0.6 s < 1 s
    assert data.startswith(b"HTTP/1.1 200"), data


def test_the_header_deadline_restarts_for_each_kept_alive_request(port: int) -> None:
    async def go() -> tuple[float, bytes]:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        for _ in range(3):  # three quick requests over more than one deadline in all
            writer.write(b"GET /api/health HTTP/1.1\r\nHost: a\r\n\r\n")
            head = await reader.readuntil(b"\r\n\r\n")
            await reader.readexactly(int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0]))
            await asyncio.sleep(0.6)
        started = time.monotonic()
        writer.write(b"GET /api/health HTTP/1.1\r\nHost: a\r\n")  # then one that stalls
        rest = await asyncio.wait_for(reader.read(), 5)
        writer.close()
        return time.monotonic() - started, rest

    took, rest = asyncio.run(go())
    assert HEADER_S - 0.05 <= took <= HEADER_S + SLACK and rest.startswith(b"HTTP/1.1 408")


def test_a_body_dribbled_to_an_endpoint_that_never_reads_it_is_still_cut(port: int) -> None:
    async def go() -> tuple[bytes, float]:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        started = time.monotonic()
        writer.write(b"GET /api/health HTTP/1.1\r\nHost: a\r\nContent-Length: 1000\r\n\r\n")

        async def dribble() -> None:
            for _ in range(20):
                await asyncio.sleep(0.3)
                writer.write(b"x")

        task = asyncio.create_task(dribble())
        data = await asyncio.wait_for(reader.read(), 10)
        took = time.monotonic() - started
        task.cancel()
        writer.close()
        return data, took

    data, took = asyncio.run(go())
    assert data.startswith(b"HTTP/1.1 200") and BODY_S - 0.05 <= took <= BODY_S + SLACK, took


def test_a_client_gone_mid_body_leaves_no_traceback(port: int, caplog: pytest.LogCaptureFixture) -> None:
    async def go() -> None:
        _reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"POST /api/signatures HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 500\r\n\r\n{\"name\": ")
        await asyncio.sleep(0.2)
        writer.close()
        await asyncio.sleep(0.3)

    with caplog.at_level("ERROR"):
        asyncio.run(go())
    assert "Exception in ASGI application" not in caplog.text and "ClientDisconnect" not in caplog.text


def test_the_protocol_module_is_the_project_s_own() -> None:
    assert Path(protocol.__file__).parent.name == "intake"
