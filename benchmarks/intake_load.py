"""Intake throughput over loopback: N signatures through the real `campaign serve` process.

    python benchmarks/intake_load.py [--submissions 10000] [--concurrency 500] [--json benchmarks/results/intake_load.json]

Phases, each timed:
1. submit: N POST /api/signatures (JSON), at most --concurrency connections at once, each on its
   own connection; every answer must be 202 (one SQLite transaction with fsync and one fsynced
   .eml file per signature);
2. confirm: read the N confirmation links from the file outbox, POST each;
3. flush: `campaign intake flush` (a second process): N signature files in one commit;
4. validate: `campaign validate --base main` on a checkout of the intake branch.

Also the library floor: `Intake.submit` in a loop in-process (no HTTP), on disk and with the
store and outbox on tmpfs (/dev/shm) to show what the fsyncs cost. The server runs with its
rate limits raised; everything happens in a temporary repository.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the test helpers (tests/support)
from support.http import confirmation_links, post  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
COUNTRIES = ["PT", "NO", "IS", "TO", "GB", "FR", "DE", "BR", "IN", "JP"]


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def make_repo(base: Path) -> Path:
    root = base / "repo"
    (root / "data" / "signatories").mkdir(parents=True)
    shutil.copy(REPO / "data" / "campaign.yaml", root / "data" / "campaign.yaml")
    shutil.copytree(REPO / "data" / "letter", root / "data" / "letter")
    missions = REPO / "data" / "missions.yaml"
    shutil.copy(missions if missions.is_file() else REPO / "tests" / "fixtures" / "missions.yaml", root / "data" / "missions.yaml")
    shutil.copy(REPO / ".gitignore", root / ".gitignore")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "-c", "user.name=Bench", "-c", "user.email=bench@example.org", "commit", "-qm", "campaign")
    return root


def people(n: int, countries: list[str]) -> list[dict[str, object]]:
    return [{"name": f"Signer {i:06d}", "country": countries[i % len(countries)], "email": f"signer{i}@example.org",
             "publish": i % 3 != 0, "letter": True, "consent": "2026-11"} for i in range(n)]


def usable_countries(root: Path) -> list[str]:
    from campaign.data import dataset

    ds = dataset.load(root)
    return [c for c in COUNTRIES if ds.mission_for(c)]


async def blast(base: str, requests: list[tuple[str, bytes]], concurrency: int) -> tuple[float, list[float], list[int]]:
    gate = asyncio.Semaphore(concurrency)
    latencies: list[float] = []
    statuses: list[int] = []

    async def one(path: str, body: bytes) -> None:
        async with gate:
            t0 = time.perf_counter()
            statuses.append(await post(base, path, body))
            latencies.append(time.perf_counter() - t0)

    start = time.perf_counter()
    await asyncio.gather(*(one(p, b) for p, b in requests))
    return time.perf_counter() - start, latencies, statuses


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] * 1000 if len(values) > 1 else 0.0


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def library_floor(n: int, where: Path) -> float:
    """Submissions per second through `Intake.submit` in-process (no HTTP)."""
    from campaign.data.models import IntakeLimits
    from campaign.intake.service import Intake, Settings

    root = make_repo(where)
    countries = usable_countries(root)
    intake = Intake(Settings(root=root, db=where / "floor.sqlite3", public_url="http://127.0.0.1", key=b"k" * 32,
                             mail_options={"outbox": where / "outbox"}, limits=IntakeLimits(burst=10**6, hourly=10**6)))
    bodies = people(n, countries)
    start = time.perf_counter()
    for body in bodies:
        assert intake.submit(body).status == 202
    elapsed = time.perf_counter() - start
    intake.close()
    return n / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--submissions", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=500)
    parser.add_argument("--json", type=Path, help="Also write the results here.")
    args = parser.parse_args()
    n = args.submissions
    results: dict[str, object] = {"submissions": n, "concurrency": args.concurrency, "python": platform.python_version(),
                                  "cpus": os.cpu_count()}
    with tempfile.TemporaryDirectory(prefix="intake-bench-") as tmp:
        base_dir = Path(tmp)
        root = make_repo(base_dir)
        countries = usable_countries(root)
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        base = f"http://127.0.0.1:{port}"
        db = base_dir / "intake.sqlite3"
        env = {k: v for k, v in os.environ.items() if not k.startswith("CAMPAIGN_")}
        log = open(base_dir / "serve.log", "wb")  # noqa: SIM115
        server = subprocess.Popen([sys.executable, "-m", "campaign", "--root", str(root), "serve", "--no-site",
                                   "--port", str(port), "--db", str(db), "--flush-every", "0", "--burst", "100000000",
                                   "--hourly", "100000000"], env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(f"{base}/api/health", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)
                if time.monotonic() > deadline:
                    raise SystemExit("campaign serve did not start: " + (base_dir / "serve.log").read_text()[-2000:])
            bodies = [("/api/signatures", json.dumps(p).encode()) for p in people(n, countries)]
            elapsed, lat, statuses = asyncio.run(blast(base, bodies, args.concurrency))
            assert set(statuses) == {202}, {s: statuses.count(s) for s in set(statuses)}
            results["submit"] = {"seconds": round(elapsed, 2), "per_second": round(n / elapsed),
                                 "p50_ms": round(pct(lat, 50), 1), "p95_ms": round(pct(lat, 95), 1),
                                 "p99_ms": round(pct(lat, 99), 1)}
            links = confirmation_links(root / "outbox")
            assert len(links) == n, len(links)
            confirms = [(urlsplit(u).path, b"") for u in links.values()]
            elapsed, lat, statuses = asyncio.run(blast(base, confirms, args.concurrency))
            assert set(statuses) == {200}
            results["confirm"] = {"seconds": round(elapsed, 2), "per_second": round(n / elapsed),
                                  "p50_ms": round(pct(lat, 50), 1), "p95_ms": round(pct(lat, 95), 1)}
            results["server_peak_rss_mib"] = round(peak_rss_mib(server.pid), 1)
            start = time.perf_counter()
            subprocess.run([sys.executable, "-m", "campaign", "--root", str(root), "intake", "flush", "--db", str(db),
                            "--batch-size", str(n)],
                           check=True, capture_output=True, env=env)
            results["flush"] = {"seconds": round(time.perf_counter() - start, 2), "files": n}
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
            log.close()
        count = len(git(root, "ls-tree", "-r", "--name-only", "intake/signatures", "data/signatories").split())
        assert count == n, count
        clone = base_dir / "clone"
        git(base_dir, "clone", "-q", str(root), str(clone))
        git(clone, "checkout", "-q", "-b", "intake/signatures", "origin/intake/signatures")
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "campaign", "--root", str(clone), "validate", "--base", "main"],
                              capture_output=True, text=True, env=env)
        assert done.returncode == 0, done.stdout + done.stderr
        results["validate_branch"] = {"seconds": round(time.perf_counter() - start, 2)}
        floor_n = min(n, 2000)
        results["library_floor_per_second"] = {"disk": round(library_floor(floor_n, base_dir / "floor-disk"))}
        if Path("/dev/shm").is_dir():
            with tempfile.TemporaryDirectory(dir="/dev/shm") as shm:
                results["library_floor_per_second"]["tmpfs"] = round(library_floor(floor_n, Path(shm)))  # type: ignore[index]
    print(f"intake load: {n:,} signatures, {args.concurrency} concurrent connections, {os.cpu_count()} CPUs")
    for phase in ("submit", "confirm"):
        r = results[phase]
        print(f"  {phase:8} {r['seconds']:7.2f} s  {r['per_second']:6,}/s  p50 {r['p50_ms']} ms  p95 {r['p95_ms']} ms")  # type: ignore[index]
    print(f"  flush    {results['flush']['seconds']:7.2f} s  ({n:,} files, one commit)")  # type: ignore[index]
    print(f"  validate {results['validate_branch']['seconds']:7.2f} s  (`campaign validate --base main` on the intake branch)")  # type: ignore[index]
    print(f"  server peak RSS {results['server_peak_rss_mib']} MiB; library floor (no HTTP): {results['library_floor_per_second']}/s")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
