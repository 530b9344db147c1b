"""What in a built site makes a browser reach another host: every URL a page, a stylesheet, a
script, an SVG or a JSON file would load, except the targets of links a person clicks.

`references(site)` reads every file of a built site and yields (file, where, url) for each
http(s) or protocol-relative URL found where a browser would fetch it:

- HTML and SVG: every attribute of every element whose value is a URL (`src`, `<link href>`,
  `xlink:href`, `poster`, `data`, `action`, `<meta content>`, `data-*` a script may fetch), the
  URLs of `srcset` and `ping`, inline `style`; but not `href` of `<a>` (a link a person
  clicks), the `xmlns` declarations (names, never fetched) nor the words of `alt`, `title`,
  `aria-*`; inline `<style>` (`url()`, `@import`) and inline scripts (URLs in their code);
- CSS: `url()` and `@import`, comments left out;
- JavaScript: the loading idioms (`src =`, `import()`, `importScripts()`, `fetch()`, `new
  Worker()`, `XMLHttpRequest.open`, `sendBeacon`, `url()`, `@import`, `<script src>` written as
  text); setting a link's `href` is navigation, not loading;
- JSON: every string, read as HTML when it holds a tag, and for `url()`.

`foreign(site, own)` keeps those whose host is not one of `own` (the site's own hosts: where it
is served, named by its canonical and alternate links, and the campaign's `site_url`, named by
its Open Graph image). `literals(site)` lists the http(s) URLs in the JavaScript's string
literals, which the idioms above cannot tie to a use.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Iterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

URL = r"(?:https?:)?//[^\s\"'`<>()\\,]+"
_URL = re.compile(URL, re.IGNORECASE)
_CSS = re.compile(rf"url\(\s*[\"']?({URL})|@import\s+(?:url\(\s*)?[\"']?({URL})", re.IGNORECASE)
_JS = re.compile(
    rf"(?:\bsrc\s*=\s*|\bimport\s*\(\s*|\bimportScripts\s*\(\s*|\bfetch\s*\(\s*|\bnew\s+(?:Worker|SharedWorker|EventSource|"
    rf"WebSocket)\s*\(\s*|\.open\s*\(\s*[\"'`]\w+[\"'`]\s*,\s*|\bsendBeacon\s*\(\s*|\burl\(\s*|@import\s+)[\"'`]?({URL})",
    re.IGNORECASE)
_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
_LITERAL = re.compile(r"([\"'`])(https?://[^\"'`\s]*)\1?")
SCRIPT_TYPES = ("", "text/javascript", "module", "application/javascript")
LISTS = ("srcset", "imagesrcset", "ping")
"""Attributes that hold several URLs."""
TEXT = ("alt", "title", "placeholder", "label", "value")
"""Attributes whose words a person reads (a URL there is text)."""


def host(url: str) -> str:
    return urlsplit(url if "//" in url[:8] else "//" + url.lstrip("/")).netloc.lower()


class _Page(HTMLParser):
    """Every attribute, and the text of <style> and <script>, of one HTML or SVG file."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, str]] = []
        self._in: tuple[str, str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value is None or name.startswith("xmlns") or (tag == "a" and name in ("href", "xlink:href")) or \
                    name in TEXT or name.startswith("aria-"):
                continue
            where = f"<{tag} {name}>"
            if name == "style":
                self.found += [(where, u) for u in css(value)]
            elif name in LISTS:
                self.found += [(where, u) for u in _URL.findall(value)]
            else:  # src, href, xlink:href, content, action, poster, data, data-*: a URL is the whole value
                self.found += [(where, u) for u in _URL.findall(value)[:1] if value.strip().startswith(u)]
        if tag in ("style", "script"):
            kind = dict(attrs).get("type") or ""
            self._in = (tag, kind.lower())

    def handle_endtag(self, tag: str) -> None:
        self._in = None

    def handle_data(self, data: str) -> None:
        if self._in is None:
            return
        tag, kind = self._in
        if tag == "style":
            self.found += [("<style>", u) for u in css(data)]
        elif kind in SCRIPT_TYPES:
            self.found += [("<script>", u) for u in javascript(data)]
        else:  # JSON data (the messages, Material's config): strings shown, not loaded
            self.found += [("<script type=" + kind + ">", u) for u in json_refs(data)]


def css(text: str) -> list[str]:
    return [a or b for a, b in _CSS.findall(_COMMENT.sub("", text)) if not (a or b).startswith("data:")]


def javascript(text: str) -> list[str]:
    return _JS.findall(text)


def html(text: str) -> list[tuple[str, str]]:
    page = _Page()
    page.feed(text)
    page.close()
    return page.found


def json_refs(text: str) -> list[str]:
    try:
        data = json.loads(text)
    except ValueError:
        return _JS.findall(text)
    found: list[str] = []

    def walk(value: object) -> None:
        if isinstance(value, str):
            found.extend(u for _, u in html(value)) if "<" in value else None
            found.extend(css(value))
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(data)
    return found


def references(site: Path) -> Iterator[tuple[str, str, str]]:
    """(file, where, url) for every URL the site's files would make a browser fetch."""
    for path in sorted(site.rglob("*")):
        if not path.is_file():
            continue
        rel, suffix = path.relative_to(site).as_posix(), path.suffix.lower()
        if suffix not in (".html", ".htm", ".svg", ".css", ".js", ".mjs", ".json", ".webmanifest"):
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        if suffix in (".html", ".htm", ".svg"):
            found = html(text)
        elif suffix == ".css":
            found = [("url()", u) for u in css(text)]
        elif suffix in (".js", ".mjs"):
            found = [("script", u) for u in javascript(text)]
        else:
            found = [("json", u) for u in json_refs(text)]
        for where, url in found:
            yield rel, where, url


def foreign(site: Path, own: Collection[str]) -> list[str]:
    """'file: <tag attr> url' for each reference to a host that is not one of `own` (the site's)."""
    mine = {h.lower() for h in own}
    return [f"{rel}: {where} {url}" for rel, where, url in references(site) if host(url) not in mine]


def literals(site: Path) -> dict[str, set[str]]:
    """The http(s) URLs in the string literals of the site's JavaScript files, by file."""
    found: dict[str, set[str]] = {}
    for path in sorted(site.rglob("*.js")):
        text = _COMMENT.sub("", path.read_text(encoding="utf-8", errors="replace"))
        urls = {m.group(2) for m in _LITERAL.finditer(text)}
        if urls:
            found[path.relative_to(site).as_posix()] = urls
    return found
