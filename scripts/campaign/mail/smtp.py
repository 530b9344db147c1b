"""SMTP backend: smtplib over one reused connection, with explicit timeouts.

Settings come from the options, else from the environment (the workflow passes secrets there):
`SMTP_HOST`, `SMTP_PORT`, `SMTP_USERNAME`, `SMTP_PASSWORD`, `SMTP_SECURITY` (`starttls`, the
default, `ssl` or `none`), `SMTP_TIMEOUT` (seconds, default 30) and `SMTP_HELO` (the name said
in EHLO; default the host name, which a server may refuse when it is not fully qualified).
The TLS context is built once per backend, not at every reconnect.

How a reply becomes an Outcome (ARCHITECTURE.md, "Dispatch"):

- a refusal of the session (`mail.replies`: a 5xx to the greeting, EHLO, STARTTLS, AUTH or
  MAIL FROM, or a RCPT refusal of our HELO name, client or sender) raises BackendError: it
  would hit every letter alike, so the run stops and the letter stays retryable;

- 250 after the message: `sent`, with the server's reply as detail;
- 4xx anywhere, a refused or dropped connection before the message was handed over, a
  timeout before DATA: `deferred` (the caller retries with backoff). A 421 or a dropped link
  closes the connection; the next `send` reconnects. A reused connection found dead at
  MAIL FROM (the server timed it out while idle) is reopened once, transparently;
- any other 5xx: `failed`, with its scope (`recipient` at RCPT, `message` after DATA);
- the link dropped or timed out after the message was handed over (DATA accepted with 354):
  `unknown`, since the server may or may not have accepted it.

A message goes to all its recipients or none: if one RCPT is refused the transaction is reset.
Problems that would hit every message alike (authentication refused, STARTTLS unsupported, a
session refused) raise BackendError instead, so the run stops without failing a letter. The
envelope sender is the message's Return-Path (the letter's VERP address), else its sender;
the Return-Path header itself is not sent.
"""

from __future__ import annotations

import copy
import io
import os
import re
import smtplib
import socket
import ssl
from collections.abc import Mapping
from email.generator import BytesGenerator
from email.message import EmailMessage
from functools import lru_cache

from campaign.core.errors import BackendError
from campaign.mail.base import BaseBackend, BeforeData, Outcome, needs_smtputf8, plain_address
from campaign.mail.replies import scope

SECURITY = ("starttls", "ssl", "none")
DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "none": 25}
_EOL = re.compile(rb"\r\n|\n|\r")
_LEADING_DOT = re.compile(rb"(?m)^\.")


class _Stale(Exception):
    """The reused connection was dead before anything of the message was handed over."""


class _Lost(Exception):
    """The link broke while a command or the message went out or its reply came back."""


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{exc.smtp_code} {_text(exc.smtp_error)}"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


class SmtpBackend(BaseBackend):
    name = "smtp"

    def __init__(
        self,
        host: str | None = None,
        port: int | str | None = None,
        username: str | None = None,
        password: str | None = None,
        security: str | None = None,
        timeout: float | str | None = None,
        local_hostname: str | None = None,
        ssl_context: ssl.SSLContext | None = None,
        env: Mapping[str, str] | None = None,
        **options: object,
    ) -> None:
        super().__init__(**options)
        env = os.environ if env is None else env
        self.host = host or env.get("SMTP_HOST") or "localhost"
        self.security = (security or env.get("SMTP_SECURITY") or "starttls").strip().lower()
        if self.security not in SECURITY:
            raise BackendError(f"SMTP_SECURITY is {self.security!r}; use one of {', '.join(SECURITY)}")
        try:
            self.port = int(port or env.get("SMTP_PORT") or DEFAULT_PORTS[self.security])
            self.timeout = float(timeout if timeout is not None else env.get("SMTP_TIMEOUT") or 30)
        except ValueError as exc:
            raise BackendError(f"SMTP_PORT and SMTP_TIMEOUT must be numbers: {exc}") from None
        if not (0 < self.port < 65536) or not (0 < self.timeout <= 3600):
            raise BackendError("SMTP_PORT must be 1-65535 and the timeout 0-3600 seconds")
        self.username = username if username is not None else env.get("SMTP_USERNAME") or None
        self.password = password if password is not None else env.get("SMTP_PASSWORD") or ""
        self.local_hostname = local_hostname or env.get("SMTP_HELO") or socket.gethostname() or "localhost"  # no DNS
        self.ssl_context = ssl_context or (ssl.create_default_context() if self.security != "none" else None)
        self.connection: smtplib.SMTP | None = None
        self._wire: dict[int, tuple[EmailMessage, bool, bytes]] = {}  # id -> DATA bytes made by `prepare`

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    # --- connection ---------------------------------------------------------------------

    def open(self) -> bool:
        """Connect, say EHLO, upgrade to TLS and log in; raise on failure."""
        if self.connection is not None:
            return False
        context = self.ssl_context
        conn: smtplib.SMTP
        try:
            if self.security == "ssl":
                conn = smtplib.SMTP_SSL(self.host, self.port, local_hostname=self.local_hostname,
                                        timeout=self.timeout, context=context)
            else:
                conn = smtplib.SMTP(self.host, self.port, local_hostname=self.local_hostname, timeout=self.timeout)
        except smtplib.SMTPConnectError as exc:
            self._session("greeting", exc.smtp_code, exc.smtp_error)
            raise
        stage = "EHLO"
        try:
            conn.ehlo_or_helo_if_needed()
            if self.security == "starttls":
                stage = "STARTTLS"
                conn.starttls(context=context)
                stage = "EHLO"
                conn.ehlo()
            if self.username:
                stage = "AUTH"
                conn.login(self.username, self.password)
        except smtplib.SMTPAuthenticationError as exc:
            conn.close()
            raise BackendError(f"{self.address} refused the login ({_describe(exc)}); "
                               "check SMTP_USERNAME and SMTP_PASSWORD") from None
        except smtplib.SMTPNotSupportedError as exc:
            conn.close()
            raise BackendError(f"{self.address}: {exc}; check SMTP_SECURITY") from None
        except smtplib.SMTPResponseException as exc:
            conn.close()
            self._session(stage, exc.smtp_code, exc.smtp_error)
            raise
        except BaseException:
            conn.close()
            raise
        self.connection = conn
        self.opened = True
        return True

    def check(self) -> None:
        """Open a session (connect, EHLO, STARTTLS, AUTH) and close it with QUIT, sending
        nothing (`campaign doctor`); BackendError says what refused and which setting to check."""
        try:
            self.open()
        except BackendError:
            raise
        except ssl.SSLCertVerificationError as exc:
            raise BackendError(f"{self.address}: the server's certificate is not trusted ({exc.verify_message}); "
                               "check SMTP_HOST (the name the certificate is for)") from None
        except (smtplib.SMTPException, OSError) as exc:
            raise BackendError(f"cannot open a session with {self.address} ({_describe(exc)}); "
                               "check SMTP_HOST, SMTP_PORT and SMTP_SECURITY") from None
        self.close()

    def _session(self, stage: str, code: int, reply: bytes | str) -> None:
        """Raise BackendError for a permanent refusal of the session (a 4xx is left to retry)."""
        if 500 <= code < 600:
            said = f"{code} {_text(reply)}"
            hint = {"EHLO": f"; the name said was {self.local_hostname!r}: set SMTP_HELO to this host's fully "
                            "qualified name", "AUTH": "; check SMTP_USERNAME and SMTP_PASSWORD",
                    "STARTTLS": "; check SMTP_SECURITY"}.get(stage, "")
            if "helo" in said.casefold() and not hint:
                hint = f"; the name said in EHLO was {self.local_hostname!r}: set SMTP_HELO to a fully qualified name"
            raise BackendError(f"{self.address} refused the session at {stage} ({said}){hint}; no letter was "
                               "marked failed: fix the cause and run again")

    def close(self) -> None:
        """Say QUIT and close; closing a dead or closed connection is harmless."""
        conn, self.connection = self.connection, None
        super().close()
        self._wire.clear()
        if conn is None:
            return
        try:
            conn.quit()
        except (smtplib.SMTPException, OSError):
            pass
        finally:
            conn.close()

    def _drop(self) -> None:
        """Forget a connection the server closed (or that cannot be trusted) without QUIT."""
        conn, self.connection = self.connection, None
        self.opened = False
        if conn is not None:
            conn.close()

    # --- one message --------------------------------------------------------------------

    def prepare(self, message: EmailMessage) -> None:
        """Check and flatten the message to its DATA bytes now, once (while the server works)."""
        made = self._wire.get(id(message))
        if made is not None and made[0] is message:
            return
        super().prepare(message)
        utf8 = needs_smtputf8(self._checked[id(message)][2])
        self._wire[id(message)] = (message, utf8, self._data(message, utf8=utf8))

    def _deliver(self, message: EmailMessage, before_data: BeforeData) -> Outcome:
        sender, rcpts = self.envelope
        for _ in range(2):
            reused = self.connection is not None
            try:
                self.open()
            except BackendError:
                raise
            except (smtplib.SMTPException, OSError) as exc:
                self._drop()
                return Outcome("deferred", f"cannot connect to {self.address}: {_describe(exc)}")
            try:
                return self._transaction(message, sender, rcpts, before_data)
            except _Stale as exc:
                self._drop()
                if not reused:
                    return Outcome("deferred", f"connection to {self.address} lost at MAIL FROM: {exc}")
        return Outcome("deferred", f"connection to {self.address} lost twice at MAIL FROM")

    def _transaction(self, message: EmailMessage, sender: str, rcpts: list[str], before_data: BeforeData) -> Outcome:
        conn = self.connection
        assert conn is not None
        international = needs_smtputf8((sender, rcpts))
        made = self._wire.pop(id(message), None)
        if international and not conn.has_extn("smtputf8"):
            return Outcome("failed", f"{self.address} does not support SMTPUTF8, needed for a non-ASCII address")
        data = made[2] if made and made[0] is message and made[1] == international else self._data(message, utf8=international)
        options = ["SMTPUTF8"] if international else []
        if not data.isascii() and conn.has_extn("8bitmime"):
            options.append("BODY=8BITMIME")
        if international:
            conn.command_encoding = "utf-8"  # what smtplib's `mail` does for SMTPUTF8
        try:
            code, reply = self._ask(conn, "mail", _envelope("FROM:", sender, options))
        except _Lost as exc:
            raise _Stale(str(exc)) from None
        if code != 250:
            if code in (530, 535):
                self._drop()
                raise BackendError(f"{self.address} requires authentication ({code} {_text(reply)}); "
                                   "set SMTP_USERNAME and SMTP_PASSWORD")
            return self._refused("MAIL FROM", code, reply, "MAIL FROM")
        for rcpt in rcpts:
            try:
                code, reply = self._ask(conn, "rcpt", _envelope("TO:", rcpt))
            except _Lost as exc:
                self._drop()
                return Outcome("deferred", f"connection to {self.address} lost at RCPT TO: {exc}")
            if code not in (250, 251):
                return self._refused(f"RCPT TO <{rcpt}>", code, reply, "RCPT", rcpt)
        before_data()
        try:
            code, reply = self._ask(conn, "data", chores=False)  # 354 comes at once: the server works after the message
        except _Lost as exc:
            self._drop()
            return Outcome("deferred", f"connection to {self.address} lost at DATA: {exc}")
        if code != 354:
            return self._refused("DATA", code, reply, "DATA")
        try:
            code, reply = self._ask(conn, data=data)
        except _Lost as exc:
            self._drop()
            return Outcome("unknown", f"connection to {self.address} lost after the message was handed over "
                                      f"({exc}); the server may or may not have accepted it")
        if code == 250:
            return Outcome("sent", f"{code} {_text(reply)}")
        return self._refused("end of DATA", code, reply, "end of DATA")

    def _ask(self, conn: smtplib.SMTP, verb: str = "", args: str = "", data: bytes | None = None,
             chores: bool = True) -> tuple[int, bytes]:
        """Send a command (or the message's `data`) and read the reply, doing the caller's chores
        (`meanwhile`) while the server works on it; a broken link raises _Lost, a chore's own
        exception passes through as it is."""
        try:
            if data is None:
                conn.putcmd(verb, args)
            else:
                conn.send(data)
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            raise _Lost(_describe(exc)) from None
        if chores:
            self.meanwhile()
        try:
            return conn.getreply()
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            raise _Lost(_describe(exc)) from None

    def _refused(self, where: str, code: int, reply: bytes, stage: str, rcpt: str | None = None) -> Outcome:
        detail = f"{code} {_text(reply)} (at {where})"
        if code == 421 or code < 0:  # the server is closing the connection
            self._drop()
            return Outcome("deferred", detail)
        try:
            assert self.connection is not None
            self.connection.rset()
        except (smtplib.SMTPException, OSError, AssertionError):
            self._drop()
        if 500 <= code < 600:
            about = scope(stage, _text(reply), rcpt)
            if about == "session":
                self._session(stage, code, reply)
            return Outcome("failed", detail, about)
        return Outcome("deferred", detail)

    @staticmethod
    def _data(message: EmailMessage, utf8: bool) -> bytes:
        """The message as DATA: CRLF line ends, Bcc removed, leading dots doubled, final dot."""
        data = _raw_wire(message)
        if data is None:
            if "Bcc" in message or "Return-Path" in message:
                message = copy.copy(message)
                del message["Bcc"]
                del message["Return-Path"]
            policy = message.policy.clone(linesep="\r\n", utf8=utf8) if utf8 else message.policy.clone(linesep="\r\n")
            buffer = io.BytesIO()
            BytesGenerator(buffer, policy=policy).flatten(message, linesep="\r\n")
            data = buffer.getvalue()
        crlf = data.count(b"\r\n")
        if data.count(b"\n") != crlf or data.count(b"\r") != crlf:  # a bare CR or LF slipped through
            data = _EOL.sub(b"\r\n", data)
        if data.startswith(b".") or b"\n." in data:
            data = _LEADING_DOT.sub(b"..", data)
        if not data.endswith(b"\r\n"):
            data += b"\r\n"
        return data + b".\r\n"


def _envelope(head: str, address: str, options: list[str] | None = None) -> str:
    """The argument of MAIL or RCPT as smtplib's `mail` and `rcpt` write it: the address quoted by
    `smtplib.quoteaddr` only when it is not plain (its parser costs more than the rest of a
    letter's transaction)."""
    plain = plain_address(address)
    quoted = f"<{plain}>" if plain else smtplib.quoteaddr(address)
    return f"{head}{quoted}" + "".join(f" {o}" for o in options or ())


_LEFT_OUT = frozenset({"bcc", "return-path"})


@lru_cache(maxsize=1024)
def _boundary(content_type: str) -> str | None:
    """The boundary of a multipart Content-Type, as the email package reads it (remembered:
    letters share a few hundred)."""
    probe = EmailMessage()
    probe["Content-Type"] = content_type.replace("\r", "").replace("\n", "")  # unfolded
    return probe.get_boundary()


def _raw_wire(message: EmailMessage) -> bytes | None:
    """The bytes of a message built only from raw ASCII header values (`set_raw`, as composed
    letters are) and ASCII payloads, joined directly: what BytesGenerator writes for it, without
    its per-header policy work. None for any other message (the generator handles those)."""
    out: list[str] = []

    def walk(part: EmailMessage) -> bool:
        for name, value in part.raw_items():
            if type(value) is not str or not value.isascii():
                return False
            if name.lower() not in _LEFT_OUT:
                out.append(f"{name}: {value}\n")
        out.append("\n")
        payload = part.get_payload()
        if isinstance(payload, str):
            if not payload.isascii():
                return False
            out.append(payload)
            return True
        boundary = _boundary(next((str(v) for k, v in part.raw_items() if k.lower() == "content-type"), ""))
        if not isinstance(payload, list) or not boundary or part.preamble or part.epilogue:
            return False
        for sub in payload:
            out.append(f"\n--{boundary}\n" if out[-1] != "\n" else f"--{boundary}\n")
            if not walk(sub):
                return False
        out.append(f"\n--{boundary}--\n")
        return True

    if not walk(message):
        return None
    return "".join(out).replace("\n", "\r\n").encode("ascii")
