"""Reading a PDF letter back with poppler-utils (pdftotext, pdfinfo, pdffonts), and the check
that every named signatory is in its text: shared by the paper tests and benchmarks/paper.py.

What pdftotext (poppler 22.12) gives for a WeasyPrint PDF, and what `check_names` does about it:

- `-raw` keeps the content stream's order, which is the document's: the columns of names
  never interleave. The default mode rebuilds a "reading order" that can mix columns.
- `-raw` writes a right-to-left run word by word in visual order, each word in logical order
  between U+202B and U+202C: `محمد الحسن` comes back as `\u202bالحسن\u202c \u202bمحمد\u202c`.
  `text()` reverses such runs of words back.
- The running header and footer are drawn on every page: `text(body=True)` reads the page body
  only (the @page margins of dispatch/templates/letter.css), so an entry that goes on over a page
  break stays whole.
- A line break is a space, except between CJK characters (a CJK name wraps anywhere).
- WeasyPrint maps each glyph to text once, from the first cluster that drew it: an Arabic
  ligature's letters come back reversed (`ليلى` as `ليىل`), Thai loses some marks, and an Indic
  cluster can lose whole letters. So names without such a script must come back exactly (after
  NFKC and whitespace folding); Arabic-script and Thai-like names compare loosely (no spaces, no
  marks, the letters of each right-to-left run as a multiset); Indic names are reported only.
- A name that mixes directions comes back in visual order ("Ngozi כהן 79" as "Ngozi 79 כהן"):
  a name with right-to-left letters must come back as the same letters, in any order, in its
  entry and followed by its country.
"""

from __future__ import annotations

import re
import subprocess
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

A4_POINTS = (595, 842)
BODY = ("-x", "0", "-y", "68", "-W", "595", "-H", "712")
"""The page body: A4 less the @page margins, 24 mm (68 pt) at the top and 22 mm at the bottom."""
_BIDI = dict.fromkeys(map(ord, "\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u2060"))
_CJK = (r"\u1100-\u11ff\u2e80-\u2fff\u3001-\u303f\u3040-\u30ff\u3130-\u318f\u3400-\u4dbf\u4e00-\u9fff"
        r"\uac00-\ud7af\uf900-\ufaff\uff00-\uffef")
_CJK_GAP = re.compile(rf"(?<=[{_CJK}])\s+(?=[{_CJK}])")
_RTL_WORDS = re.compile(r"\u202b[^\u202b\u202c\n]*\u202c(?: \u202b[^\u202b\u202c\n]*\u202c)+")
_RTL_LETTERS = re.compile(r"[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff]+")
_COMPLEX = re.compile(r"[\u0600-\u08ff\ufb50-\ufdff\ufe70-\ufeff\u0e00-\u0fff\u1000-\u109f\u1780-\u17ff]")
_INDIC = re.compile(r"[\u0900-\u0dff\ua8e0-\ua8ff\u1cd0-\u1cff]")


def text(pdf: Path, body: bool = True, raw: bool = True) -> str:
    """The PDF's text (UTF-8), right-to-left runs of words put back in logical order."""
    args = ["pdftotext", "-enc", "UTF-8", *(["-raw"] if raw else []), *(BODY if body else ()), str(pdf), "-"]
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    return _RTL_WORDS.sub(lambda m: " ".join(reversed(m.group(0).split(" "))), out)


def norm(s: str) -> str:
    """NFKC, no bidi controls, no space between CJK characters, whitespace runs as one space."""
    s = unicodedata.normalize("NFKC", s).translate(_BIDI)
    return re.sub(r"\s+", " ", _CJK_GAP.sub("", s)).strip()


def loose(s: str) -> str:
    """`norm`, then no whitespace, no combining marks, the letters of each RTL run sorted."""
    s = "".join(c for c in norm(s) if not c.isspace() and unicodedata.category(c)[0] != "M")
    return _RTL_LETTERS.sub(lambda m: "".join(sorted(m.group(0))), s)


def entries(pdf_text: str, count: int) -> dict[int, str]:
    """{number: text} of the signatories list (after the "Signatories" heading): entry n is the
    text from "n. " to "n+1. ", found in turn. (Two entries can share a line: on a short last
    page the columns are balanced, so column 2 starts on the baseline of column 1.)"""
    found = re.search(r"^\f?Signatories$", pdf_text, re.M)
    if not found:
        return {}
    starts: list[tuple[int, int, int]] = []  # (number, start of the number, start of the text)
    pos = found.end()
    for n in range(1, count + 2):
        m = re.compile(rf"(?:^|(?<=\s)){re.escape(f'{n:,}')}\. ", re.M).search(pdf_text, pos)
        if not m:
            break
        starts.append((n, m.start(), m.end()))
        pos = m.end()
    ends = [start for _, start, _ in starts[1:]] + [len(pdf_text)]
    return {n: pdf_text[begin:end] for (n, _, begin), end in zip(starts, ends)}


@dataclass
class NameCheck:
    """What `check_names` found: every list should be empty but `indic`."""

    exact: list[str] = field(default_factory=list)
    """Names without a complex script that did not come back exactly."""
    loose: list[str] = field(default_factory=list)
    """Names with a right-to-left or complex script that did not come back even loosely."""
    indic: list[str] = field(default_factory=list)
    """Indic names that did not come back (a WeasyPrint limitation: reported, not a failure)."""
    extra: list[str] = field(default_factory=list)
    """Entries beyond the expected ones."""

    @property
    def ok(self) -> bool:
        return not (self.exact or self.loose or self.extra)


def _same_letters(body: str, name: str, rest: str) -> bool:
    """`body` is the letters of `name`, in any order, then `rest`: a name with right-to-left
    letters comes back in visual order ("Ngozi כהן 79" as "Ngozi 79 כהן")."""
    body, rest = norm(body), norm(rest)
    want = sorted(loose(name))
    start = body.find(rest)
    while start >= 0:
        if sorted(loose(body[:start])) == want:
            return True
        start = body.find(rest, start + 1)
    return False


def check_names(pdf: Path, names: list[tuple[str, str]]) -> NameCheck:
    """`names[i]` = (name, what follows it: ", Country" or " (organisation), Country") must be
    entry i + 1 of the PDF's list."""
    got = entries(text(pdf), len(names))
    result = NameCheck()
    for i, (name, rest) in enumerate(names, start=1):
        body = got.get(i, "")
        if _INDIC.search(name):
            if not loose(body).startswith(loose(name + rest)):
                result.indic.append(name)
        elif _RTL_LETTERS.search(name):
            if not _same_letters(body, name, rest):
                result.loose.append(name)
        elif _COMPLEX.search(name):
            if not loose(body).startswith(loose(name + rest)):
                result.loose.append(name)
        elif not norm(body).startswith(norm(name + rest)):
            result.exact.append(name)
    result.extra = [f"{k}. {v[:40]}" for k, v in got.items() if not 1 <= k <= len(names)]
    return result


def info(pdf: Path) -> dict[str, str]:
    """pdfinfo's fields; raises CalledProcessError when the file does not open."""
    out = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, text=True).stdout
    return {k.strip(): v.strip() for k, v in (line.split(":", 1) for line in out.splitlines() if ":" in line)}


def page_sizes(pdf: Path) -> set[tuple[int, int]]:
    """The size of every page in points, rounded."""
    out = subprocess.run(["pdfinfo", "-f", "1", "-l", "100000", str(pdf)], check=True, capture_output=True, text=True).stdout
    return {(round(float(w)), round(float(h))) for w, h in re.findall(r"size:\s+([\d.]+) x ([\d.]+) pts", out)}


def links(pdf: Path) -> list[tuple[int, str]]:
    """(page, URL) of every link annotation."""
    out = subprocess.run(["pdfinfo", "-url", str(pdf)], check=True, capture_output=True, text=True).stdout
    return [(int(page), url) for page, url in re.findall(r"^\s*(\d+)\s+Annotation\s+(\S+)$", out, re.M)]


def fonts(pdf: Path) -> list[tuple[str, bool, bool]]:
    """(family without the subset tag, embedded, subset) of every font."""
    out = subprocess.run(["pdffonts", str(pdf)], check=True, capture_output=True, text=True).stdout
    found = []
    for line in out.splitlines()[2:]:
        cols = line.split()
        emb, sub = cols[-5], cols[-4]
        found.append((cols[0].split("+", 1)[-1], emb == "yes", sub == "yes"))
    return found
