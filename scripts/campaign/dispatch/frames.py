"""What every letter of a mission shares: its frame (ARCHITECTURE.md, "Scale": dispatch).

In individual mode a mission's letters differ only in the signer's line, once per version of
the letter (English, then the signer's language: `letter.parts`). A `Frame` is the letter to one
mission in one set of versions, rendered once with SIGNER where each signer line goes, as text
and as HTML, each a `Body` whose lines without a signer are already encoded for the email. A
letter is then its signer lines put in, and only the lines holding them encoded.

A frame is checked when it is made: every version must print the signer once and unchanged (a
template that filters or tests `{{ signer }}` gets no frame, and each of its letters is rendered
on its own), and a probe signer put in must give what rendering with it gives. A signer line
that could change the text around it (a space or a backslash at an end, a list marker at its
start) is rendered the slow way as well. Quoted-printable encodes each line on its own (soft
breaks and trailing spaces never reach past a line end), so encoding the lines apart gives the
bytes that encoding the whole text gives; `Body.encoded` is tested against it.
"""

from __future__ import annotations

import binascii
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import escape

from campaign.data import letter, locales
from campaign.data.letter import LIST_ITEM, NAME_END, NAME_START, Part
from campaign.data.models import Signature

SIGNER, PROBE = "\ue002", "\ue003"  # private-use: never in a name, a mission or the letter (data.text)
MAX_LINE = 998
"""The longest line a 7bit part may have (RFC 5322)."""


def encode(text: str) -> tuple[str, str]:
    """(Content-Transfer-Encoding, payload) of a UTF-8 text part: 7bit when plain ASCII with
    short lines, else quoted-printable."""
    if text.isascii() and max(map(len, text.splitlines()), default=0) <= MAX_LINE:
        return "7bit", text
    return "quoted-printable", _qp(text)


def _qp(text: str) -> str:
    return binascii.b2a_qp(text.encode("utf-8"), istext=True).decode("ascii")


@dataclass(frozen=True)
class Body:
    """A text with SIGNER slots: the lines without one encoded once, the others at each letter."""

    raw: tuple[str, ...]  # the text split at each SIGNER
    pieces: tuple[str, ...]  # encoded runs of lines without a slot, between the lines with slots
    slotted: tuple[str, ...]  # the lines with slots, each with its line feed
    ascii: bool  # every line without a slot is ASCII
    longest: int  # and the longest of them

    @classmethod
    def of(cls, text: str) -> Body | None:
        """The body of a text ending with a line feed; None when it has a carriage return
        (quoted-printable then writes every line end as CRLF)."""
        if "\r" in text or not text.endswith("\n"):
            return None
        pieces, slotted, run = [], [], []
        for line in text[:-1].split("\n"):
            if SIGNER in line:
                pieces.append("".join(run))
                slotted.append(line + "\n")
                run = []
            else:
                run.append(line + "\n")
        pieces.append("".join(run))
        constant = "".join(pieces)
        return cls(tuple(text.split(SIGNER)), tuple(map(_qp, pieces)), tuple(slotted), constant.isascii(),
                   max(map(len, constant.splitlines()), default=0))

    def filled(self, signers: Sequence[str]) -> str:
        """The text with `signers` in its slots, in order."""
        out = [self.raw[0]]
        for signer, rest in zip(signers, self.raw[1:], strict=True):
            out += (signer, rest)
        return "".join(out)

    def encoded(self, signers: Sequence[str]) -> tuple[str, str, str]:
        """(text, Content-Transfer-Encoding, payload) with `signers` put in: what `encode` gives
        for the text, with only the lines that hold a signer encoded now."""
        text = self.filled(signers)
        lines, left = [], iter(signers)
        for line in self.slotted:
            parts = line.split(SIGNER)
            lines.append(parts[0] + "".join(next(left) + rest for rest in parts[1:]))
        longest = max((len(part) for line in lines for part in line.splitlines()), default=0)
        if self.ascii and self.longest <= MAX_LINE and longest <= MAX_LINE and all(line.isascii() for line in lines):
            return text, "7bit", text
        out = [self.pieces[0]]
        for line, piece in zip(lines, self.pieces[1:], strict=True):
            out += (_qp(line), piece)
        return text, "quoted-printable", "".join(out)


@dataclass(frozen=True)
class Frame:
    """A mission's letter in one set of versions, with a slot per version for the signer."""

    text: Body
    html: Body
    langs: tuple[str, ...]  # the language of each slot's signer line
    languages: str  # Content-Language

    def signers(self, sig: Signature, words: Callable[[str], letter.Words]) -> tuple[list[str], list[str]] | None:
        """The signer's lines for the text and the HTML slots; None when a line could change
        the text around it (then the letter is rendered on its own)."""
        plain, html = [], []
        for lang in self.langs:
            line = letter.signer_line(sig, words(lang) if lang != locales.DEFAULT else letter.ENGLISH, mark=True)
            bare = line.replace(NAME_START, "").replace(NAME_END, "")
            if bare != bare.strip() or bare.endswith("\\") or LIST_ITEM.match(bare) or "\n" in bare:
                return None
            plain.append(bare)
            html.append(str(escape(line)).replace(NAME_START, "<bdi>").replace(NAME_END, "</bdi>"))
        return plain, html


def make(parts: Callable[[str], list[Part]], text: Callable[[list[Part]], str],
         html: Callable[[list[Part]], str]) -> Frame | None:
    """The frame of the letter whose parts `parts(signer)` gives, or None when its templates do
    more with the signer than print it (see the module docstring)."""
    framed, probed = parts(SIGNER), parts(PROBE)
    slots = [p for p in framed if SIGNER in p.text]
    if any(p.text.count(SIGNER) != 1 for p in slots) or [p.text.replace(SIGNER, PROBE) for p in framed] != \
            [p.text for p in probed]:
        return None
    page = html(framed)
    bodies = Body.of(text(framed)), Body.of(page)
    if bodies[0] is None or bodies[1] is None or page.count(SIGNER) != len(slots) or \
            html(probed) != page.replace(SIGNER, PROBE):
        return None
    return Frame(bodies[0], bodies[1], tuple(p.lang for p in slots), ", ".join(dict.fromkeys(p.lang for p in framed)))
