"""The mail backend contract: one suite, run against every backend (smtp against a real
aiosmtpd server on loopback), plus what only the SMTP backend does."""

from __future__ import annotations

import email
import email.policy
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

import pytest

from campaign import mail
from campaign.mail import BackendError, BaseBackend, Outcome, get_backend
from support.smtp import SmtpTestServer


def letter(n: int = 1, to: str = "mission@example.org", subject: str = "Open letter") -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "Campaign <letters@campaign.example.org>"
    msg["To"] = to
    msg["Subject"] = f"{subject} {n}"
    msg["Message-ID"] = f"<letter-{n}@campaign.example.org>"
    msg.set_content(f"Your Excellency,\n.a line starting with a dot\nSão Tomé, Zürich, Kraków\nletter {n}\n")
    msg.add_alternative(f"<p>Your Excellency, letter {n}</p>", subtype="html")
    return msg


@dataclass
class Kit:
    """A way to make the backend under test and to read back what it delivered."""

    make: Callable[..., BaseBackend]
    delivered: Callable[[], list[EmailMessage]]


def _parse(raw: bytes) -> EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)  # type: ignore[return-value]


@pytest.fixture(params=["smtp", "file", "console", "memory"])
def kit(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Kit]:
    name = request.param
    if name == "smtp":
        with SmtpTestServer() as server:
            yield Kit(lambda **o: get_backend("smtp", env=server.env(), timeout=5, **o),
                      lambda: [_parse(m.content) for m in server.messages])
    elif name == "file":
        outbox = tmp_path / "outbox"
        yield Kit(lambda **o: get_backend("file", outbox=outbox, **o),
                  lambda: [_parse(p.read_bytes()) for p in sorted(outbox.glob("*.eml"), key=lambda p: p.stat().st_mtime_ns)])
    elif name == "console":
        stream = io.StringIO()

        def printed() -> list[EmailMessage]:
            chunks = stream.getvalue().split("\n" + "-" * 79 + "\n")
            return [_parse(c.encode()) for c in chunks if c.strip()]

        yield Kit(lambda **o: get_backend("console", stream=stream, **o), printed)
    else:
        mail.outbox.clear()
        yield Kit(lambda **o: get_backend("memory", **o), lambda: list(mail.outbox))
        mail.outbox.clear()


# --- the contract ---------------------------------------------------------------------------


def test_send_delivers_the_message_intact(kit: Kit) -> None:
    with kit.make() as backend:
        outcome = backend.send(letter(1))
    assert outcome.state == "sent" and outcome.ok and outcome.detail
    [got] = kit.delivered()
    assert got["Message-ID"] == "<letter-1@campaign.example.org>"
    assert got["Subject"] == "Open letter 1"
    assert got["To"] == "mission@example.org"
    text = got.get_body(("plain",)).get_content()
    assert ".a line starting with a dot" in text.splitlines()
    assert "São Tomé, Zürich, Kraków" in text
    assert "letter 1" in got.get_body(("html",)).get_content()


def test_one_open_backend_sends_many_in_order(kit: Kit) -> None:
    with kit.make() as backend:
        outcomes = [backend.send(letter(n)) for n in range(5)]
    assert [o.state for o in outcomes] == ["sent"] * 5
    assert [m["Subject"] for m in kit.delivered()] == [f"Open letter {n}" for n in range(5)]


def test_send_opens_on_first_use_and_close_is_idempotent(kit: Kit) -> None:
    backend = kit.make()
    assert backend.send(letter(1)).state == "sent"
    backend.close()
    backend.close()
    assert backend.send(letter(2)).state == "sent"  # reopens after close
    backend.close()
    assert len(kit.delivered()) == 2


def test_open_reports_whether_it_opened(kit: Kit) -> None:
    backend = kit.make()
    try:
        assert backend.open() is True
        assert backend.open() is False
    finally:
        backend.close()


@pytest.mark.parametrize("bad", ["\x1b[31m", "\x00", "\u202e", "\u200b", "\x7f"])
def test_header_with_a_control_character_fails_and_is_not_delivered(kit: Kit, bad: str) -> None:
    msg = letter(1)
    msg.replace_header("Subject", f"Open{bad}letter")
    with kit.make() as backend:
        outcome = backend.send(msg)
    assert outcome.state == "failed" and "control character" in outcome.detail
    assert kit.delivered() == []


def test_header_injection_is_refused_by_the_email_package(kit: Kit) -> None:
    msg = letter(1)
    with pytest.raises(ValueError):
        msg.replace_header("Subject", "Hi\r\nBcc: victim@example.org")


def test_message_without_recipient_fails(kit: Kit) -> None:
    msg = letter(1)
    del msg["To"]
    with kit.make() as backend:
        outcome = backend.send(msg)
    assert outcome == Outcome("failed", "the message has no recipient (To, Cc or Bcc)")
    assert kit.delivered() == []


def test_before_data_is_called_once_before_delivery(kit: Kit) -> None:
    seen: list[int] = []
    with kit.make() as backend:
        backend.send(letter(1), before_data=lambda: seen.append(len(kit.delivered())))
    assert seen == [0]
    assert len(kit.delivered()) == 1


def test_before_data_is_not_called_for_a_refused_message(kit: Kit) -> None:
    msg = letter(1)
    msg.replace_header("Subject", "bad\x07")
    seen: list[int] = []
    with kit.make() as backend:
        backend.send(msg, before_data=lambda: seen.append(1))
    assert seen == []


def test_unknown_option_is_an_error(kit: Kit) -> None:
    with pytest.raises(TypeError, match="no option"):
        kit.make(no_such_option=1)


# --- registry and outcome --------------------------------------------------------------------


def test_get_backend_knows_four_backends() -> None:
    assert mail.NAMES == ("smtp", "file", "console", "memory")
    with pytest.raises(ValueError, match="unknown mail backend 'carrier-pigeon'"):
        get_backend("carrier-pigeon")


def test_outcome_states_are_closed() -> None:
    with pytest.raises(ValueError):
        Outcome("sending", "x")  # type: ignore[arg-type]


def test_memory_outbox_is_shared_like_djangos() -> None:
    mail.outbox.clear()
    with get_backend("memory") as a, get_backend("memory") as b:
        a.send(letter(1))
        b.send(letter(2))
    assert a.outbox is b.outbox is mail.outbox  # type: ignore[attr-defined]
    assert len(mail.outbox) == 2
    private: list[EmailMessage] = []
    with get_backend("memory", outbox=private) as c:
        c.send(letter(3))
    assert len(private) == 1 and len(mail.outbox) == 2
    mail.outbox.clear()


def test_file_backend_names_files_after_the_message_id(tmp_path: Path) -> None:
    with get_backend("file", outbox=tmp_path / "out") as backend:
        backend.send(letter(7))
        backend.send(letter(7))  # the same letter again replaces its file
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["letter-7_campaign.example.org.eml"]


def test_file_backend_unwritable_outbox_defers(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    backend = get_backend("file", outbox=blocker / "outbox")
    assert backend.send(letter(1)).state == "deferred"


# --- SMTP specifics --------------------------------------------------------------------------


@pytest.fixture
def server() -> Iterator[SmtpTestServer]:
    with SmtpTestServer() as srv:
        yield srv


def smtp(server: SmtpTestServer, **options: object) -> BaseBackend:
    return get_backend("smtp", **{"env": server.env(), "timeout": 5, **options})


STAGES = ["MAIL", "RCPT", "DATA-COMMAND", "DATA"]


@pytest.mark.parametrize("stage", STAGES)
@pytest.mark.parametrize("reply", ["450 4.2.0 mailbox busy", "451 4.7.1 greylisted"])
def test_4xx_defers(server: SmtpTestServer, stage: str, reply: str) -> None:
    server.script(stage, reply)
    with smtp(server) as backend:
        first = backend.send(letter(1))
        second = backend.send(letter(1))
    assert first.state == "deferred" and reply in first.detail
    assert second.state == "sent"
    assert server.message_ids() == ["<letter-1@campaign.example.org>"]


@pytest.mark.parametrize("stage", STAGES)
def test_421_closes_and_the_next_send_reconnects(server: SmtpTestServer, stage: str) -> None:
    server.script(stage, "421 4.3.2 shutting down")
    with smtp(server) as backend:
        assert backend.send(letter(1)).state == "deferred"
        assert backend.connection is None  # type: ignore[attr-defined]
        assert backend.send(letter(1)).state == "sent"
    assert len(server.messages) == 1


@pytest.mark.parametrize("stage", [s for s in STAGES if s != "MAIL"])  # MAIL FROM refused: the session (test_session)
@pytest.mark.parametrize("reply", ["550 5.1.1 no such user", "554 5.7.1 rejected"])
def test_5xx_fails_and_the_connection_stays_usable(server: SmtpTestServer, stage: str, reply: str) -> None:
    server.script(stage, reply)
    with smtp(server) as backend:
        outcome = backend.send(letter(1))
        assert outcome.state == "failed" and reply in outcome.detail
        assert backend.send(letter(2)).state == "sent"
    assert server.message_ids() == ["<letter-2@campaign.example.org>"]


def test_link_dropped_after_data_is_unknown(server: SmtpTestServer) -> None:
    server.script("DATA", "drop")
    with smtp(server) as backend:
        outcome = backend.send(letter(1))
        assert outcome.state == "unknown" and "may or may not" in outcome.detail
        assert backend.send(letter(2)).state == "sent"  # a new connection
    assert len(server.messages) == 2  # the server did get the first one


@pytest.mark.parametrize("stage", ["RCPT", "DATA-COMMAND"])
def test_link_dropped_before_the_message_defers(server: SmtpTestServer, stage: str) -> None:
    server.script(stage, "drop")
    with smtp(server) as backend:
        assert backend.send(letter(1)).state == "deferred"
        assert backend.send(letter(1)).state == "sent"
    assert len(server.messages) == 1


def test_link_dropped_at_mail_from_is_taken_for_an_idle_timeout_and_reopened(server: SmtpTestServer) -> None:
    server.script("MAIL", "drop")
    with smtp(server) as backend:
        assert backend.send(letter(1)).state == "sent"
    assert len(server.messages) == 1


def test_server_down_defers_and_recovers_after_restart(server: SmtpTestServer) -> None:
    backend = smtp(server, timeout=2)
    assert backend.send(letter(1)).state == "sent"
    server.stop()
    down = backend.send(letter(2))
    assert down.state == "deferred" and "cannot connect" in down.detail
    server.start()
    assert backend.send(letter(2)).state == "sent"
    backend.close()
    assert len(server.messages) == 2


def test_idle_connection_closed_by_server_is_reopened_transparently(server: SmtpTestServer) -> None:
    with smtp(server) as backend:
        assert backend.send(letter(1)).state == "sent"
        server.stop()  # cuts the live connection
        server.start()
        assert backend.send(letter(2)).state == "sent"


def test_one_connection_is_reused(server: SmtpTestServer) -> None:
    with smtp(server) as backend:
        for n in range(3):
            backend.send(letter(n))
    assert server.handler.attempts["MAIL"] == 3
    assert len({m.mail_from for m in server.messages}) == 1


def test_recipient_refused_resets_the_whole_message(server: SmtpTestServer) -> None:
    msg = letter(1)
    msg["Cc"] = "other@example.org"
    server.script("RCPT", "550 no", rcpt="other@example.org")
    with smtp(server) as backend:
        assert backend.send(msg).state == "failed"
    assert server.messages == []


def test_bcc_is_not_transmitted_but_receives(server: SmtpTestServer) -> None:
    msg = letter(1)
    msg["Bcc"] = "archive@example.org"
    with smtp(server) as backend:
        assert backend.send(msg).state == "sent"
    [got] = server.messages
    assert got.rcpt_tos == ["mission@example.org", "archive@example.org"]
    assert "Bcc" not in got.message


def test_settings_come_from_the_environment() -> None:
    backend = get_backend("smtp", env={"SMTP_HOST": "mail.example.org", "SMTP_SECURITY": "ssl",
                                       "SMTP_USERNAME": "u", "SMTP_PASSWORD": "p", "SMTP_TIMEOUT": "7"})
    assert (backend.host, backend.port, backend.security, backend.timeout) == ("mail.example.org", 465, "ssl", 7.0)  # type: ignore[attr-defined]
    assert get_backend("smtp", env={}).port == 587  # type: ignore[attr-defined]
    assert get_backend("smtp", port=2525, env={"SMTP_PORT": "25"}).port == 2525  # type: ignore[attr-defined]
    with pytest.raises(BackendError, match="SMTP_SECURITY"):
        get_backend("smtp", env={"SMTP_SECURITY": "tls1"})
    with pytest.raises(BackendError, match="numbers"):
        get_backend("smtp", env={"SMTP_PORT": "smtp"})


def test_starttls_unsupported_is_a_configuration_error(server: SmtpTestServer) -> None:
    backend = get_backend("smtp", env={**server.env(), "SMTP_SECURITY": "starttls"}, timeout=5)
    with pytest.raises(BackendError, match="SMTP_SECURITY"):
        backend.send(letter(1))
    assert server.messages == []


def test_the_tls_context_is_built_once_and_smtp_helo_names_the_client(server: SmtpTestServer,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    import ssl

    from campaign.mail import smtp as smtp_module

    made: list[ssl.SSLContext] = []
    real = ssl.create_default_context
    monkeypatch.setattr(smtp_module.ssl, "create_default_context", lambda *a, **k: made.append(real(*a, **k)) or made[-1])
    backend = get_backend("smtp", host=server.host, port=server.port, security="starttls", timeout=5,
                          env={"SMTP_HELO": "client.campaign.example"})
    for _ in range(3):  # every reconnect: the server offers no STARTTLS here, so each open stops at once
        with pytest.raises(BackendError, match="SMTP_SECURITY"):
            backend.open()
    assert len(made) == 1 and backend.ssl_context is made[0]  # type: ignore[attr-defined]
    assert server.handler.helo_names[-1] == "client.campaign.example"


def test_a_refused_sender_is_the_session_but_a_too_big_message_is_not(server: SmtpTestServer) -> None:
    server.script("MAIL", "552 5.3.4 Message size exceeds fixed limit")
    with smtp(server) as backend:
        outcome = backend.send(letter(1))
        assert outcome.state == "failed" and outcome.scope == "message"
    server.script("MAIL", "553 5.7.1 <letters@campaign.example.org>: Sender address rejected: not owned by user")
    with smtp(server) as backend, pytest.raises(BackendError, match="refused the session at MAIL FROM"):
        backend.send(letter(2))


@pytest.mark.parametrize(("stage", "reply", "rcpt", "scope"), [  # Postfix's own replies (its transcripts)
    ("RCPT", "504 5.5.2 <localhost>: Helo command rejected: need fully-qualified hostname", "a@b.org", "session"),
    ("RCPT", "501 5.5.2 <bad_name!>: Helo command rejected: Invalid name", "a@b.org", "session"),
    ("RCPT", "554 5.7.1 <localhost[127.0.0.1]>: Client host rejected: Access denied", "a@b.org", "session"),
    ("RCPT", "554 5.7.1 <blocked@campaign.test>: Sender address rejected: Access denied", "a@b.org", "session"),
    ("RCPT", "504 5.5.2 <bounces>: Sender address rejected: need fully-qualified address", "a@b.org", "session"),
    ("RCPT", "550 5.1.1 <nosuch@campaign.test>: Recipient address rejected: User unknown in virtual mailbox table",
     "nosuch@campaign.test", "recipient"),
    ("RCPT", "554 5.7.1 <someone@elsewhere.example>: Relay access denied", "someone@elsewhere.example", "recipient"),
    ("RCPT", "550 5.7.1 <other@x.org>: refused", "a@b.org", "session"),  # names something other than the recipient
    ("end of DATA", "550 5.7.1 letters about this are refused", None, "message"),
    ("end of DATA", "552 5.3.4 Error: message file too big", None, "message"),
    ("MAIL FROM", "552 5.3.4 Message size exceeds fixed limit", None, "message"),
    ("MAIL FROM", "554 5.7.1 <blocked@campaign.test>: Sender address rejected: Access denied", None, "session"),
    ("EHLO", "504 5.5.2 <localhost>: Helo command rejected: need fully-qualified hostname", None, "session"),
    ("greeting", "554 5.7.1 <localhost[127.0.0.1]>: Client host rejected: Access denied", None, "session"),
])
def test_what_a_refusal_is_about(stage: str, reply: str, rcpt: str | None, scope: str) -> None:
    from campaign.mail.replies import scope as about

    assert about(stage, reply.partition(" ")[2], rcpt) == scope


def test_plain_addresses_read_as_the_email_package_reads_them() -> None:
    import random
    import smtplib
    from email.utils import getaddresses

    from campaign.mail.base import _parsed, plain_address

    rng = random.Random(3)
    pieces = ["a", "Z", "0", ".", "..", "+", "=", "/", "'", "-", "_", "~", "@", " ", '"', "<", ">", ",", "(", ")", "[",
              "é", "xn--bcher-kva", "bounces+s-1f0c"]
    values = ["<bounces+s-1f0c@campaign.example.org>", "lisbon.test@example.org", "Ann <a@b>", "<a@b", "a@b>", "<>"]
    values += ["".join(rng.choice(pieces) for _ in range(rng.randrange(1, 9))) for _ in range(3000)]
    for value in values:
        expected = tuple(addr for _, addr in getaddresses([value]) if addr)
        if plain_address(value) is not None:
            assert (plain_address(value),) == expected, value
            assert f"<{plain_address(value)}>" == smtplib.quoteaddr(value), value
        assert _parsed(value) == expected, value
    assert plain_address("<bounces+s-1f0c@campaign.example.org>") == "bounces+s-1f0c@campaign.example.org"
    assert plain_address('"a b"@c') is None and plain_address("Ann <a@b>") is None
