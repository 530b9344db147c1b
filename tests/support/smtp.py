"""A real SMTP server for tests and benchmarks: aiosmtpd on loopback with scripted replies.

    with SmtpTestServer() as server:                 # listens on 127.0.0.1:<free port>
        server.script("RCPT", "451 4.7.1 try later", times=2)
        server.script("DATA", "drop", rcpt="x@example.org")   # close the link, no reply
        ...
        server.messages                              # what the server accepted

Stages are GREETING (the 220 banner), EHLO (and HELO), STARTTLS, AUTH, MAIL, RCPT,
DATA-COMMAND (the reply to DATA, normally 354) and DATA (the reply after the message). A rule
answers instead of the normal reply while it has uses left; "421 ..." replies then closes the
connection; "drop" closes it without replying (at DATA the message counts as received: the
server got it but the client cannot know). A STARTTLS or AUTH rule makes the server advertise
STARTTLS.

With `tls` (`support.tls.Certificates`) the server offers real STARTTLS and requires it; with
`credentials` (user, password) it requires AUTH (PLAIN or LOGIN, only over TLS when it has
`tls`) and refuses any other login with 535, as a mail provider does.

`Handler(helo_policy="delay")` answers like Postfix with `reject_non_fqdn_helo_hostname`
behind its default `smtpd_delay_reject = yes`: a HELO name without a dot is refused at every
RCPT with Postfix's own text; `"immediate"` (delay_reject = no) refuses it at EHLO and HELO.
aiosmtpd is a development dependency: this module is for tests only.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, Session


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Rule:
    stage: str
    reply: str
    times: int | None = 1  # None: for ever
    rcpt: str | None = None  # only for messages to this recipient

    def matches(self, stage: str, rcpts: list[str]) -> bool:
        if self.stage != stage or self.times == 0:
            return False
        return self.rcpt is None or self.rcpt in rcpts


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    content: bytes
    at: float = field(default_factory=time.monotonic)

    @property
    def message(self) -> EmailMessage:
        return email.message_from_bytes(self.content, policy=email.policy.default)  # type: ignore[return-value]

    @property
    def message_id(self) -> str:
        return str(self.message.get("Message-ID", ""))


STAGES = ("GREETING", "EHLO", "STARTTLS", "AUTH", "MAIL", "RCPT", "DATA-COMMAND", "DATA")


def helo_refusal(name: str) -> str:
    """Postfix's reply to a HELO name refused by reject_non_fqdn_helo_hostname."""
    return f"504 5.5.2 <{name}>: Helo command rejected: need fully-qualified hostname"


@dataclass
class Handler:
    rules: list[Rule] = field(default_factory=list)
    helo_policy: str | None = None  # None, "delay" (refused at RCPT) or "immediate" (at EHLO/HELO)
    helo_names: list[str] = field(default_factory=list)
    messages: list[Received] = field(default_factory=list)
    attempts: dict[str, int] = field(default_factory=dict)  # stage -> commands seen
    on_message: Callable[[Received, int], None] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def _rule(self, stage: str, rcpts: list[str]) -> str | None:
        with self.lock:
            self.attempts[stage] = self.attempts.get(stage, 0) + 1
            for rule in self.rules:
                if rule.matches(stage, rcpts):
                    if rule.times is not None:
                        rule.times -= 1
                    return rule.reply
        return None

    @staticmethod
    def _answer(server: SMTP, reply: str) -> str:
        if reply == "drop":
            assert server.transport is not None
            server.transport.abort()
            return "451 dropped"  # written to a dead transport: never seen
        if reply.startswith("421"):
            transport = server.transport
            assert transport is not None
            asyncio.get_running_loop().call_soon(transport.close)  # after the reply is written
        return reply

    def _advertised(self, stage: str) -> bool:
        return any(rule.stage == stage for rule in self.rules)

    def _helo(self, server: SMTP, session: Session, hostname: str) -> str | None:
        session.host_name = hostname
        self.helo_names.append(hostname)
        reply = self._rule("EHLO", [])
        if reply:
            return self._answer(server, reply)
        if self.helo_policy == "immediate" and "." not in hostname:
            return helo_refusal(hostname)
        return None

    async def handle_EHLO(self, server: SMTP, session: Session, envelope: Envelope, hostname: str,
                          responses: list[str]) -> list[str]:
        refused = self._helo(server, session, hostname)
        if refused:
            return [refused]
        extra = ["250-STARTTLS"] * self._advertised("STARTTLS")  # AUTH: aiosmtpd advertises it (auth_require_tls off)
        return responses[:-1] + extra + responses[-1:]

    async def handle_HELO(self, server: SMTP, session: Session, envelope: Envelope, hostname: str) -> str:
        return self._helo(server, session, hostname) or f"250 {server.hostname}"

    async def handle_MAIL(self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]) -> str:
        reply = self._rule("MAIL", [])
        if reply:
            return self._answer(server, reply)
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]) -> str:
        reply = self._rule("RCPT", [address])
        if reply:
            return self._answer(server, reply)
        if self.helo_policy == "delay" and "." not in (session.host_name or ""):
            return helo_refusal(str(session.host_name))
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        reply = self._rule("DATA", list(envelope.rcpt_tos))
        content = envelope.original_content or b""
        received = Received(str(envelope.mail_from), list(envelope.rcpt_tos), content)
        if reply and reply != "drop":
            return self._answer(server, reply)
        with self.lock:
            self.messages.append(received)
            count = len(self.messages)
        if self.on_message is not None:
            self.on_message(received, count)
        if reply == "drop":
            return self._answer(server, reply)
        return f"250 OK queued as {count}"


class _ScriptedSMTP(SMTP):
    """aiosmtpd's SMTP session, with scripted replies to the greeting, STARTTLS, AUTH and the
    DATA command itself."""

    greeted = False

    async def push(self, status: str) -> None:  # type: ignore[override]
        if not self.greeted:
            self.greeted = True
            reply = self.event_handler._rule("GREETING", [])
            if reply:
                status = self.event_handler._answer(self, reply)
        await super().push(status)

    async def _scripted(self, stage: str) -> bool:
        reply = self.event_handler._rule(stage, [])
        if reply:
            answer = self.event_handler._answer(self, reply)
            if reply != "drop":
                await super().push(answer)
        return bool(reply)

    async def smtp_STARTTLS(self, arg: str) -> None:
        if not await self._scripted("STARTTLS"):
            await super().smtp_STARTTLS(arg)

    async def smtp_AUTH(self, arg: str) -> None:
        if not await self._scripted("AUTH"):
            await super().smtp_AUTH(arg)

    async def smtp_DATA(self, arg: str) -> None:
        handler = self.event_handler
        if self.envelope is not None and self.envelope.rcpt_tos and not arg:
            reply = handler._rule("DATA-COMMAND", list(self.envelope.rcpt_tos))
            if reply:
                answer = handler._answer(self, reply)
                if reply != "drop":
                    await self.push(answer)
                self._set_rset_state()
                return
        await super().smtp_DATA(arg)


class _Controller(Controller):
    """Keeps its sessions, so `stop` can cut live connections like a crashing server."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.sessions: list[SMTP] = []

    def factory(self) -> SMTP:
        smtp = _ScriptedSMTP(self.handler, **self.SMTP_kwargs)
        self.sessions.append(smtp)
        return smtp


class SmtpTestServer:
    """An aiosmtpd server on 127.0.0.1; `stop()`/`start()` keep the port and what it received."""

    def __init__(self, port: int | None = None, handler: Handler | None = None, tls: Any = None,
                 credentials: tuple[str, str] | None = None) -> None:
        self.host = "127.0.0.1"
        self.port = port or free_port()
        self.handler = handler or Handler()
        self.controller: _Controller | None = None
        self.tls, self.credentials = tls, credentials
        self.logins: list[tuple[str, bool]] = []
        """(user name, accepted) of every AUTH attempt."""

    def _authenticate(self, server: SMTP, session: Session, envelope: Envelope, mechanism: str,
                      auth_data: Any) -> AuthResult:
        user, password = auth_data.login.decode(), auth_data.password.decode()
        accepted = (user, password) == self.credentials
        self.logins.append((user, accepted))
        return AuthResult(success=accepted, handled=False)

    def _security(self) -> dict[str, Any]:
        """aiosmtpd's options for STARTTLS and AUTH (none: plain text, no login)."""
        options: dict[str, Any] = {"auth_require_tls": False}
        if self.tls is not None:
            options.update(tls_context=self.tls.server_context(), require_starttls=True, auth_require_tls=True)
        if self.credentials is not None:
            options.update(authenticator=self._authenticate, auth_required=True)
        return options

    @property
    def messages(self) -> list[Received]:
        return self.handler.messages

    def message_ids(self) -> list[str]:
        return [m.message_id for m in self.messages]

    def script(self, stage: str, reply: str, times: int | None = 1, rcpt: str | None = None) -> None:
        if stage not in STAGES:
            raise ValueError(f"stage must be one of {', '.join(STAGES)}, not {stage!r}")
        with self.handler.lock:
            self.handler.rules.append(Rule(stage, reply, times, rcpt))

    def env(self) -> dict[str, str]:
        """SMTP_* environment variables pointing the smtp backend here (with the right login, if any)."""
        found = {"SMTP_HOST": self.host, "SMTP_PORT": str(self.port), "SMTP_SECURITY": "starttls" if self.tls else "none"}
        if self.credentials:
            found.update(SMTP_USERNAME=self.credentials[0], SMTP_PASSWORD=self.credentials[1])
        return found

    def start(self) -> SmtpTestServer:
        if self.controller is None:
            self.controller = _Controller(self.handler, hostname=self.host, port=self.port, ready_timeout=10,
                                          enable_SMTPUTF8=True, **self._security())
            self.controller.start()
        return self

    def stop(self) -> None:
        """Stop listening and cut every open connection."""
        controller, self.controller = self.controller, None
        if controller is None:
            return
        done = threading.Event()

        def cut() -> None:
            for smtp in controller.sessions:
                if smtp.transport is not None:
                    smtp.transport.abort()
            done.set()

        controller.loop.call_soon_threadsafe(cut)
        done.wait(5)
        controller.stop()

    def __enter__(self) -> SmtpTestServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
