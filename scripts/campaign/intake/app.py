"""The intake service over HTTP: FastAPI (so the API is described by OpenAPI), on uvicorn.

    POST /api/signatures       JSON or form-encoded; 202 "check your email", or a 4xx JSON error
    GET  /confirm/{token}      a page with a button (prefetching link scanners confirm nothing), in the signer's language
    POST /confirm/{token}      confirms
    GET  /withdraw/{token}     the withdrawal page (a button; changes nothing), or "too late" from the dispatch date
    POST /withdraw/{token}     withdraws: an uncommitted signature is dropped, a committed one gets a removal pull request
    GET  /api/health           liveness and queue sizes
    GET  /api/openapi.json     the API description (no Swagger UI page: it would load scripts from a CDN,
                               and the site promises that nothing is fetched from third parties)
    GET  /...                  the built site, when `campaign serve` built one; else `/` is a page for
                               visitors that points to the campaign's site

Errors are JSON, `{"error": code, "message": text, "errors": {field: [messages]}}`:
400 malformed body (duplicate fields or JSON keys included) or honeypot filled, 403 posted from
another site, 409 already signed, 413 body too large, 415 unsupported content type, 422 invalid
fields, 429 rate limited (with Retry-After).

It runs on uvicorn with header and body deadlines (`protocol.py`), X-Forwarded-For trusted only
from the proxies named in the settings (`serve`), and cross-site posts refused (`limits.OriginCheck`).
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from campaign.data import locales
from campaign.i18n.catalogues import Translator, negotiate
from campaign.intake import pages, withdrawal
from campaign.intake.fingerprint import redact
from campaign.intake.limits import BodyLimit, OriginCheck, RateLimiter, client_key, origin, retry_after
from campaign.intake.protocol import deadline_protocol
from campaign.intake.service import Answer, Intake

log = logging.getLogger("campaign.intake")
TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,100}$")


class SignatureForm(BaseModel):
    """A signature as the site's form sends it (JSON or application/x-www-form-urlencoded)."""

    name: str = Field(description="full name", max_length=200, examples=["Ana Pereira"])
    country: str = Field(description="ISO 3166-1 alpha-2 code of the country of residence", examples=["PT"],
                         pattern=r"^[A-Za-z]{2}$")
    email: str = Field(description="where the confirmation link is sent; deleted after confirmation",
                       examples=["ana@example.org"])
    mission: str | None = Field(default=None, description="id of the mission to receive the letter "
                                "(default: the country's own)", examples=["pt-lisbon"], max_length=80)
    publish: bool = Field(default=False, description="consent: list my name on the site")
    letter: bool = Field(default=False, description="consent: include my name in the letter")
    followup: bool = Field(default=False, description="consent: email me once when the letters are delivered and if the "
                           "mission replies (the address is kept only sealed to the organisers' key; `followup` in campaign.yaml)")
    consent: str = Field(description="version of the consent texts shown (consent.version in data/campaign.yaml)",
                         examples=["2026-11"])
    language: str | None = Field(default=None, description="the form's page language (one of `languages`): the mails, "
                                 "pages and errors follow it, and the letter goes in it after the English", examples=["es"],
                                 pattern=r"^[a-z]{2,3}$")
    website: str = Field(default="", max_length=0, description="honeypot: must be empty")


class Accepted(BaseModel):
    status: str = Field(examples=["pending"])
    message: str
    check_email: bool


class ErrorBody(BaseModel):
    error: str = Field(description="malformed | rejected | cross_site | duplicate | too_large | unsupported | invalid "
                       "| rate_limited")
    message: str
    errors: dict[str, list[str]] | None = Field(default=None, description="messages per field")


class Health(BaseModel):
    status: str
    pending: int
    confirmed: int
    flushed: int
    mail_queued: int


_SCHEMA = SignatureForm.model_json_schema()
_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "malformed body, or the honeypot field was filled"},
    403: {"model": ErrorBody, "description": "posted from a page of another site"},
    409: {"model": ErrorBody, "description": "this name from this country has already signed"},
    413: {"model": ErrorBody, "description": "the body is over the size limit"},
    415: {"model": ErrorBody, "description": "neither JSON nor a form"},
    422: {"model": ErrorBody, "description": "some fields are invalid; see `errors`"},
    429: {"model": ErrorBody, "description": "too many submissions from this address; see Retry-After"},
}


class Malformed(Exception):
    def __init__(self, status: int, error: str, message: str) -> None:
        super().__init__(message)
        self.status, self.error, self.message = status, error, message


async def read_fields(request: Request) -> dict[str, Any]:
    """The submitted fields from a JSON object or a (urlencoded or multipart) form."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "application/json" or kind.endswith("+json"):
        body = await request.body()
        try:
            data = json.loads(body.decode("utf-8"), object_pairs_hook=_unique_keys)
        except DuplicateKey as exc:
            raise Malformed(400, "malformed", f"fields given more than once: {exc}") from None
        except (UnicodeDecodeError, ValueError, RecursionError):
            raise Malformed(400, "malformed", "the body is not valid UTF-8 JSON") from None
        if not isinstance(data, dict):
            raise Malformed(400, "malformed", "the body must be a JSON object of fields")
        return data
    if kind == "application/x-www-form-urlencoded":
        body = await request.body()
        try:
            pairs = parse_qs(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False,
                             max_num_fields=50, errors="strict")
        except (UnicodeDecodeError, ValueError):
            raise Malformed(400, "malformed", "the form is not valid UTF-8 form data") from None
    elif kind == "multipart/form-data":
        try:
            form = await request.form(max_files=0, max_fields=50)
        except Exception:  # noqa: BLE001 - any parser complaint is the client's malformed body
            raise Malformed(400, "malformed", "the form data could not be read (no files are accepted)") from None
        pairs = {}
        for key, value in form.multi_items():
            if not isinstance(value, str):
                raise Malformed(400, "malformed", "no files are accepted")
            pairs.setdefault(key, []).append(value)
    else:
        raise Malformed(415, "unsupported", "send the fields as application/json or a form (application/x-www-form-urlencoded)")
    repeated = sorted(k for k, v in pairs.items() if len(v) > 1)
    if repeated:
        raise Malformed(400, "malformed", f"fields given more than once: {', '.join(repeated)}")
    return {k: v[0] for k, v in pairs.items()}


class DuplicateKey(ValueError):
    pass


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object, refusing a key given twice (at any depth), as a repeated form field is."""
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise DuplicateKey(key)
        found[key] = value
    return found


def _wants_html(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    kind = request.headers.get("content-type", "")
    return "text/html" in accept and "application/json" not in accept and not kind.startswith("application/json")


class IntakeApp(BodyLimit):
    """The ASGI application: the body size cap around the FastAPI app."""

    def __init__(self, api: FastAPI, intake: Intake, origins: list[str]) -> None:
        super().__init__(OriginCheck(api, lambda: {origin(o) for o in [intake.settings.public_url, *origins]}),
                         intake.limits.max_body)
        self.api = api
        self.intake = intake


def create_app(intake: Intake, *, allowed_origins: list[str] | None = None, site_dir: Path | None = None,
               background: bool = True, mail_retry_every: float = 30.0) -> IntakeApp:
    """The intake ASGI app; `background` runs mail retries and periodic flushes in a thread. The
    site in `site_dir` (built by `campaign serve`) is served at `/`, and the intake's pages link
    to it; without one they link to the campaign's `site_url`."""
    limiter = RateLimiter(intake.limits.burst, intake.limits.hourly)
    title = intake.campaign.title
    serves_site = site_dir is not None and (site_dir / "index.html").is_file()

    def look() -> pages.Pages:
        """The pages, linking to the site served here or to the campaign's own (data/ may have been reloaded)."""
        return pages.Pages(intake.campaign, intake.settings.public_url + "/" if serves_site else intake.campaign.site_url)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        worker = Worker(intake, mail_retry_every) if background else None
        if worker:
            worker.start()
        try:
            yield
        finally:
            if worker:
                worker.stop()

    api = FastAPI(title=f"{title}: signature intake", version="1", lifespan=lifespan,
                  description="Signatures from the campaign's form: double opt-in by email, then batched into a pull request.",
                  docs_url=None, redoc_url=None, openapi_url="/api/openapi.json")
    origins = [origin(o) for o in (intake.campaign.site_url, *intake.campaign.intake.allowed_origins, *(allowed_origins or []))]
    api.add_middleware(CORSMiddleware, allow_origins=origins, allow_methods=["POST"],
                       allow_headers=["Content-Type"], max_age=600)

    @api.exception_handler(ClientDisconnect)
    async def gone(_request: Request, _exc: ClientDisconnect) -> Response:
        """The client went away mid-body (or its body deadline cut it): no traceback in the log."""
        return Response(status_code=400)

    def asked(request: Request) -> Translator:
        """The language a request's Accept-Language asks for, among the campaign's."""
        return intake.words(negotiate(request.headers.get("accept-language"), intake.campaign.languages))

    def html(words: Translator, body: str, status: int = 200) -> HTMLResponse:
        return HTMLResponse(body, status, headers={**pages.HEADERS, "Content-Language": words.lang})

    def answer(request: Request, result: Answer) -> Response:
        headers = {"Content-Language": result.lang, **result.headers}
        if _wants_html(request):
            return HTMLResponse(look().answer(intake.words(result.lang), result.status, result.body),
                                result.status, headers={**pages.HEADERS, **headers})
        return JSONResponse(result.body, result.status, headers={"Cache-Control": "no-store", **headers})

    def thanks(words: Translator, sig: dict[str, Any], already: bool, withdraw: str | None = None) -> HTMLResponse:
        mission = intake.ds.mission_by_id.get(str(sig.get("mission")))
        return html(words, look().confirmed(words, sig, already, mission, withdraw=withdraw, closes=closes(words) if withdraw else ""))

    @api.post("/api/signatures", status_code=202, response_model=Accepted, tags=["signatures"],
              summary="Sign the letter (a confirmation link is emailed)",
              responses=_ERRORS,  # type: ignore[arg-type]
              openapi_extra={"requestBody": {"required": True, "content": {
                  "application/json": {"schema": _SCHEMA},
                  "application/x-www-form-urlencoded": {"schema": _SCHEMA}}}})
    async def sign(request: Request) -> Response:
        client = client_key(request.client.host if request.client else None)
        wait = limiter.hit(client)
        if wait:
            words = asked(request)
            return answer(request, Answer(429, {"error": "rate_limited", "message": words.gettext(
                "too many submissions from your address; wait a little and try again")},
                {"Retry-After": retry_after(wait)}, words.lang))
        try:
            fields = await read_fields(request)
        except Malformed as exc:
            return answer(request, Answer(exc.status, {"error": exc.error, "message": exc.message}))
        try:
            result = await run_in_threadpool(intake.submit, fields, client=client)
        except Exception as exc:  # noqa: BLE001 - log without the submitted text (it holds an address)
            log.error("submission failed: %s", redact(f"{type(exc).__name__}: {exc}"))
            words = intake.words(fields.get("language"))
            result = Answer(500, {"error": "internal", "message": words.gettext(
                "the submission could not be recorded; please try again later")}, lang=words.lang)
        return answer(request, result)

    @api.get("/confirm/{token}", response_class=HTMLResponse, tags=["confirmation"],
             summary="The confirmation page (shows a button; confirms nothing)",
             responses={404: {"description": "unknown or expired link"}})
    async def confirm_page(request: Request, token: str) -> HTMLResponse:
        entry = await run_in_threadpool(intake.preview, token) if TOKEN.match(token) else None
        if entry is None:
            words = asked(request)
            return html(words, look().unknown(words), 404)
        words = intake.words(entry.get("language"))
        if entry["state"] != "pending":
            return thanks(words, entry, already=True)
        return html(words, look().confirm(words, token, entry))

    @api.post("/confirm/{token}", response_class=HTMLResponse, tags=["confirmation"],
              summary="Confirm a signature", responses={404: {"description": "unknown or expired link"}})
    async def confirm(request: Request, token: str) -> HTMLResponse:
        state, sig = await run_in_threadpool(intake.confirm, token) if TOKEN.match(token) else ("unknown", None)
        words = intake.words(sig.get("language")) if sig else asked(request)
        if state == "unknown" or sig is None:
            return html(words, look().unknown(words), 404)
        link = f"{intake.settings.public_url.rstrip('/')}/withdraw/{withdrawal.token(intake.settings.key, token)}"
        return thanks(words, sig, already=state == "already", withdraw=link)

    def closes(words: Translator) -> str:
        return locales.long_time(withdrawal.closes(intake.campaign), words.lang)

    @api.get("/withdraw/{token}", response_class=HTMLResponse, tags=["withdrawal"],
             summary="The withdrawal page (shows a button; changes nothing)", responses={404: {"description": "unknown link"}})
    async def withdraw_page(request: Request, token: str) -> HTMLResponse:
        state, sig = await run_in_threadpool(intake.withdrawal_state, token) if TOKEN.match(token) else ("unknown", None)
        words = intake.words(sig.get("language")) if sig else asked(request)
        if state in ("confirmed", "flushed") and sig:
            return html(words, look().withdraw(words, token, sig, closes(words)))
        return html(words, look().withdrawn(words, "already" if state == "withdrawn" else state),
                    404 if state == "unknown" else 200)

    @api.post("/withdraw/{token}", response_class=HTMLResponse, tags=["withdrawal"],
              summary="Withdraw a confirmed signature", responses={404: {"description": "unknown link"}})
    async def withdraw(request: Request, token: str) -> HTMLResponse:
        state, sig = await run_in_threadpool(intake.withdraw, token) if TOKEN.match(token) else ("unknown", None)
        words = intake.words(sig.get("language")) if sig else asked(request)
        return html(words, look().withdrawn(words, state), 404 if state == "unknown" else 200)

    @api.get("/api/health", response_model=Health, tags=["service"], summary="Liveness and queue sizes")
    async def health() -> dict[str, Any]:
        counts = await run_in_threadpool(intake.status)
        return {"status": "ok", **{k: counts[k] for k in ("pending", "confirmed", "flushed", "mail_queued")}}

    if serves_site:
        api.mount("/", StaticFiles(directory=site_dir, html=True), name="site")
    else:

        @api.get("/", response_class=HTMLResponse, include_in_schema=False)
        async def home(request: Request) -> HTMLResponse:
            """For a visitor who lands here: where the campaign's site is (the operator reads the console)."""
            words = asked(request)
            return html(words, look().home(words))

    return IntakeApp(api, intake, origins)


class Worker(threading.Thread):
    """Background duties: resend deferred confirmation mails, expire entries and sealed addresses, flush
    periodically (signatures, then withdrawals)."""

    def __init__(self, intake: Intake, mail_every: float) -> None:
        super().__init__(name="intake-worker", daemon=True)
        self.intake = intake
        self.mail_every = mail_every
        self.flush_every = intake.settings.flush_every
        self._halt = threading.Event()

    def run(self) -> None:
        self._safely(lambda: self.intake.send_queued(everything=True))
        self._safely(self.intake.erase_followups)
        flush_every = self.flush_every if self.flush_every and self.intake.settings.forge else None
        tick = min(self.mail_every, flush_every or self.mail_every)
        next_mail = next_flush = time.monotonic()
        while not self._halt.wait(tick):
            now = time.monotonic()
            if now >= next_mail + self.mail_every:
                next_mail = now
                self._safely(self.intake.send_queued)
                self._safely(self.intake.store.expire)
                self._safely(self.intake.erase_followups)
            if flush_every and now >= next_flush + flush_every:
                next_flush = now
                self._safely(self.intake.flush)
                self._safely(self.intake.publish_withdrawals)

    def _safely(self, job: Any) -> None:
        try:
            job()
        except Exception as exc:  # noqa: BLE001 - keep the service alive; the job is retried
            log.error("background job failed: %s", redact(f"{type(exc).__name__}: {exc}"))

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=10)


class RedactTokens(logging.Filter):
    """Access-log filter: confirmation and withdrawal tokens never reach the log."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(re.sub(r"/(confirm|withdraw)/[^/?\s\"]+", r"/\1/<token>", a) if isinstance(a, str) else a
                                for a in record.args)
        return True


def server_config(app: Any, host: str = "127.0.0.1", port: int = 0, *, trusted_proxies: Sequence[str] = (),
                  header_timeout: float = 10.0, body_timeout: float = 30.0, log_level: str = "info") -> Any:
    """The uvicorn configuration of the service (`serve`, and the tests' servers).

    uvicorn's h11 protocol with total header and body deadlines (`protocol.py`); X-Forwarded-For
    and -Proto honoured only from the addresses or networks in `trusted_proxies` (none by default:
    an empty list, never uvicorn's own default of 127.0.0.1).
    """
    import uvicorn

    return uvicorn.Config(app, host=host, port=port, log_level=log_level, lifespan="on", ws="none",
                          http=deadline_protocol(header_timeout, body_timeout), server_header=False,
                          proxy_headers=bool(trusted_proxies), forwarded_allow_ips=list(trusted_proxies),
                          timeout_keep_alive=5, timeout_graceful_shutdown=10, backlog=2048)


def serve(app: IntakeApp, host: str, port: int, log_level: str = "info", trusted_proxies: Sequence[str] = ()) -> None:
    """Run the app on uvicorn (one process: the SQLite store and the rate limits are per process)."""
    import uvicorn

    logging.getLogger("uvicorn.access").addFilter(RedactTokens())
    uvicorn.Server(server_config(app, host, port, trusted_proxies=trusted_proxies, log_level=log_level)).run()
