"""HTTP helpers for tests and benchmarks: an ASGI app on loopback, confirmation links, raw POSTs."""

from __future__ import annotations

import threading
import time
from typing import Any


def serve_in_thread(app: Any, timeout: float = 10.0, tls: Any = None, **options: Any) -> tuple[Any, threading.Thread, str]:
    """Run an ASGI app on uvicorn in a daemon thread on 127.0.0.1 (a free port), configured as the
    intake service runs (`server_config`: header and body deadlines, trusted proxies from
    `options`); (server, thread, url). With `tls` (`support.tls.Certificates`) it speaks HTTPS."""
    import uvicorn

    from campaign.intake.app import server_config

    config = server_config(app, "127.0.0.1", 0, log_level="warning", **options)
    if tls is not None:
        config.ssl_certfile, config.ssl_keyfile = str(tls.cert), str(tls.key)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the server did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    return server, thread, f"{'https' if tls is not None else 'http'}://127.0.0.1:{port}"


def confirmation_links(outbox: Any) -> dict[str, str]:
    """Recipient address -> confirmation link, from the `.eml` files of a file-backend outbox."""
    import email
    import email.policy
    import re
    from pathlib import Path

    links: dict[str, str] = {}
    for path in sorted(Path(outbox).glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        found = re.search(r"https?://\S+/confirm/[A-Za-z0-9_-]+", message.get_body(("plain",)).get_content())
        if found:
            links[str(message["To"])] = found.group(0)
    return links


async def post(base: str, path: str, body: bytes = b"", content_type: str = "application/json",
               timeout: float = 60.0) -> int:
    """One POST on its own connection (raw asyncio streams): the status code.

    Load tests use this instead of an HTTP client library, whose connection pool costs more
    CPU than the server under test once hundreds of requests are in flight.
    """
    import asyncio
    from urllib.parse import urlsplit

    parts = urlsplit(base)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    try:
        head = (f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: {content_type}\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
        writer.write(head + body)
        await writer.drain()
        status_line = await asyncio.wait_for(reader.readline(), timeout)
        if not status_line:
            raise ConnectionError("the server closed the connection without answering")
        await asyncio.wait_for(reader.read(), timeout)
        return int(status_line.split()[1])
    finally:
        writer.close()
