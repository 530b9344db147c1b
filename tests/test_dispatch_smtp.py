"""The real `campaign dispatch` against a real SMTP server (aiosmtpd on loopback): every due
letter exactly once, whatever the server answers or the process suffers."""

from __future__ import annotations

import os
import re
import signal
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from campaign.dispatch.durable import AHEAD
from support.dispatch import ALL_DUE, add_signatures, dispatch, dispatch_process, ledger_lines, smtp_env, states
from support.smtp import Received, SmtpTestServer

FAST = ("--backend", "smtp", "--now", ALL_DUE, "--no-throttle", "--backoff", "0.05", "--max-backoff", "0.2")


@pytest.fixture
def letters(repo: Path) -> Path:
    """12 due letters to three missions (all at example.org) and some that are not due."""
    add_signatures(repo, "pt-lisbon", 6)
    add_signatures(repo, "us-washington", 3, country="US")
    add_signatures(repo, "us-chicago", 3, country="US")
    add_signatures(repo, "to-nukualofa", 2, country="TO")  # 11 Dec 05:00 there: not sent late
    add_signatures(repo, "no-oslo", 2, country="NO")  # no email: reported
    return repo


def received(server: SmtpTestServer) -> Counter[str]:
    return Counter(server.message_ids())


def sent_ids(root: Path) -> set[str]:
    return {str(e["message_id"]) for e in ledger_lines(root) if e["state"] == "sent"}


def test_every_due_letter_exactly_once_and_reruns_send_nothing(letters: Path, smtp_server: SmtpTestServer) -> None:
    first = dispatch(letters, *FAST, env=smtp_env(smtp_server))
    assert first.exit_code == 0, first.output
    got = received(smtp_server)
    assert len(got) == 12 and set(got.values()) == {1}
    assert set(got) == sent_ids(letters)
    assert "no-oslo" in first.output and "deliver in person or call" in first.output
    for _ in range(2):
        again = dispatch(letters, *FAST, env=smtp_env(smtp_server))
        assert again.exit_code == 0 and "this run: 0 sent" in again.output
    assert len(smtp_server.messages) == 12
    recipients = Counter(m.rcpt_tos[0] for m in smtp_server.messages)
    assert recipients == {"lisbon.test@example.org": 6, "washington.test@example.org": 3, "chicago.test@example.org": 3}


def test_450_and_451_are_deferred_then_delivered(letters: Path, smtp_server: SmtpTestServer) -> None:
    smtp_server.script("RCPT", "450 4.2.1 mailbox busy", times=3)
    smtp_server.script("DATA", "451 4.7.1 greylisted, try later", times=2)
    smtp_server.script("MAIL", "451 4.3.0 local problem", times=1)
    result = dispatch(letters, *FAST, env=smtp_env(smtp_server))
    assert result.exit_code == 0, result.output
    got = received(smtp_server)
    assert len(got) == 12 and set(got.values()) == {1}
    deferred = [e for e in ledger_lines(letters) if e["state"] == "deferred"]
    assert len(deferred) == 6 and {str(e["detail"])[:3] for e in deferred} == {"450", "451"}
    assert set(states(letters).values()) == {"sent"}


def test_deferred_beyond_the_run_is_retried_by_the_next_run_until_the_deadline(letters: Path, smtp_server: SmtpTestServer) -> None:
    smtp_server.script("RCPT", "451 4.7.1 try later", times=None, rcpt="chicago.test@example.org")
    first = dispatch(letters, *FAST, "--attempts", "2", env=smtp_env(smtp_server))
    assert "3 deferred" in first.output
    smtp_server.handler.rules.clear()
    # the next day (in Chicago too) only the deferred letters go; the never-tried Tongan ones do not
    grace = dispatch(letters, *FAST[:2], "--now", "2026-12-11T12:00:00Z", "--no-throttle", env=smtp_env(smtp_server))
    assert "this run: 3 sent" in grace.output, grace.output
    assert len(smtp_server.messages) == 12 and set(received(smtp_server).values()) == {1}
    assert not any("nukualofa" in m.rcpt_tos[0] for m in smtp_server.messages)


def test_deferred_letters_are_not_retried_after_the_deadline(letters: Path, smtp_server: SmtpTestServer) -> None:
    smtp_server.script("RCPT", "451 4.7.1 try later", times=None, rcpt="chicago.test@example.org")
    dispatch(letters, *FAST, "--attempts", "1", env=smtp_env(smtp_server))
    smtp_server.handler.rules.clear()
    late = dispatch(letters, "--backend", "smtp", "--now", "2026-12-12T07:00:00Z", env=smtp_env(smtp_server))
    assert "this run: 0 sent" in late.output and "past the deadline" in late.output
    assert len(smtp_server.messages) == 9


@pytest.mark.parametrize("stage", ["MAIL", "RCPT", "DATA-COMMAND", "DATA"])
def test_421_is_survived_by_reconnecting(letters: Path, smtp_server: SmtpTestServer, stage: str) -> None:
    smtp_server.script(stage, "421 4.3.2 service shutting down", times=2)
    result = dispatch(letters, *FAST, env=smtp_env(smtp_server))
    assert result.exit_code == 0, result.output
    got = received(smtp_server)
    assert len(got) == 12 and set(got.values()) == {1}
    assert sum(e["state"] == "deferred" and str(e["detail"]).startswith("421") for e in ledger_lines(letters)) == 2


@pytest.mark.parametrize(("stage", "reply"), [("RCPT", "550 5.1.1 no such mailbox"), ("DATA", "554 5.7.1 message refused")])
def test_5xx_fails_and_is_never_retried(letters: Path, smtp_server: SmtpTestServer, stage: str, reply: str) -> None:
    smtp_server.script(stage, reply, times=None, rcpt="chicago.test@example.org")
    result = dispatch(letters, *FAST, env=smtp_env(smtp_server))
    assert result.exit_code == 0 and "3 failed" in result.output
    attempts = dict(smtp_server.handler.attempts)
    smtp_server.handler.rules.clear()
    for _ in range(2):
        again = dispatch(letters, *FAST, env=smtp_env(smtp_server))
        assert "this run: 0 sent" in again.output
    assert smtp_server.handler.attempts == attempts  # no command at all for the failed letters
    assert len(smtp_server.messages) == 9
    failed = [e for e in ledger_lines(letters) if e["state"] == "failed"]
    assert len(failed) == 3 and all(reply in str(e["detail"]) for e in failed)


def test_link_dropped_after_data_is_unknown_and_only_resent_on_request(letters: Path, smtp_server: SmtpTestServer) -> None:
    smtp_server.script("DATA", "drop", times=1, rcpt="washington.test@example.org")
    result = dispatch(letters, *FAST, env=smtp_env(smtp_server))
    assert result.exit_code == 0 and "1 unknown" in result.output
    assert len(smtp_server.messages) == 12 and set(received(smtp_server).values()) == {1}
    [unknown] = [k for k, s in states(letters).items() if s == "unknown"]
    dispatch(letters, *FAST, env=smtp_env(smtp_server))
    assert len(smtp_server.messages) == 12  # not resent
    resend = dispatch(letters, *FAST, "--resend-unknown", env=smtp_env(smtp_server))
    assert "this run: 1 sent" in resend.output
    got = received(smtp_server)
    assert len(smtp_server.messages) == 13 and list(got.values()).count(2) == 1  # same Message-ID, by choice
    assert states(letters)[unknown] == "sent"


def test_server_stopped_mid_run_then_restarted_and_the_run_resumes(letters: Path, smtp_server: SmtpTestServer) -> None:
    def crash(_: Received, count: int) -> None:
        if count == 4:
            def bounce() -> None:
                smtp_server.stop()
                time.sleep(0.4)
                smtp_server.start()
            threading.Thread(target=bounce).start()

    smtp_server.handler.on_message = crash
    result = dispatch(letters, *FAST, "--attempts", "10", env=smtp_env(smtp_server, timeout="2"))
    assert result.exit_code == 0, result.output
    got = received(smtp_server)
    assert len(got) == 12 and set(got.values()) <= {1, 2}
    # the message being sent when the server died may have reached it and still be unknown
    assert sum(v == 2 for v in got.values()) == 0
    assert any(e["state"] == "deferred" for e in ledger_lines(letters))


def test_server_down_for_a_whole_run_then_the_next_run_delivers(letters: Path, smtp_server: SmtpTestServer) -> None:
    smtp_server.stop()
    down = dispatch(letters, *FAST, "--attempts", "2", env=smtp_env(smtp_server))
    assert down.exit_code == 0 and "12 deferred" in down.output
    smtp_server.start()
    up = dispatch(letters, *FAST, env=smtp_env(smtp_server))
    assert "this run: 12 sent" in up.output
    assert len(smtp_server.messages) == 12 and set(received(smtp_server).values()) == {1}


def _kill_at(server: SmtpTestServer, count: int, proc: list[object]) -> None:
    def hook(_: Received, n: int) -> None:
        if n == count:  # the server has the message; the client never hears back
            os.kill(proc[0].pid, signal.SIGKILL)  # type: ignore[attr-defined]
            proc[0].wait()  # type: ignore[attr-defined]
    server.handler.on_message = hook


def test_sigkill_mid_run_then_rerun_sends_each_letter_once(letters: Path, smtp_server: SmtpTestServer) -> None:
    add_signatures(letters, "pt-lisbon", 18, prefix="More")
    proc: list[object] = []
    _kill_at(smtp_server, 7, proc)
    args = ("--backend", "smtp", "--now", ALL_DUE, "--no-throttle")
    proc.append(dispatch_process(letters, *args, env=smtp_env(smtp_server)))
    assert proc[0].wait(60) == -signal.SIGKILL  # type: ignore[attr-defined]
    assert len(smtp_server.messages) == 7
    assert sum(s == "sent" for s in states(letters).values()) == 6
    smtp_server.handler.on_message = None
    again = dispatch(letters, *args, env=smtp_env(smtp_server))
    assert again.exit_code == 0, again.output
    assert "1 letters left in `sending`" in again.output and "1 unknown" in again.output
    # the letters declared `sending` ahead of it (dispatch.durable) were never handed over: same boot, sent now
    released = re.search(r"(\d+) letters declared `sending` ahead by an interrupted run on this machine", again.output)
    assert released and 1 <= int(released.group(1)) <= AHEAD
    got = received(smtp_server)
    assert len(got) == 30 and set(got.values()) == {1}  # none lost, none twice
    final = states(letters)
    assert Counter(final.values()) == {"sent": 29, "unknown": 1}


@pytest.mark.parametrize("delay", [0.0, 0.0007, 0.004])
def test_sigkill_at_a_random_moment_never_sends_twice(letters: Path, smtp_server: SmtpTestServer, delay: float) -> None:
    add_signatures(letters, "pt-lisbon", 200, prefix="Many")
    args = ("--backend", "smtp", "--now", ALL_DUE, "--no-throttle")
    proc = dispatch_process(letters, *args, env=smtp_env(smtp_server))
    deadline = time.monotonic() + 30
    while len(smtp_server.messages) < 10 and time.monotonic() < deadline:
        time.sleep(0.001)
    time.sleep(delay)  # somewhere in a letter's life: ledger write, MAIL, RCPT, DATA, reply
    proc.send_signal(signal.SIGKILL)
    assert proc.wait(30) == -signal.SIGKILL
    assert 10 <= len(smtp_server.messages) < 212
    dispatch(letters, *args, env=smtp_env(smtp_server))
    got = received(smtp_server)
    assert set(got.values()) == {1}  # never twice
    final = {str(e["message_id"]): str(e["state"]) for e in ledger_lines(letters)}
    unknown = {mid for mid, s in final.items() if s == "unknown"}
    assert len(unknown) <= 1
    assert set(got) | unknown == set(final)  # none lost: delivered, or reported unknown
    assert len(final) == 212


def test_throttle_spaces_messages_to_one_domain(letters: Path, smtp_server: SmtpTestServer) -> None:
    from support.dispatch import configure

    configure(letters, per_domain_delay="0.15", global_per_minute="6000")
    result = dispatch(letters, "--backend", "smtp", "--now", ALL_DUE, "--limit", "5", env=smtp_env(smtp_server))
    assert result.exit_code == 0
    times = [m.at for m in smtp_server.messages]
    assert len(times) == 5
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert min(gaps) >= 0.12, gaps


def test_configuration_error_stops_the_run_before_recording_anything(letters: Path, smtp_server: SmtpTestServer) -> None:
    env = {**smtp_env(smtp_server), "SMTP_SECURITY": "starttls"}  # the test server offers no STARTTLS
    result = dispatch(letters, *FAST, env=env)
    assert result.exit_code == 1
    assert "dispatch stopped" in result.output and "SMTP_SECURITY" in result.output
    assert ledger_lines(letters) == [] and smtp_server.messages == []


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_cancelled_run_stops_cleanly_and_leaves_the_rest_deferred(letters: Path, smtp_server: SmtpTestServer, sig: int) -> None:
    add_signatures(letters, "pt-lisbon", 200, prefix="Many")
    args = ("--backend", "smtp", "--now", ALL_DUE, "--no-throttle")
    proc = dispatch_process(letters, *args, env=smtp_env(smtp_server))
    deadline = time.monotonic() + 30
    while len(smtp_server.messages) < 10 and time.monotonic() < deadline:
        time.sleep(0.001)
    proc.send_signal(sig)
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out
    assert f"stopped early: received {signal.Signals(sig).name}" in out
    final = Counter(states(letters).values())
    assert set(final) == {"sent", "deferred"} and sum(final.values()) == 212
    assert final["sent"] == len(smtp_server.messages) < 212
    later = dispatch(letters, *args, env=smtp_env(smtp_server))
    assert later.exit_code == 0
    assert len(smtp_server.messages) == 212 and set(received(smtp_server).values()) == {1}


def test_attempts_are_numbered_across_runs(letters: Path, smtp_server: SmtpTestServer) -> None:
    smtp_server.script("RCPT", "451 4.7.1 later", times=2, rcpt="chicago.test@example.org")
    dispatch(letters, *FAST, "--mission", "us-chicago", "--limit", "1", "--attempts", "1", env=smtp_env(smtp_server))
    dispatch(letters, *FAST, "--mission", "us-chicago", "--limit", "1", "--attempts", "1", env=smtp_env(smtp_server))
    dispatch(letters, *FAST, "--mission", "us-chicago", "--limit", "1", env=smtp_env(smtp_server))
    lines = [(e["state"], e.get("attempt")) for e in ledger_lines(letters)]
    assert lines == [("sending", 1), ("deferred", 1), ("sending", 2), ("deferred", 2), ("sending", 3), ("sent", 3)]


def test_letters_are_composed_and_flattened_while_the_server_answers(letters: Path, smtp_server: SmtpTestServer,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """The work of the next letter waits for the server, not the server for it (dispatch.durable):
    only the first letter is composed and flattened outside the backend's waits for a reply."""
    from campaign.dispatch import compose
    from campaign.mail.base import BaseBackend
    from campaign.mail.smtp import SmtpBackend

    inside: list[bool] = []
    waiting = [False]
    for owner, name in ((compose, "compose"), (SmtpBackend, "_data")):
        real = getattr(owner, name)
        monkeypatch.setattr(owner, name, staticmethod(lambda *a, real=real, **k: (inside.append(waiting[0]), real(*a, **k))[1]))
    send = BaseBackend.send

    def watched(self: BaseBackend, message, before_data=None, meanwhile=None):  # type: ignore[no-untyped-def]
        def while_waiting() -> None:  # what the backend runs between a command and its reply
            waiting[0] = True
            try:
                meanwhile()  # type: ignore[misc]
            finally:
                waiting[0] = False
        return send(self, message, before_data, while_waiting)

    monkeypatch.setattr(BaseBackend, "send", watched)
    result = dispatch(letters, *FAST, env=smtp_env(smtp_server))
    assert result.exit_code == 0, result.output
    assert len(smtp_server.messages) == 12 and len(inside) == 24  # each letter composed and flattened once
    assert inside.count(False) == 2, inside  # the first letter's, before anything was sent


@pytest.mark.parametrize(("call", "after"), [("write", 1), ("write", 4), ("write", 9), ("fsync", 1), ("fsync", 3)])
def test_a_ledger_that_cannot_be_written_stops_the_run_and_nothing_goes_twice(
        letters: Path, smtp_server: SmtpTestServer, monkeypatch: pytest.MonkeyPatch, call: str, after: int) -> None:
    """A full disk (or a failing one) mid-run: a clear error, exit 1; the next run sends the rest,
    never a letter twice, and a letter that may have gone is `unknown`, not resent."""
    import errno

    from campaign.records import ledger

    calls = [0]

    def failing(real):  # type: ignore[no-untyped-def]
        def call_(*args):  # type: ignore[no-untyped-def]
            calls[0] += 1
            if calls[0] > after:
                raise OSError(errno.ENOSPC if call == "write" else errno.EIO, "the disk refused")
            return real(*args)
        return call_

    class Disk:  # the ledger's view of `os`, with `write` failing
        write = staticmethod(failing(os.write))

        def __getattr__(self, name: str) -> object:
            return getattr(os, name)

    if call == "write":
        monkeypatch.setattr(ledger, "os", Disk())
    else:
        monkeypatch.setattr(ledger, "_sync", failing(ledger._sync))
    stopped = dispatch(letters, *FAST, env=smtp_env(smtp_server))
    assert stopped.exit_code == 1, stopped.output
    assert re.search(r"^data/dispatch/[^:]+\.jsonl: cannot write the ledger \(the disk refused\); free space", stopped.output, re.M)
    assert "Traceback" not in stopped.output and "internal error" not in stopped.output
    monkeypatch.undo()
    again = dispatch(letters, *FAST, env=smtp_env(smtp_server))
    assert again.exit_code == 0, again.output
    got = received(smtp_server)
    assert set(got.values()) == {1}  # never twice
    final = {str(e["message_id"]): str(e["state"]) for e in ledger_lines(letters)}
    unknown = {mid for mid, s in final.items() if s == "unknown"}
    assert len(unknown) <= 1 and set(got) | unknown == set(final) and len(final) == 12  # none lost
    assert unknown <= set(got), "only a letter handed over may be unknown"


def test_a_run_ended_by_an_error_releases_the_letters_declared_ahead(letters: Path, smtp_server: SmtpTestServer,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Letters declared `sending` ahead but never handed over are `deferred` again when a run ends on
    an error, so a next run on another machine (another boot: the CI) sends them, not `unknown`."""
    from campaign.dispatch import compose, runner

    real, calls = compose.compose, [0]

    def breaking(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls[0] += 1
        if calls[0] == 8:
            raise RuntimeError("a bug in composing")
        return real(*args, **kwargs)

    monkeypatch.setattr(compose, "compose", breaking)
    stopped = dispatch(letters, *FAST, env=smtp_env(smtp_server))
    assert stopped.exit_code == 2 and "internal error: RuntimeError: a bug in composing" in stopped.output
    assert any(e.get("ahead") for e in ledger_lines(letters)), "letters were declared ahead"
    monkeypatch.undo()
    monkeypatch.setattr(runner, "boot_id", lambda: "another-machine")
    again = dispatch(letters, *FAST, env=smtp_env(smtp_server))
    assert again.exit_code == 0, again.output
    got = received(smtp_server)
    final = {str(e["message_id"]): str(e["state"]) for e in ledger_lines(letters)}
    assert set(got.values()) == {1} and len(final) == 12
    assert {mid for mid, s in final.items() if s == "unknown"} <= set(got), "only a letter handed over may be unknown"
