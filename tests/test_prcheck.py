"""`campaign validate --base`: the incremental pull-request check finds what a full validation finds."""

from __future__ import annotations

from pathlib import Path

import pytest

from support.builders import git, run, write
from test_validate import GOOD

INCREMENTAL = "added file"
FP = "fingerprint: '" + "ab" * 32 + "'\n"
ACTION = """\
type: 'delivery'
mission: 'pt-lisbon'
date: '2026-12-10'
by: 'Lisbon Friends of Press Freedom'
description: 'Handed the printed letter to the duty officer.'
"""


@pytest.fixture
def base(git_repo: Path) -> Path:
    """`main` holds two signatures; HEAD is a fresh branch `pr` on it."""
    write(git_repo, "data/signatories/aa/jose.yaml", GOOD.replace("Ana Pereira", "José Pereira") + FP)
    write(git_repo, "data/signatories/bb/rui.yaml", GOOD.replace("Ana", "Rui"))
    commit(git_repo, "two signatures")
    git(git_repo, "checkout", "-qb", "pr")
    return git_repo


def commit(repo: Path, message: str) -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", message)


def pr_check(root: Path, *options: str) -> tuple[int, str]:
    """Exit code and output, without the note on how it was checked (`note`)."""
    result = run(root, "validate", "--base", "main", *options)
    assert "Traceback" not in result.output
    return result.exit_code, "".join(ln for ln in result.output.splitlines(keepends=True) if not ln.startswith("base summary"))


def note(root: Path, *options: str) -> str:
    """The note on how the pull request was checked (the base summary used, or why in full)."""
    (line,) = [ln for ln in run(root, "validate", "--base", "main", *options).output.splitlines() if ln.startswith("base summary")]
    return line


def warm(root: Path) -> None:
    """Validate the base once (a PR with one good file), so the next checks are incremental."""
    write(root, "data/signatories/cc/warm.yaml", GOOD.replace("Ana", "Warm"))
    assert pr_check(root) == (0, "ok: 3 signatures, 5 missions, 0 actions\n")
    (root / "data/signatories/cc/warm.yaml").unlink()


def test_second_check_is_incremental(base: Path) -> None:
    warm(base)
    write(base, "data/signatories/cc/new.yaml", GOOD.replace("Ana", "Eva"))
    code, out = pr_check(base)
    assert (code, out) == (0, "ok: 1 added file checked against 2 signatures, 5 missions and 0 actions already validated\n")


BAD_ADDITIONS = [
    pytest.param({"data/signatories/cc/dup.yaml": GOOD.replace("Ana Pereira", "JOSE\u0301  ＰＥＲＥＩＲＡ")},
                 "data/signatories/cc/dup.yaml:2: duplicate signature: data/signatories/aa/jose.yaml", id="name-vs-base"),
    pytest.param({"data/signatories/cc/fp.yaml": GOOD.replace("Ana", "Maria") + FP},
                 "data/signatories/cc/fp.yaml:9: duplicate signature: data/signatories/aa/jose.yaml was signed with the same email",
                 id="fingerprint-vs-base"),
    pytest.param({"data/signatories/cc/one.yaml": GOOD.replace("Ana", "Eva"),
                  "data/signatories/cc/two.yaml": GOOD.replace("Ana", "EVA")},
                 "data/signatories/cc/two.yaml:2: duplicate signature: data/signatories/cc/one.yaml", id="among-added"),
    pytest.param({"data/signatories/cc/m.yaml": GOOD.replace("Ana", "Eva").replace("pt-lisbon", "pt-porto")},
                 "data/signatories/cc/m.yaml:4: unknown mission 'pt-porto'", id="unknown-mission"),
    pytest.param({"data/signatories/cc/bad.yaml": "name: ["}, "data/signatories/cc/bad.yaml:2: malformed YAML", id="broken-yaml"),
    pytest.param({"data/signatories/cc/c.yaml": GOOD.replace("'PT'", "'XX'")}, "data/signatories/cc/c.yaml:3: `country`",
                 id="bad-country"),
    pytest.param({"data/actions/a.yaml": ACTION.replace("pt-lisbon", "pt-porto")},
                 "data/actions/a.yaml:2: unknown mission 'pt-porto'", id="action-mission"),
    pytest.param({"data/actions/a.yaml": ACTION + "photos:\n  - 'assets/actions/gone.jpg'\n"},
                 "data/actions/a.yaml:7: photo docs/assets/actions/gone.jpg does not exist", id="action-photo"),
]


@pytest.mark.parametrize(("files", "expected"), BAD_ADDITIONS)
def test_incremental_finds_what_full_validation_finds(base: Path, files: dict[str, str], expected: str) -> None:
    warm(base)
    for rel, text in files.items():
        write(base, rel, text)
    code, out = pr_check(base)
    assert code == 1 and expected in out, out
    full = run(base, "validate")
    assert full.exit_code == 1 and expected in full.output, full.output
    assert sorted(out.splitlines()) == sorted(full.output.splitlines())


def test_committed_pull_request_is_checked_the_same(base: Path) -> None:
    warm(base)
    write(base, "data/signatories/cc/dup.yaml", GOOD.replace("Ana", "RUI"))
    commit(base, "sign again")
    code, out = pr_check(base)
    assert code == 1 and "data/signatories/cc/dup.yaml:2: duplicate signature: data/signatories/bb/rui.yaml" in out, out


def test_invalid_base_is_always_validated_in_full(base: Path) -> None:
    git(base, "checkout", "-q", "main")
    write(base, "data/signatories/dd/broken.yaml", GOOD.replace("'PT'", "'XX'"))
    commit(base, "a bad signature pushed straight to main")
    git(base, "checkout", "-qB", "pr")
    for name in ("one", "two"):
        write(base, f"data/signatories/cc/{name}.yaml", GOOD.replace("Ana", name.title()))
        code, out = pr_check(base)
        assert code == 1 and "data/signatories/dd/broken.yaml:3: `country`" in out, out


def test_changes_beyond_additions_are_validated_in_full(base: Path) -> None:
    warm(base)
    (base / "data/signatories/bb/rui.yaml").write_text(GOOD.replace("'PT'", "'XX'"))
    code, out = pr_check(base)
    assert code == 1
    assert "data/signatories/bb/rui.yaml:1: this pull request modifies this file" in out
    assert "data/signatories/bb/rui.yaml:3: `country`" in out


def test_hidden_additions_need_a_maintainer(base: Path) -> None:
    warm(base)
    write(base, "data/signatories/.hidden/x.yaml", "anything: [")
    code, out = pr_check(base)
    assert code == 1 and "data/signatories/.hidden/x.yaml:1: this pull request adds this file: needs a maintainer" in out


@pytest.mark.parametrize("damage", [b"", b"{not json", b'{"ok": true}', b"[1, 2]"])
def test_damaged_summary_means_a_full_validation(base: Path, damage: bytes) -> None:
    warm(base)
    (summary,) = (base / ".cache/campaign").glob("base-summary.json")
    summary.write_bytes(damage)
    write(base, "data/signatories/cc/new.yaml", GOOD.replace("Ana", "Eva"))
    assert pr_check(base) == (0, "ok: 3 signatures, 5 missions, 0 actions\n")
    assert pr_check(base)[1].startswith("ok: 1 added file checked")


def test_summary_is_per_base(base: Path) -> None:
    warm(base)
    git(base, "checkout", "-q", "main")
    write(base, "data/signatories/dd/eva.yaml", GOOD.replace("Ana", "Eva"))
    commit(base, "merged elsewhere")
    git(base, "checkout", "-qB", "pr")
    write(base, "data/signatories/cc/again.yaml", GOOD.replace("Ana", "Eva"))
    code, out = pr_check(base)  # a new base: validated in full, and the duplicate is found
    assert code == 1 and "duplicate signature" in out, out
    assert len(list((base / ".cache/campaign").glob("base-summary.json"))) == 1


def test_ignored_files_under_data_mean_a_full_validation(base: Path) -> None:
    warm(base)
    # `build/` is in .gitignore: validated from the work tree, but in no diff
    write(base, "data/signatories/build/dup.yaml", GOOD.replace("Ana", "Rui"))
    write(base, "data/signatories/cc/new.yaml", GOOD.replace("Ana", "Eva"))
    code, out = pr_check(base)
    assert code == 1 and "duplicate signature" in out, out


def test_no_summary_of_a_work_tree_that_is_not_the_base(base: Path) -> None:
    write(base, "data/signatories/build/extra.yaml", GOOD.replace("Ana", "Extra"))
    write(base, "data/signatories/cc/new.yaml", GOOD.replace("Ana", "Eva"))
    assert pr_check(base)[0] == 0
    assert not list((base / ".cache/campaign").glob("base-summary.json"))


@pytest.mark.parametrize("target", ["jose.yaml", "/etc"])
def test_symbolic_links_are_not_signatures(base: Path, target: str) -> None:
    (base / "data/signatories/cc").mkdir()
    (base / "data/signatories/cc/link.yaml").symlink_to(base / "data/signatories/aa" / target)
    code, out = pr_check(base)
    assert code == 1
    assert "data/signatories/cc/link.yaml:1: this pull request adds this file: needs a maintainer; only plain files" in out
    assert "data/signatories/cc/link.yaml:1: a symbolic link" in run(base, "validate").output


def test_linked_folders_are_reported_not_skipped(base: Path) -> None:
    (base / "data/signatories/cc").symlink_to(base / "data/signatories/aa")
    result = run(base, "validate")
    assert result.exit_code == 1 and "data/signatories/cc:1: a symbolic link" in result.output, result.output
