"""Dispatch throughput against a local aiosmtpd AND a loopback Postfix, in the same run: the
real, unthrottled `campaign dispatch` with its ledger fsynced on disk, next to a plain smtplib
loop sending the same messages, already composed, over one connection, without TLS.

    python benchmarks/dispatch_smtp.py [--letters 3000] [--rounds 3] [--servers aiosmtpd,postfix]
                                       [--json benchmarks/results/dispatch_smtp.json]

Rows per server (medians of `--rounds`, interleaved so load on the machine hits all alike):
- `campaign dispatch (CLI)`: the whole command as a subprocess, start-up and data loading included;
- `dispatch loop (library)`: the same Dispatcher in-process, from plan to last ledger line;
- `smtplib loop`: `sendmail` of the pre-flattened messages over one connection: the floor.
The CLI's start-up includes importing the package and its libraries from their bytecode, which
`scripts/setup` compiles (under PYTHONDONTWRITEBYTECODE a module edited since is compiled at
every start; an untimed first run writes the caches where Python may).
The ratio is letters per second of a row over the smtplib loop's. Dispatch does more per letter:
it renders the letter, checks its headers, and writes two ledger lines (`sending` fsynced
before DATA; the outcome written and made durable by the next letter's fsync).

Postfix runs as a private instance (tests/support/postfix/start-postfix.sh, root and Debian's
postfix needed; skipped otherwise) with `default_transport = discard`, its queue under /var/tmp
and `in_flow_delay = 0`; every run checks that the server got each letter exactly once.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import re
import shutil
import smtplib
import statistics
import subprocess
import sys
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))
sys.path.insert(0, str(REPO / "tests"))  # the test helpers (tests/support)

NOW = "2026-12-10T20:00:00Z"  # every fixture mission's letters are due (Tonga: --force)
MISSIONS = ("pt-lisbon", "us-washington", "us-chicago", "to-nukualofa")  # those with an email
MID = re.compile(rb"^Message-ID: (<[^>\r\n]+>)", re.MULTILINE | re.IGNORECASE)
POSTFIX = ["default_transport=discard", "in_flow_delay=0", "max_use=100000", "smtpd_peername_lookup=no"]


# --- the servers -------------------------------------------------------------------------------


def serve(port: int, control: Connection) -> None:
    from aiosmtpd.controller import Controller

    seen: list[bytes] = []

    class Counting:
        async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
            found = MID.search(envelope.original_content or b"")
            seen.append(found.group(1) if found else b"")
            return "250 OK"

    controller = Controller(Counting(), hostname="127.0.0.1", port=port, ready_timeout=10)
    controller.start()
    control.send("ready")
    while True:
        command = control.recv()
        if command == "count":
            control.send((len(seen), len(set(seen))))
        elif command == "reset":
            seen.clear()
            control.send("ok")
        else:
            controller.stop()
            control.send("stopped")
            return


class Aiosmtpd:
    name = "aiosmtpd"

    def __init__(self) -> None:
        from support.smtp import free_port

        self.port = free_port()
        self.control, child = mp.Pipe()
        self.process = mp.Process(target=serve, args=(self.port, child), daemon=True)
        self.process.start()
        assert self.control.recv() == "ready"

    def ask(self, command: str) -> object:
        self.control.send(command)
        return self.control.recv()

    def reset(self) -> None:
        self.ask("reset")

    def count(self) -> tuple[int, int]:
        return self.ask("count")  # type: ignore[return-value]

    def stop(self) -> None:
        self.ask("stop")
        self.process.join(10)


class Postfix:
    """A private Postfix; counts the Message-IDs its cleanup daemon logged since the last reset."""

    name = "postfix"
    SCRIPTS = REPO / "tests/support/postfix"

    def __init__(self) -> None:
        from support.smtp import free_port

        self.port = free_port()
        self.base = Path(tempfile.mkdtemp(prefix="campaign-bench-postfix-", dir="/var/tmp"))
        os.chmod(self.base, 0o755)
        done = subprocess.run([str(self.SCRIPTS / "start-postfix.sh"), str(self.base), str(self.port), *POSTFIX],
                              capture_output=True, text=True, check=False)
        if done.returncode != 0:
            shutil.rmtree(self.base, ignore_errors=True)
            raise RuntimeError(done.stderr.strip() or done.stdout.strip())
        self.log = self.base / "log/maillog"
        self.offset = 0

    def reset(self) -> None:
        self.offset = self.log.stat().st_size

    def count(self) -> tuple[int, int]:
        deadline = time.monotonic() + 30
        found: list[bytes] = []
        while time.monotonic() < deadline:  # cleanup logs each message as it is queued; wait for the tail
            with open(self.log, "rb") as fh:
                fh.seek(self.offset)
                found = re.findall(rb"cleanup\[\d+\]: \w+: message-id=(<[^>]+>)", fh.read())
            time.sleep(0.3)
            with open(self.log, "rb") as fh:
                fh.seek(self.offset)
                if len(re.findall(rb"cleanup\[\d+\]: \w+: message-id=", fh.read())) == len(found):
                    break
        return len(found), len(set(found))

    def stop(self) -> None:
        subprocess.run([str(self.SCRIPTS / "stop-postfix.sh"), str(self.base), "--purge"], capture_output=True, check=False)


# --- the data ----------------------------------------------------------------------------------


def prepare(base: Path, count: int) -> Path:
    """A campaign repository with `count` signatures spread over the fixture's missions."""
    from campaign.data import signatures
    from campaign.data.models import Signature
    from synthetic import names

    root = base / "repo"
    (root / "data" / "signatories").mkdir(parents=True)
    (root / "data" / "actions").mkdir()
    shutil.copy(REPO / "data" / "campaign.yaml", root / "data" / "campaign.yaml")
    shutil.copytree(REPO / "data" / "letter", root / "data" / "letter")
    shutil.copy(REPO / "tests" / "fixtures" / "missions.yaml", root / "data" / "missions.yaml")
    countries = {"pt-lisbon": "PT", "us-washington": "US", "us-chicago": "US", "to-nukualofa": "TO"}
    for i, name in enumerate(names(count, seed=4)):
        mission = MISSIONS[i % len(MISSIONS)]
        signatures.write(root, Signature.model_validate({
            "type": "individual", "name": name, "country": countries[mission], "mission": mission,
            "signed": "2026-11-20", "publish": i % 7 != 0, "letter": i % 11 != 0, "source": "form"}))
    return root


def messages(root: Path) -> list[tuple[str, list[str], bytes]]:
    """The letters dispatch would send, composed the same way, as (sender, recipients, bytes)."""
    from campaign.data import dataset
    from campaign.dispatch.planning import parse_now, plan
    from campaign.dispatch.runner import Dispatcher, Settings
    from campaign.mail.base import envelope_sender, recipients
    from campaign.records.ledger import Ledger

    ds = dataset.load(root)
    runner = Dispatcher(ds, None, Ledger(root / "scratch.jsonl"), Settings(now=parse_now(NOW), force=True))
    msgs = [runner.compose(p) for p in runner.select(plan(ds, parse_now(NOW), force=True))]
    return [(envelope_sender(m), recipients(m), m.as_bytes(policy=m.policy.clone(linesep="\r\n"))) for m in msgs]


# --- the contenders ----------------------------------------------------------------------------


def clear_ledger(root: Path) -> None:
    shutil.rmtree(root / "data" / "dispatch", ignore_errors=True)


def run_cli(root: Path, port: int) -> float:
    clear_ledger(root)
    env = {**os.environ, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(port), "SMTP_SECURITY": "none",
           "SMTP_HELO": "bench.campaign.example", "GITHUB_STEP_SUMMARY": "", "GITHUB_ACTIONS": ""}
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "campaign", "--root", str(root), "dispatch", "--backend", "smtp",
                           "--now", NOW, "--force", "--no-throttle"], env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"campaign dispatch failed:\n{done.stdout}\n{done.stderr}")
    return elapsed


def run_library(root: Path, port: int) -> float:
    from campaign.data import dataset
    from campaign.dispatch.planning import parse_now
    from campaign.dispatch.runner import Dispatcher, Settings
    from campaign.mail import get_backend
    from campaign.records.ledger import Ledger

    clear_ledger(root)
    ds = dataset.load(root)
    backend = get_backend("smtp", host="127.0.0.1", port=port, security="none", timeout=30,
                          local_hostname="bench.campaign.example", env={})
    with Ledger(root / "data" / "dispatch" / "library.jsonl") as book:  # on disk, fsynced
        start = time.perf_counter()
        Dispatcher(ds, backend, book, Settings(now=parse_now(NOW), force=True)).run()
        return time.perf_counter() - start


def run_smtplib(prepared: list[tuple[str, list[str], bytes]], port: int) -> float:
    start = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port, local_hostname="bench.campaign.example", timeout=30) as smtp:
        for sender, rcpts, data in prepared:
            smtp.sendmail(sender, rcpts, data)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--letters", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--servers", default="aiosmtpd,postfix")
    parser.add_argument("--json", type=Path, default=REPO / "benchmarks/results/dispatch_smtp.json")
    args = parser.parse_args()
    results: dict[str, object] = {"letters": args.letters, "rounds": args.rounds, "machine": {
        "cpus": os.cpu_count(), "python": platform.python_version(), "system": platform.platform()},
        "bytecode": "as scripts/setup compiled it (PYTHONDONTWRITEBYTECODE)" if os.environ.get("PYTHONDONTWRITEBYTECODE")
        else "cached (as an installed tool)", "load_before": os.getloadavg()}
    table: dict[str, dict[str, dict[str, float]]] = {}
    with tempfile.TemporaryDirectory(prefix="campaign-bench-smtp-", dir="/var/tmp") as tmp:
        print(f"preparing {args.letters:,} signatures ...", flush=True)
        root = prepare(Path(tmp), args.letters)
        prepared = messages(root)
        assert len(prepared) == args.letters, len(prepared)
        servers = []
        for name in args.servers.split(","):
            try:
                servers.append(Aiosmtpd() if name == "aiosmtpd" else Postfix())
            except RuntimeError as exc:
                print(f"{name}: not available ({exc}); skipped")
        subprocess.run([sys.executable, "-m", "campaign", "--root", str(root), "dispatch", "--dry-run", "--force", "--now", NOW],
                       capture_output=True, check=True)  # untimed: compiles the bytecode, where Python may cache it
        contenders = {"smtplib loop (pre-composed, one connection)": lambda port: run_smtplib(prepared, port),
                      "dispatch loop (library, ledger fsynced)": lambda port: run_library(root, port),
                      "campaign dispatch (CLI, whole command)": lambda port: run_cli(root, port)}
        times: dict[tuple[str, str], list[float]] = {}
        try:
            for round_ in range(args.rounds):
                for server in servers:
                    for name, contender in contenders.items():
                        server.reset()
                        seconds = contender(server.port)
                        total, unique = server.count()
                        assert total == unique == args.letters, (server.name, name, total, unique)
                        times.setdefault((server.name, name), []).append(seconds)
                        print(f"round {round_ + 1} {server.name:8} {name:45} {args.letters / seconds:8.0f} letters/s", flush=True)
        finally:
            for server in servers:
                server.stop()
    for server in servers:
        rows = table.setdefault(server.name, {})
        floor = statistics.median(times[(server.name, next(iter(contenders)))])
        for name in contenders:
            seconds = statistics.median(times[(server.name, name)])
            rows[name] = {"seconds": round(seconds, 3), "letters_per_second": round(args.letters / seconds, 1),
                          "ratio": round(floor / seconds, 2)}
    results["servers"] = table
    results["load_after"] = os.getloadavg()
    print(f"\n== {args.letters:,} letters, medians of {args.rounds} rounds ==")
    for server, rows in table.items():
        for name, row in rows.items():
            print(f"{server:8} {name:45} {row['seconds']:7.2f} s {row['letters_per_second']:7.0f}/s  {row['ratio']:.2f}x")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwrote {args.json}")


if __name__ == "__main__":
    main()
