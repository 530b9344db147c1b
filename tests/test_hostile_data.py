"""Hostile data (issue 12): invisible names, combining-mark floods, look-alike names, file names
with control characters, header-bound fields with line breaks, photos that are not photos.
Each class is tried with several inputs, through the library and through `campaign validate`."""

from __future__ import annotations

import struct
import unicodedata
import zlib
from pathlib import Path

import pytest

from campaign.core.errors import Problem, render
from campaign.data import cache, confusables, photos
from campaign.data.duplicates import Taken
from campaign.data.models import Signature
from campaign.data.text import MARKS_MAX, clean_name, clean_text
from campaign.dispatch import compose
from campaign.review.rules import Change, rules
from support.builders import git, run, write
from support.images import photo
from test_validate import GOOD, assert_error

SIG = "data/signatories/aa/test.yaml"
INVISIBLE = ["\u034f", "\ufe0f", "\ufe00", "\U000e0100", "\U000e0041", "\u115f", "\u1160", "\u3164", "\uffa0",
             "\u2800", "\u17b4", "\u180b", "\u180e", "\u200b", "\u2060", "\u00ad", "\ufeff", "\u061c"]


# --- 8. invisible names --------------------------------------------------------------------

@pytest.mark.parametrize("ch", INVISIBLE, ids=[f"U+{ord(c):04X}" for c in INVISIBLE])
def test_invisible_characters_are_refused_and_named(ch: str, repo: Path) -> None:
    for name in (f"Ana{ch}Pereira", f"Ana Pereira{ch}", ch * 3, f"{ch} Ana"):
        with pytest.raises(ValueError, match=f"U\\+{ord(ch):04X}"):
            clean_name(name)
    write(repo, SIG, GOOD.replace("Ana Pereira", f"Ana{ch}Pereira"))
    assert_error(repo, SIG, 2, f"U\\+{ord(ch):04X}")


def test_a_name_needs_a_visible_letter() -> None:
    for blank in ("\u3164", "\u2800 \u2800", "\u115f\u1160", "- . -", "123"):
        with pytest.raises(ValueError):
            clean_name(blank)
    assert clean_name("김 Kim") == "김 Kim"  # a real Hangul letter is fine


# --- 9. combining-mark floods --------------------------------------------------------------

@pytest.mark.parametrize("name", ["Nguyễn Thị Ánh", "Trần Đức Thắng", "Ngô Bảo Châu", "שָׁלוֹם", "مُحَمَّد", "བསྒྲུབས",
                                  "क्षत्रिय", "Zoë Ångström", "Łukasz Żółć", "a" + "\u0301\u0323\u0302\u0308"])
def test_real_names_with_accents_pass(name: str) -> None:
    assert clean_name(name) == unicodedata.normalize("NFKC", name)


@pytest.mark.parametrize("marks", ["\u0301" * 5, "\u0300\u0301\u0302\u0303\u0304\u0305", "\u0489" * 8,
                                   "\u0e49" * 6, "\u0323\u0324\u0325\u0326\u0327\u0328\u0329" * 3])
def test_combining_mark_floods_are_refused(marks: str, repo: Path) -> None:
    with pytest.raises(ValueError, match=f"more than {MARKS_MAX} combining marks"):
        clean_name("Za" + marks + "lgo")
    write(repo, SIG, GOOD.replace("Ana Pereira", "Ana" + marks))
    assert_error(repo, SIG, 2, "combining marks")


def test_marks_are_counted_decomposed() -> None:
    """Precomposed letters count their marks: ệ is e + 2 marks, so ệ + 3 more is over."""
    assert clean_name("ệ" + "\u0301\u0300")
    with pytest.raises(ValueError, match="combining marks"):
        clean_name("ệ" + "\u0301\u0300\u0302")


# --- 10. look-alike names ------------------------------------------------------------------

@pytest.mark.parametrize(("a", "b"), [("Ana Pereira", "\u0410na Pereira"), ("Arnie Smith", "Amie Smith"),
                                      ("Paul", "\u0420aul"), ("Olga", "\u041elga"), ("Ian Lee", "lan Lee"),
                                      ("Ana Pereira", "Ana Pereіra")])
def test_look_alikes_share_a_skeleton(a: str, b: str) -> None:
    assert a != b and confusables.skeleton(a) == confusables.skeleton(b)


def test_skeleton_keeps_different_names_apart() -> None:
    names = ["Ana Pereira", "Ana Pereiro", "Anna Pereira", "José", "Jose", "Zoë", "Amie", "Annie"]
    assert len({confusables.skeleton(n) for n in names}) == len(names)


def test_the_data_and_the_libraries_are_in_the_cache_key(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """New confusables data or a library upgrade (a new country, a stricter check) drops the cache."""
    import pycountry

    assert b"# Version: 13.0.0" in confusables.DATA.read_bytes()[:400]
    before = cache.code_version.__wrapped__()
    newer = tmp_path / "confusables.txt"
    newer.write_bytes(confusables.DATA.read_bytes().replace(b"Version: 13.0.0", b"Version: 99.0.0"))
    monkeypatch.setattr(confusables, "DATA", newer)
    assert cache.code_version.__wrapped__() != before
    monkeypatch.undo()
    assert cache.code_version.__wrapped__() == before
    monkeypatch.setattr(pycountry, "__version__", "99.0")
    assert cache.code_version.__wrapped__() != before


def signature(name: str, country: str = "PT") -> Signature:
    return Signature.model_validate({"type": "individual", "name": name, "country": country, "mission": "pt-lisbon",
                                     "signed": "2026-11-28", "publish": True, "letter": True, "source": "form"})


def test_taken_tells_look_alikes_from_duplicates() -> None:
    taken = Taken()
    taken.add(signature("Ana Pereira"), "a.yaml")
    assert taken.look_alike_holder(signature("\u0410na Pereira")) == "a.yaml"
    assert taken.look_alike_holder(signature("ANA pereira")) is None  # the same key: a duplicate, not a look-alike
    assert taken.name_holder(signature("ANA pereira")) == "a.yaml"
    assert taken.look_alike_holder(signature("\u0410na Pereira", "NO")) is None  # another country


def test_validate_warns_about_look_alikes_and_passes(repo: Path) -> None:
    write(repo, "data/signatories/aa/ana.yaml", GOOD)
    write(repo, "data/signatories/bb/cyr.yaml", GOOD.replace("Ana Pereira", "\u0410na Pereira"))
    write(repo, "data/signatories/cc/arnie.yaml", GOOD.replace("Ana Pereira", "Arnie Smith"))
    write(repo, "data/signatories/dd/amie.yaml", GOOD.replace("Ana Pereira", "Amie Smith"))
    result = run(repo, "validate")
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 2, result.stderr
    assert "data/signatories/bb/cyr.yaml:2:" in warnings[0] and "data/signatories/aa/ana.yaml" in warnings[0]
    assert "data/signatories/dd/amie.yaml:2:" in warnings[1] and "arnie.yaml" in warnings[1]
    assert result.stdout.startswith("ok: 4 signatures")
    github = run(repo, "validate", "--format", "github")
    assert github.exit_code == 0 and github.stdout.count("::warning file=") == 2, github.output


def test_an_exact_duplicate_is_still_an_error(repo: Path) -> None:
    write(repo, "data/signatories/aa/ana.yaml", GOOD)
    write(repo, "data/signatories/bb/ana.yaml", GOOD.replace("Ana Pereira", "ANA  pereira"))
    assert_error(repo, "data/signatories/bb/ana.yaml", 2, "duplicate signature")


def test_a_look_alike_in_a_pull_request_warns_and_does_not_block(git_repo: Path) -> None:
    write(git_repo, "data/signatories/aa/ana.yaml", GOOD)
    git(git_repo, "add", "-A")
    git(git_repo, "commit", "-qm", "one")
    git(git_repo, "checkout", "-qb", "pr")
    write(git_repo, "data/signatories/bb/cyr.yaml", GOOD.replace("Ana Pereira", "\u0410na Pereira"))
    for mode in ("ok: 2 signatures", "ok: 1 added file"):  # in full (the base is summarised), then incrementally
        result = run(git_repo, "validate", "--base", "main")
        assert result.exit_code == 0, result.output
        assert result.stdout.startswith(mode)
        assert any(line.startswith("warning: data/signatories/bb/cyr.yaml:2:") for line in result.stderr.splitlines())


# --- 13. file names ------------------------------------------------------------------------

@pytest.mark.parametrize("bad", ["a\nb", "a\rb", "evil\u202egpj", "tab\there", "bell\x07", "zw\u200bsp", "iso\u2066x"])
def test_file_names_with_control_or_bidi_characters_are_refused(bad: str, repo: Path) -> None:
    rel = f"data/signatories/aa/{bad}.yaml"
    write(repo, rel, GOOD)
    result = run(repo, "validate")
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert any("the file name contains U+" in line and "rename the file" in line for line in lines), lines
    assert not any(ch in result.stderr for ch in "\r\u202e\u200b\u2066\x07\t"), "the path is shown escaped"
    github = run(repo, "validate", "--format", "github")
    assert github.exit_code == 1 and github.stdout.startswith("::error file=")
    assert all(line.startswith("::") for line in github.stdout.splitlines()), github.stdout
    assert "\r" not in github.stdout


def test_the_pull_request_rules_refuse_such_paths() -> None:
    for bad in ("data/signatories/aa/x\n.yaml", "data/actions/\u202eevil.yaml", "docs/assets/actions/a\tb.png"):
        (problem,) = rules([Change("A", bad)])
        assert "the file name contains U+" in problem.message
    assert rules([Change("A", "data/signatories/aa/fine.yaml")]) == []


def test_github_annotations_escape_line_breaks_in_paths_and_messages() -> None:
    text = render([Problem("data/a\r\nb.yaml", 3, "first\nsecond\r::error::injected")], "github")
    assert "\n" not in text and "\r" not in text
    assert text.startswith("::error file=") and "%0A" in text and "%0D" in text


# --- 14. header-bound fields ---------------------------------------------------------------

@pytest.mark.parametrize(("old", "new"), [
    ("subject: 'Open letter on Human Rights Day: free Julian Assange'", 'subject: "Open letter\\nBcc: x@example.org"'),
    ("title: 'Free Assange!'", 'title: "Free\\rAssange!"'),
])
def test_header_fields_with_line_breaks_are_refused(repo: Path, old: str, new: str) -> None:
    path = repo / "data/campaign.yaml"
    assert old in path.read_text()
    line = path.read_text().split(old)[0].count("\n") + 1
    path.write_text(path.read_text().replace(old, new))
    assert_error(repo, "data/campaign.yaml", line, "control character U\\+000[AD].*mail header")


def test_sender_name_and_mission_name_with_line_breaks_are_refused(repo: Path) -> None:
    path = repo / "data/campaign.yaml"
    text = path.read_text()
    start = text.index("sender:")
    name_at = text.index("name:", start)
    end = text.index("\n", name_at)
    path.write_text(text[:name_at] + 'name: "Campaign\\nBcc: all@example.org"' + text[end:])
    line = text[:name_at].count("\n") + 1
    assert_error(repo, "data/campaign.yaml", line, "U\\+000A")
    path.write_text(text)
    missions = repo / "data/missions.yaml"
    missions.write_text(missions.read_text().replace("name: 'British Embassy Lisbon'", 'name: "British Embassy\\u0085Lisbon"'))
    assert_error(repo, "data/missions.yaml", 6, "U\\+0085")


def test_validation_and_dispatch_refuse_the_same_class() -> None:
    for value in ("a\nb", "a\rb", "a\u2028b", "a\u202eb", "a\x00b", "a\u0085b"):
        with pytest.raises(ValueError):
            clean_text(value, 200, single_line=True)
        with pytest.raises(compose.LetterError):
            compose._check_header("Subject", value)
    assert clean_text("Multi\nline", 200) == "Multi\nline"  # paragraphs keep their lines


# --- 12. photos ----------------------------------------------------------------------------

def _png_header(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    idat = zlib.compress(b"\0" * 4)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", idat) + chunk(b"IEND", b""))


@pytest.mark.parametrize("fmt", ["png", "jpg", "webp"])
def test_real_photos_pass(fmt: str) -> None:
    assert photos.problem(photo(fmt), f"x.{fmt}") is None
    assert photos.kind(photo(fmt)) == fmt


@pytest.mark.parametrize(("data", "name", "message"), [
    (b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "x.png", "not a readable PNG"),
    (b"\xff\xd8\xff" + b"\0" * 64, "x.jpg", "not a readable JPEG"),
    (b"<html><script>x</script>", "x.png", "not a JPEG, PNG or WebP"),
    (b"GIF89a" + b"\0" * 64, "x.png", "not a JPEG, PNG or WebP"),
    (_png_header(100_000, 100_000), "x.png", "pixels a side"),
    (_png_header(20_000, 10), "x.png", "pixels a side"),
    (_png_header(0, 10), "x.png", "not a readable PNG"),
    (photo("png"), "x.jpg", "name it .png"),
    (photo("png") + b"\0" * (photos.MAX_BYTES + 1), "x.png", "at most 10 MiB"),
])
def test_not_quite_photos_are_refused(data: bytes, name: str, message: str) -> None:
    found = photos.problem(data, name)
    assert found is not None and message in found, found


ACTION = """\
type: 'delivery'
mission: 'pt-lisbon'
date: '2026-12-10'
by: 'Lisbon Friends'
description: 'Handed over the letter.'
photos:
  - 'assets/actions/2026/one.jpg'
"""


@pytest.fixture
def pr(git_repo: Path) -> Path:
    git(git_repo, "checkout", "-qb", "pr")
    return git_repo


def test_a_pull_request_photo_is_checked_like_an_issue_form_photo(pr: Path) -> None:
    write(pr, "data/actions/one.yaml", ACTION)
    write(pr, "docs/assets/actions/2026/one.jpg", b"\xff\xd8\xff" + b"\0" * 100)
    assert_error_base(pr, "data/actions/one.yaml", 7, "photo docs/assets/actions/2026/one.jpg is not a readable JPEG")
    write(pr, "docs/assets/actions/2026/one.jpg", photo("jpg"))
    result = run(pr, "validate", "--base", "main")
    assert result.exit_code == 0, result.output


def test_a_photo_no_added_action_lists_is_refused(pr: Path) -> None:
    write(pr, "data/actions/one.yaml", ACTION)
    write(pr, "docs/assets/actions/2026/one.jpg", photo("jpg"))
    write(pr, "docs/assets/actions/2026/stray.png", photo("png"))
    assert_error_base(pr, "docs/assets/actions/2026/stray.png", 1, "no action added by this pull request lists this photo")
    (pr / "data/actions/one.yaml").unlink()
    assert_error_base(pr, "docs/assets/actions/2026/one.jpg", 1, "no action added by this pull request lists this photo")


def assert_error_base(root: Path, path: str, line: int, pattern: str) -> None:
    result = run(root, "validate", "--base", "main")
    assert result.exit_code == 1, result.output
    assert any(text.startswith(f"{path}:{line}: ") and pattern in text for text in result.stderr.splitlines()), result.stderr
