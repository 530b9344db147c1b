"""The container's HEALTHCHECK: `python -m campaign.intake.healthcheck` (deploy/Containerfile).

Asks the intake's `/api/health` on loopback, at the port the service listens on
(`CAMPAIGN_PORT`), and exits 0 when it answers `{"status": "ok"}` within the timeout, else 1
with one line saying why. Standard library only: it starts fast and needs no shell or curl.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.request
from collections.abc import Mapping


def probe(env: Mapping[str, str] | None = None, timeout: float = 5.0) -> str | None:
    """None when the service is healthy, else what is wrong."""
    env = os.environ if env is None else env
    host = env.get("CAMPAIGN_HOST", "").strip() or "127.0.0.1"
    host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    url = f"http://{'[' + host + ']' if ':' in host else host}:{env.get('CAMPAIGN_PORT', '').strip() or '8000'}/api/health"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            body = json.loads(response.read(65536))
    except (OSError, ValueError) as exc:
        return f"{url}: {exc}"
    return None if isinstance(body, dict) and body.get("status") == "ok" else f"{url}: answered {body!r}"


if __name__ == "__main__":
    problem = probe()
    if problem:
        print(f"unhealthy: {problem}", file=sys.stderr)
    sys.exit(1 if problem else 0)
