"""`campaign validate`: the repository passes; every kind of bad input fails with path:line."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from support.builders import ROOT, git, run, write

SIG = "data/signatories/aa/test.yaml"
GOOD = """\
type: 'individual'
name: 'Ana Pereira'
country: 'PT'
mission: 'pt-lisbon'
signed: '2026-11-28'
publish: true
letter: true
source: 'form'
"""


def errors(root: Path) -> tuple[int, list[str]]:
    result = run(root, "validate")
    assert "Traceback" not in result.output
    return result.exit_code, [line for line in result.output.splitlines() if line]


def assert_error(root: Path, path: str, line: int, pattern: str) -> None:
    code, lines = errors(root)
    assert code == 1, lines
    wanted = re.compile(rf"^{re.escape(path)}:{line}: .*{pattern}", re.IGNORECASE)
    assert any(wanted.search(text) for text in lines), lines


def test_the_repository_validates() -> None:
    result = run(ROOT, "validate")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("ok: ")


def test_a_good_signature_validates(repo: Path) -> None:
    write(repo, SIG, GOOD)
    code, lines = errors(repo)
    assert code == 0, lines
    assert lines == ["ok: 1 signatures, 5 missions, 0 actions"]


@pytest.mark.parametrize(
    ("text", "line", "pattern"),
    [
        (GOOD.replace("name: 'Ana Pereira'", "name: 'Ana Pereira"), 3, "malformed YAML"),
        (GOOD + "name: 'Someone Else'\n", 9, "duplicate key 'name'"),
        ("type: &t 'individual'\n" + GOOD.split("\n", 1)[1].replace("source: 'form'", "source: *t"), 1, "anchors"),
        (GOOD + "nickname: 'Bo'\n", 9, "unknown field `nickname`"),
        (GOOD.replace("country: 'PT'", "country: NO"), 3, "quotes"),
        (GOOD.replace("publish: true", "publish: 'yes please'"), 6, "`publish`.*valid boolean"),
        (GOOD.replace("Ana Pereira", "Ana\u202ePereira"), 2, r"U\+202E"),
        (GOOD.replace("Ana Pereira", "Ana\u200bPereira"), 2, r"U\+200B"),
        (GOOD.replace("Ana Pereira", ""), 2, "empty"),
        (GOOD.replace("Ana Pereira", "A" * 10_000), 2, "10,000 characters"),
        (GOOD.replace("'PT'", "'XX'"), 3, "not an ISO 3166-1"),
        (GOOD.replace("'pt-lisbon'", "'pt-porto'"), 4, "unknown mission 'pt-porto'"),
        (GOOD.replace("signed: '2026-11-28'", "signed: '28/11/2026'"), 5, "YYYY-MM-DD"),
        (GOOD.replace("'individual'", "'organisation'") + "url: 'http://example.org'\n", 9, "not an https"),
        (GOOD.replace("'individual'", "'organisation'") + "url: 'javascript:alert(1)'\n", 9, "not an https"),
        (GOOD.replace("source: 'form'", "source: !!python/object:os.system 'x'"), 8, "tag"),
        ("- 'a list'\n", 1, "mapping"),
        ("", 1, "empty"),
    ],
    ids=[
        "malformed", "duplicate-key", "alias", "unknown-field", "norway-unquoted", "wrong-type",
        "bidi", "zero-width", "empty-name", "huge-name", "unknown-country", "unknown-mission",
        "bad-date", "http-url", "javascript-url", "python-tag", "not-a-mapping", "empty-file",
    ],
)
def test_bad_signature_files(repo: Path, text: str, line: int, pattern: str) -> None:
    write(repo, SIG, text)
    assert_error(repo, SIG, line, pattern)


def test_huge_file_is_refused_before_parsing(repo: Path) -> None:
    write(repo, SIG, GOOD + "# " + "x" * 100_000 + "\n")
    assert_error(repo, SIG, 1, "over the 65,536-byte limit")


def test_billion_laughs_is_refused(repo: Path) -> None:
    lol = "a: &a ['lol','lol']\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
    write(repo, SIG, lol)
    assert_error(repo, SIG, 1, "anchors")


def test_not_utf8(repo: Path) -> None:
    write(repo, SIG, GOOD.replace("Ana Pereira", "Ana Pere\xefra").encode("latin-1"))
    assert_error(repo, SIG, 2, "not valid UTF-8")


def test_duplicates_in_another_unicode_form_are_found(repo: Path) -> None:
    write(repo, "data/signatories/aa/one.yaml", GOOD.replace("Ana Pereira", "José Pereira"))
    # decomposed accent, full-width letters, other case and extra spaces: the same person
    write(repo, "data/signatories/bb/two.yaml", GOOD.replace("Ana Pereira", "JOSE\u0301   ＰＥＲＥＩＲＡ"))
    assert_error(repo, "data/signatories/bb/two.yaml", 2, "duplicate signature: data/signatories/aa/one.yaml")


def test_same_name_in_another_country_is_not_a_duplicate(repo: Path) -> None:
    write(repo, "data/signatories/aa/one.yaml", GOOD)
    write(repo, "data/signatories/bb/two.yaml", GOOD.replace("'PT'", "'NO'").replace("'pt-lisbon'", "'no-oslo'"))
    assert errors(repo)[0] == 0


def test_duplicate_fingerprint(repo: Path) -> None:
    fp = "fingerprint: '" + "ab" * 32 + "'\n"
    write(repo, "data/signatories/aa/one.yaml", GOOD + fp)
    write(repo, "data/signatories/bb/two.yaml", GOOD.replace("Ana", "Maria") + fp)
    assert_error(repo, "data/signatories/bb/two.yaml", 9, "same email address")


def test_every_bad_file_is_reported(repo: Path) -> None:
    write(repo, "data/signatories/aa/one.yaml", GOOD.replace("'PT'", "'XX'"))
    write(repo, "data/signatories/aa/two.yaml", "name: [")
    write(repo, "data/signatories/aa/three.yaml", GOOD.replace("Ana", "Rui"))
    write(repo, "data/signatories/aa/notes.txt", "hello")
    code, lines = errors(repo)
    assert code == 1
    assert [line.split(":")[0] for line in lines] == [
        "data/signatories/aa/notes.txt", "data/signatories/aa/one.yaml", "data/signatories/aa/two.yaml"]


def test_individual_needs_a_mission_and_may_not_have_a_url(repo: Path) -> None:
    write(repo, SIG, GOOD.replace("mission: 'pt-lisbon'\n", "") + "url: 'https://example.org'\n")
    assert_error(repo, SIG, 1, "needs `mission`")


def test_mission_directory_rules(repo: Path) -> None:
    path = repo / "data/missions.yaml"
    text = path.read_text()
    path.write_text(text.replace("primary: false", "primary: true"))
    assert_error(repo, "data/missions.yaml", 72, "more than one primary mission")
    path.write_text(text.replace("id: 'no-oslo'", "id: 'pt-lisbon'"))
    assert_error(repo, "data/missions.yaml", 22, "must start with its country code")
    assert_error(repo, "data/missions.yaml", 22, "also used at line 3")
    path.write_text(text.replace("timezone: 'Europe/Oslo'", "timezone: 'Europe/Bergen'"))
    assert_error(repo, "data/missions.yaml", 31, "IANA time zone")


def test_action_rules(repo: Path) -> None:
    action = """\
type: 'delivery'
mission: 'pt-lisbon'
date: '2026-12-10'
by: 'Lisbon Friends of Press Freedom'
description: 'Handed the printed letter to the duty officer.'
photos:
  - 'assets/actions/lisbon.jpg'
"""
    write(repo, "data/actions/lisbon.yaml", action)
    assert_error(repo, "data/actions/lisbon.yaml", 7, "docs/assets/actions/lisbon.jpg does not exist")
    write(repo, "data/actions/lisbon.yaml", action.replace("lisbon.jpg", "../../../etc/passwd.jpg"))
    assert_error(repo, "data/actions/lisbon.yaml", 7, "invalid format")


def test_letter_template_errors(repo: Path) -> None:
    write(repo, "data/letter/en.md", "Dear {{ mission_nam }},\n")
    assert_error(repo, "data/letter/en.md", 1, "mission_nam")
    write(repo, "data/letter/en.md", "Dear\n{{ mission_name \n")
    assert_error(repo, "data/letter/en.md", 2, "letter template error")


def test_github_format(repo: Path) -> None:
    write(repo, SIG, GOOD.replace("'PT'", "'XX'"))
    result = run(repo, "validate", "--format", "github")
    assert result.exit_code == 1
    assert f"::error file={SIG},line=3::`country`" in result.output


class TestPullRequestRules:
    def test_adding_a_signature_passes(self, git_repo: Path) -> None:
        git(git_repo, "checkout", "-qb", "sign")
        write(git_repo, SIG, GOOD)
        git(git_repo, "add", "-A")
        git(git_repo, "commit", "-qm", "sign")
        result = run(git_repo, "validate", "--base", "main")
        assert result.exit_code == 0, result.output

    def test_editing_a_file_outside_signatories(self, git_repo: Path) -> None:
        git(git_repo, "checkout", "-qb", "sneaky")
        write(git_repo, SIG, GOOD)
        (git_repo / "data/letter/en.md").write_text("Dear {{ mission_name }}, nothing to ask.\n")
        write(git_repo, "scripts/evil.py", "import os\n")
        git(git_repo, "add", "-A")
        git(git_repo, "commit", "-qm", "sneak")
        assert_pr_error(git_repo, "data/letter/en.md", "modifies this file: needs a maintainer")
        assert_pr_error(git_repo, "scripts/evil.py", "adds this file: needs a maintainer")

    def test_modifying_or_deleting_an_existing_signature(self, git_repo: Path) -> None:
        write(git_repo, SIG, GOOD)
        write(git_repo, "data/signatories/bb/other.yaml", GOOD.replace("Ana", "Rui"))
        git(git_repo, "add", "-A")
        git(git_repo, "commit", "-qm", "two signatures")
        git(git_repo, "checkout", "-qb", "tamper")
        (git_repo / SIG).write_text(GOOD.replace("publish: true", "publish: false"))
        (git_repo / "data/signatories/bb/other.yaml").unlink()
        assert_pr_error(git_repo, SIG, "modifies this file: needs a maintainer; existing signatures")
        assert_pr_error(git_repo, "data/signatories/bb/other.yaml", "removes this signature (a withdrawal): a removal, not an addition")

    def test_unknown_base(self, git_repo: Path) -> None:
        result = run(git_repo, "validate", "--base", "no-such-branch")
        assert result.exit_code == 1
        assert "cannot find 'no-such-branch'" in result.output
        assert "Traceback" not in result.output


def assert_pr_error(root: Path, path: str, text: str) -> None:
    result = run(root, "validate", "--base", "main")
    assert result.exit_code == 1
    assert f"{path}:1: this pull request {text}" in result.output, result.output


def test_a_fifo_is_reported_not_read(repo: Path) -> None:
    os.mkfifo(repo / "data/signatories/pipe.yaml")  # reading it would wait for ever
    assert_error(repo, "data/signatories/pipe.yaml", 1, "not a plain file")


def test_a_file_name_that_is_not_utf8(repo: Path) -> None:
    write(repo, "data/signatories/aa/ok.yaml", GOOD)
    (repo / "data/signatories/aa").joinpath(os.fsdecode(b"bad-\xff.yaml")).write_text(GOOD.replace("Ana", "Rui"))
    assert_error(repo, "data/signatories/aa/bad-\ufffd.yaml", 1, "file name is not valid UTF-8")
    assert_error(repo, "data/signatories/aa/bad-\ufffd.yaml", 1, "rename it")


def test_a_photo_that_links_outside_docs(repo: Path, tmp_path: Path) -> None:
    (tmp_path / "secret.jpg").write_bytes(b"\xff\xd8")
    (repo / "docs/assets/actions").mkdir(parents=True)
    (repo / "docs/assets/actions/x.jpg").symlink_to(tmp_path / "secret.jpg")
    write(repo, "data/actions/x.yaml", "type: 'call'\nmission: 'pt-lisbon'\ndate: '2026-12-10'\nby: 'Ana'\n"
          "description: 'Called.'\nphotos:\n  - 'assets/actions/x.jpg'\n")
    assert_error(repo, "data/actions/x.yaml", 7, "docs/assets/actions/x.jpg does not exist")
