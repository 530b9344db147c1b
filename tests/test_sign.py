"""`campaign sign` and `campaign import`: files written validly, duplicates refused."""

from __future__ import annotations

from pathlib import Path

from campaign.data import dataset, yamlio
from campaign.data.models import Signature
from campaign.data.signatures import relative_path
from support.builders import run, write


def signature_files(root: Path) -> list[Path]:
    return sorted((root / "data/signatories").rglob("*.yaml"))


def test_sign_writes_a_quoted_sharded_file_that_validates(repo: Path) -> None:
    result = run(repo, "sign", "--name", "Nordic  Press Union", "--country", "no", "--organisation",
                 "--url", "https://example.org/press", "--publish", "--letter")
    assert result.exit_code == 0, result.output
    rel = result.output.strip()
    assert rel.startswith("data/signatories/") and rel.count("/") == 3
    text = (repo / rel).read_text(encoding="utf-8")
    assert "country: 'NO'" in text  # Norway stays a string when read back
    assert "name: 'Nordic Press Union'" in text  # whitespace collapsed
    assert text.startswith("# yaml-language-server: $schema=../../../schemas/signature.schema.json\n")
    assert (repo / rel).parent.parent == repo / "data/signatories"
    assert run(repo, "validate").exit_code == 0


def test_sign_defaults_the_mission_to_the_countrys_own(repo: Path) -> None:
    result = run(repo, "sign", "--name", "Jón Jónsson", "--country", "IS", "--publish", "--no-letter")
    assert result.exit_code == 0, result.output
    sig = Signature.model_validate(yamlio.loads((repo / result.output.strip()).read_bytes()).data)
    assert sig.mission == "no-oslo"  # Iceland is covered by Oslo
    assert (sig.publish, sig.letter, sig.source) == (True, False, "pull-request")


def test_sign_refuses_duplicates_and_bad_input(repo: Path) -> None:
    assert run(repo, "sign", "--name", "Ana Pereira", "--country", "PT", "--publish", "--letter").exit_code == 0
    again = run(repo, "sign", "--name", "ANA  PEREIRA", "--country", "PT", "--publish", "--letter")
    assert again.exit_code == 1
    assert "already signed" in again.output
    bad = run(repo, "sign", "--name", "Eve\u200b", "--country", "PT", "--publish", "--letter")
    assert bad.exit_code == 1
    assert "(options):1: `name` contains the invisible or control character U+200B" in bad.output
    nowhere = run(repo, "sign", "--name", "Kim", "--country", "KP", "--publish", "--letter")
    assert nowhere.exit_code == 1 and "needs `mission`" in nowhere.output
    assert len(signature_files(repo)) == 1


CSV = """\
name,country,publish,letter,type,url
Ana Pereira,PT,yes,yes,,
"Smith, John",US,no,yes,,
Reporters United,NO,yes,yes,organisation,https://example.org
"""


def test_import_writes_every_row(repo: Path, tmp_path: Path) -> None:
    path = write(tmp_path, "list.csv", CSV)
    result = run(repo, "import", str(path), "--signed", "2026-11-20")
    assert result.exit_code == 0, result.output
    assert "imported 3 signatures, rejected 0 rows" in result.output
    ds = dataset.load(repo)
    assert sorted(r.model.name for r in ds.signatures) == ["Ana Pereira", "Reporters United", "Smith, John"]
    assert all(r.model.source == "import" and str(r.model.signed) == "2026-11-20" for r in ds.signatures)
    assert {r.path for r in ds.signatures} == {relative_path(r.model) for r in ds.signatures}
    assert run(repo, "validate").exit_code == 0


def test_import_reports_each_rejected_row_and_writes_nothing(repo: Path, tmp_path: Path) -> None:
    run(repo, "sign", "--name", "Ana Pereira", "--country", "PT", "--publish", "--letter")
    bad = CSV + "Eve\u202e,PT,yes,yes,,\nBob,ZZ,yes,yes,,\nCarla,PT,maybe,yes,,\nana pereira,PT,yes,yes,,\nDan,PT,yes,yes,organisation,javascript:alert(1)\n"
    path = write(tmp_path, "list.csv", bad)
    result = run(repo, "import", str(path))
    assert result.exit_code == 1
    out = result.output
    assert f"{path}:2: already signed" in out
    assert f"{path}:5: `name` contains the invisible or control character U+202E" in out
    assert f"{path}:6: `country` 'ZZ' is not an ISO 3166-1" in out
    assert f"{path}:7: column `publish` must be yes or no" in out
    assert f"{path}:8: already signed" in out
    assert f"{path}:9: `url` 'javascript:alert(1)' is not an https" in out
    assert len(signature_files(repo)) == 1  # only the earlier `sign`
    partial = run(repo, "import", str(path), "--skip-invalid")
    assert partial.exit_code == 1
    assert "imported 2 signatures, rejected 6 rows" in partial.output
    assert len(signature_files(repo)) == 3


def test_import_file_errors(repo: Path, tmp_path: Path) -> None:
    result = run(repo, "import", str(tmp_path / "missing.csv"))
    assert result.exit_code == 1 and "missing.csv:1: cannot read the file" in result.output
    path = write(tmp_path, "header.csv", "full name,country\nAna,PT\n")
    result = run(repo, "import", str(path))
    assert result.exit_code == 1 and "header.csv:1: the header row lacks letter, name, publish" in result.output
    path = write(tmp_path, "latin.csv", "name,country,publish,letter\nJos\xe9,PT,yes,yes\n".encode("latin-1"))
    result = run(repo, "import", str(path))
    assert result.exit_code == 1 and "latin.csv:2: file is not valid UTF-8" in result.output
    assert "Traceback" not in result.output


def test_every_problem_of_a_signature_comes_at_once(repo: Path) -> None:
    """Missing consents, an unknown mission (with a suggestion) and a bad country in one answer."""
    result = run(repo, "sign", "--name", "Ana Pereira", "--country", "ZZ", "--mission", "pt-lisbom")
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert any("--no-publish to decline" in line for line in lines)
    assert any("--no-letter to decline" in line for line in lines)
    assert any("did you mean 'pt-lisbon'" in line for line in lines)
    assert any("'ZZ' is not an ISO 3166-1 alpha-2 country code" in line for line in lines)
    assert not list((repo / "data" / "signatories").rglob("*.yaml"))


def test_declining_consent_is_explicit(repo: Path) -> None:
    result = run(repo, "sign", "--name", "Ana Pereira", "--country", "PT", "--no-publish", "--no-letter")
    assert result.exit_code == 0, result.output
    text = (repo / result.output.strip()).read_text()
    assert "publish: false" in text and "letter: false" in text


def test_unknown_missions_get_suggestions_everywhere(repo: Path) -> None:
    write(repo, "data/signatories/aa/x.yaml", "type: 'individual'\nname: 'Ana'\ncountry: 'PT'\nmission: 'pt-lisbonn'\n"
          "signed: '2026-11-01'\npublish: true\nletter: true\nsource: 'pull-request'\n")
    result = run(repo, "validate")
    assert result.exit_code == 1 and "did you mean 'pt-lisbon'?" in result.output
    result = run(repo, "dispatch", "--dry-run", "--mission", "us-washingtn")
    assert result.exit_code == 1 and "did you mean 'us-washington'?" in result.output
    result = run(repo, "validate")
    assert "no-such" not in result.output
