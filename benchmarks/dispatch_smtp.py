"""Dispatch throughput: N letters to a local SMTP server (aiosmtpd, in its own process) through
the real `campaign dispatch`, next to a plain smtplib loop sending the same messages to the same
server in the same run.

    python benchmarks/dispatch_smtp.py [--letters 10000] [--json benchmarks/results/dispatch_smtp.json]

Rows:
- `campaign dispatch` (CLI, subprocess): the whole command, start-up and data loading included;
- dispatch loop (library): the same Dispatcher in-process, from plan to last ledger line;
- the same with the ledger on tmpfs (/dev/shm), to show what the two fsyncs per letter cost;
- smtplib send_message loop: one connection, `send_message` per pre-built message;
- smtplib sendmail loop, pre-flattened bytes: the floor (no rendering, no serialising).

Dispatch does more per letter than the loops: it renders the letter, writes two fsynced ledger
lines (`sending`, then `sent`) and checks headers. The throttle is off (`--no-throttle`): with
data/campaign.yaml's limits the run would take hours by design.
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


# --- the server, in its own process ------------------------------------------------------------


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


class Server:
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

    def stop(self) -> None:
        self.ask("stop")
        self.process.join(10)


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


def messages(root: Path) -> list:  # type: ignore[type-arg]
    """The letters dispatch would send, composed the same way."""
    from campaign.data import dataset
    from campaign.dispatch.planning import parse_now, plan
    from campaign.dispatch.runner import Dispatcher, Settings
    from campaign.records.ledger import Ledger

    ds = dataset.load(root)
    runner = Dispatcher(ds, None, Ledger(root / "scratch.jsonl"), Settings(now=parse_now(NOW), force=True))
    return [runner.compose(p) for p in runner.select(plan(ds, parse_now(NOW), force=True))]


# --- the contenders ----------------------------------------------------------------------------


def run_cli(root: Path, server: Server) -> float:
    env = {**os.environ, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(server.port), "SMTP_SECURITY": "none",
           "GITHUB_STEP_SUMMARY": "", "GITHUB_ACTIONS": ""}
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "campaign", "--root", str(root), "dispatch", "--backend", "smtp",
                           "--now", NOW, "--force", "--no-throttle"], env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"campaign dispatch failed:\n{done.stdout}\n{done.stderr}")
    print("   ", done.stdout.splitlines()[0])
    return elapsed


def run_library(root: Path, server: Server, ledger_dir: Path | None = None) -> float:
    from campaign.data import dataset
    from campaign.dispatch.planning import parse_now
    from campaign.dispatch.runner import Dispatcher, Settings
    from campaign.mail import get_backend
    from campaign.records.ledger import Ledger

    ds = dataset.load(root)
    assert ds.campaign is not None
    backend = get_backend("smtp", host="127.0.0.1", port=server.port, security="none", timeout=30, env={})
    with Ledger((ledger_dir or root) / f"library-ledger-{time.time_ns()}.jsonl") as book:
        start = time.perf_counter()
        Dispatcher(ds, backend, book, Settings(now=parse_now(NOW), force=True)).run()
        return time.perf_counter() - start


def run_smtplib(msgs: list, server: Server) -> float:  # type: ignore[type-arg]
    start = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", server.port, timeout=30) as smtp:
        for msg in msgs:
            smtp.send_message(msg)
    return time.perf_counter() - start


def run_smtplib_raw(msgs: list, server: Server) -> float:  # type: ignore[type-arg]
    from campaign.mail.base import envelope_sender, recipients

    prepared = [(envelope_sender(m), recipients(m), m.as_bytes(policy=m.policy.clone(linesep="\r\n"))) for m in msgs]
    start = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", server.port, timeout=30) as smtp:
        for sender, rcpts, data in prepared:
            smtp.sendmail(sender, rcpts, data)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--letters", type=int, default=10_000)
    parser.add_argument("--json", type=Path, default=REPO / "benchmarks/results/dispatch_smtp.json")
    args = parser.parse_args()
    results: dict[str, object] = {"letters": args.letters, "machine": {
        "cpus": os.cpu_count(), "python": platform.python_version(), "system": platform.platform()}}
    rows: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="campaign-bench-smtp-") as tmp:
        print(f"preparing {args.letters:,} signatures ...", flush=True)
        root = prepare(Path(tmp), args.letters)
        msgs = messages(root)
        assert len(msgs) == args.letters, len(msgs)
        server = Server()
        shm = Path(tempfile.mkdtemp(prefix="campaign-bench-", dir="/dev/shm")) if Path("/dev/shm").is_dir() else None
        try:
            contenders = [
                ("campaign dispatch (CLI, subprocess)", lambda: run_cli(root, server)),
                ("dispatch loop (library, in-process)", lambda: run_library(root, server)),
                *([("dispatch loop, ledger on tmpfs (fsync ~free)", lambda: run_library(root, server, shm))]
                  if shm else []),
                ("smtplib send_message loop", lambda: run_smtplib(msgs, server)),
                ("smtplib sendmail loop, pre-flattened bytes", lambda: run_smtplib_raw(msgs, server)),
            ]
            for name, contender in contenders:
                server.ask("reset")
                print(f"{name} ...", flush=True)
                seconds = contender()
                total, unique = server.ask("count")  # type: ignore[misc]
                assert total == unique == args.letters, (name, total, unique)
                rows[name] = {"seconds": round(seconds, 3), "letters_per_second": round(args.letters / seconds, 1)}
            again = run_cli(root, server)  # a rerun sends nothing: the ledger says all were sent
            total, _ = server.ask("count")  # type: ignore[misc]
            assert total == args.letters, total
            rows["campaign dispatch rerun (nothing to send)"] = {"seconds": round(again, 3), "letters_per_second": 0.0}
        finally:
            server.stop()
            if shm:
                shutil.rmtree(shm, ignore_errors=True)
    results["rows"] = rows
    print(f"\n== {args.letters:,} letters to a local aiosmtpd server ==")
    for name, row in rows.items():
        rate = f"{row['letters_per_second']:9,.0f} letters/s" if row["letters_per_second"] else ""
        print(f"{name:45} {row['seconds']:8.2f} s {rate}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwrote {args.json}")


if __name__ == "__main__":
    main()
