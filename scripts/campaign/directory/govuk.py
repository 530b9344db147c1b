"""GOV.UK's public APIs for the mission directory: the Search API lists the worldwide
organisations, the Content API serves each one. No key is needed; everything is read-only.

Formats, as GOV.UK publishes them (the content item shape is GOV.UK's own example
`content_schemas/examples/worldwide_organisation/frontend/worldwide_organisation.json` in
alphagov/publishing-api; the listing is the Search API's documented `search.json`):

- `GET /api/search.json?filter_format=worldwide_organisation&fields=title,link,world_locations&count=N&start=K`
  -> `{"results": [{"link": "/world/organisations/<slug>", "title": ..., "world_locations": [...]}],
  "total": T, "start": K}` (older deployments say `offset`; both are read).
- `GET /api/content/world/organisations/<slug>` -> a content item with `title`, `base_path`,
  `public_updated_at`, `details.body` (HTML), `details.office_contact_associations`,
  `links.contacts[].details` (`post_addresses`, `email_addresses`, `phone_numbers`,
  `contact_form_links`), `links.main_office[].details.access_and_opening_times` (HTML) and
  `links.sponsoring_organisations`.

HTTP choices: one `httpx.Client` with a User-Agent naming the tool, a timeout per request,
retries with exponential backoff and jitter on 429, 5xx and network errors (a `Retry-After`
is honoured, capped at `max_backoff`), a size cap per response, and at most `jobs` requests in
flight (default 4: GOV.UK is a shared public service and ~250 small requests take seconds).
A 404/410 for a listed organisation means it was withdrawn between listing and fetching: it
is treated as not listed. Any other failure is a `ResponseError` naming the URL (and so the
organisation's slug); callers collect them and change nothing.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import httpx

from campaign.core.errors import CampaignError, Problem, ResponseError
from campaign.core.retry import backoff
from campaign.directory.content import (
    BASE_URL,
    CONTENT_PATH,
    MAX_RESPONSE_BYTES,
    RETRY_STATUSES,
    SEARCH_PATH,
    Listed,
    Organisation,
    parse_organisation,
    parse_search,
)


def user_agent(contact: str | None = None) -> str:
    """`campaign/0.1.0 (mission directory refresh; +https://github.com/owner/repo)`."""
    try:
        ver = version("campaign")
    except PackageNotFoundError:  # pragma: no cover - running from a checkout
        ver = "0"
    return f"campaign/{ver} (mission directory refresh{'; +' + contact if contact else ''})"


# --- HTTP ----------------------------------------------------------------------------------


@dataclass
class Client:
    """GOV.UK over HTTP: `listing()` and `organisations(slugs)`; see the module notes."""

    base_url: str = BASE_URL
    timeout: float = 20.0
    attempts: int = 4
    backoff: float = 1.0
    max_backoff: float = 30.0
    jobs: int = 4
    page_size: int = 500
    agent: str = field(default_factory=user_agent)
    transport: httpx.BaseTransport | None = None
    sleep: Callable[[float], None] = time.sleep

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/")
        self._http = httpx.Client(base_url=self.base_url, timeout=httpx.Timeout(self.timeout),
                                  headers={"User-Agent": self.agent, "Accept": "application/json"},
                                  follow_redirects=True, transport=self.transport)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _delay(self, attempt: int, retry_after: str | None) -> float:
        if retry_after and retry_after.strip().isdigit():
            return min(float(retry_after.strip()), self.max_backoff)
        return backoff(attempt, self.backoff, self.max_backoff, jitter=True)

    def get_json(self, path: str, params: dict[str, Any] | None = None, *, gone_ok: bool = False) -> tuple[Any, str]:
        """GET and decode JSON with retries; (None, url) for 404/410 when `gone_ok`."""
        request = self._http.build_request("GET", path, params=params)
        url = str(request.url)
        last = ""
        for attempt in range(1, self.attempts + 1):
            try:
                response = self._http.send(request)
            except httpx.HTTPError as exc:  # timeouts, refused or dropped connections
                last = f"network error ({type(exc).__name__}: {exc or 'no detail'})"
                retry_after = None
            else:
                status = response.status_code
                if status == 200:
                    return self._decode(response, url), url
                if status in (404, 410) and gone_ok:
                    return None, url
                if status not in RETRY_STATUSES and status < 500:
                    raise ResponseError(url, f"HTTP {status} {response.reason_phrase}; check --base-url "
                                             "(GOV.UK's API may have changed); nothing was changed")
                last = f"HTTP {status} {response.reason_phrase}"
                retry_after = response.headers.get("Retry-After")
            if attempt < self.attempts:
                self.sleep(self._delay(attempt, retry_after))
        raise ResponseError(url, f"{last} after {self.attempts} attempts; GOV.UK may be busy or down: "
                                 "try again later; nothing was changed")

    @staticmethod
    def _decode(response: httpx.Response, url: str) -> Any:
        body = response.content
        if len(body) > MAX_RESPONSE_BYTES:
            raise ResponseError(url, f"response of {len(body):,} bytes is over the {MAX_RESPONSE_BYTES:,}-byte cap")
        try:
            return json.loads(body)
        except json.JSONDecodeError as exc:
            raise ResponseError(url, f"malformed JSON ({exc.msg}, column {exc.colno}): the response is "
                                     "broken or cut short; nothing was changed, try again later", exc.lineno) from None
        except UnicodeDecodeError:
            raise ResponseError(url, "the response is not UTF-8 JSON; nothing was changed") from None

    def listing(self) -> list[Listed]:
        """Every worldwide organisation, page by page; an incomplete listing is an error (it
        would make missions look closed)."""
        found: dict[str, Listed] = {}
        start, total, url = 0, None, self.base_url + SEARCH_PATH
        while True:
            params = {"filter_format": "worldwide_organisation", "fields": "title,link,world_locations",
                      "count": self.page_size, "start": start}
            data, url = self.get_json(SEARCH_PATH, params)
            page, total, _ = parse_search(data, url)
            for item in page:
                found.setdefault(item.slug, item)
            start += len(page)
            if not page or start >= total:
                break
        if total is None or len(found) < total or not found:
            raise ResponseError(url, f"the listing gave {len(found)} of {total} organisations; it is incomplete, "
                                     "so missions would look closed: nothing was changed, try again later")
        return list(found.values())

    def organisation(self, slug: str) -> Organisation | None:
        """One organisation's content item; None when GOV.UK says it is gone (404/410)."""
        data, url = self.get_json(CONTENT_PATH.format(slug=slug), gone_ok=True)
        return None if data is None else parse_organisation(data, slug, url)

    def organisations(self, slugs: Iterable[str]) -> dict[str, Organisation | None]:
        """Fetch many, `jobs` at a time; every failure is collected and raised together."""
        slugs = list(dict.fromkeys(slugs))
        results: dict[str, Organisation | None] = {}
        problems: list[Problem] = []

        def one(slug: str) -> None:
            try:
                results[slug] = self.organisation(slug)
            except ResponseError as exc:
                problems.extend(exc.problems)

        with ThreadPoolExecutor(max_workers=max(1, self.jobs)) as pool:
            list(pool.map(one, slugs))
        if problems:
            raise CampaignError(sorted(problems))
        return {slug: results[slug] for slug in slugs}
