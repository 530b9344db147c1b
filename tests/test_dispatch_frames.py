"""What every letter of a mission shares (dispatch/frames.py): letters made from a frame are the
letters rendered one by one; and the dry run's letters composed in forked workers (dispatch/workers.py)."""

from __future__ import annotations

import binascii
import datetime as dt
import os
import random
import threading
from pathlib import Path

import pytest

from campaign.core.errors import LetterError
from campaign.data import dataset, letter
from campaign.data.models import Signature
from campaign.dispatch import compose as mime
from campaign.dispatch import frames, workers
from campaign.dispatch.planning import parse_now
from campaign.dispatch.runner import Dispatcher, Settings
from campaign.i18n import catalogues
from campaign.records.ledger import Ledger
from support.dispatch import ALL_DUE, add_signatures

NAMES = ["Ana Pereira", "O'Brien & \"Sons\"", "<b>Zoë</b> Ørsted-Łukasz 明", "\u05e9\u05e8\u05d4 \u05db\u05d4\u05df",
         "محمد الخطيب", "Jean=Pierre", "A" * 90 + " B" * 30, "- Ana", "1. Rui", "Eva\\", "Zoë  Ørsted", "x" * 1200]
LANGUAGES = [None, "es", "pt", "fr", "ar", "de"]


def sig(name: str, lang: str | None, country: str = "PT", named: bool = True, kind: str = "individual") -> Signature:
    return Signature.model_construct(type=kind, name=name, country=country, mission="pt-lisbon",
                                     signed=dt.date(2026, 11, 20), publish=named, letter=named, source="form", language=lang)


def letters(repo: Path, sigs: list[Signature], mission: str = "pt-lisbon", **options: object) -> list[bytes]:
    ds = dataset.load(repo)
    assert ds.campaign is not None
    campaign, words = ds.campaign, catalogues.Catalogues(repo)
    when = dt.datetime(2026, 12, 10, 9, tzinfo=dt.timezone.utc)
    return [mime.compose(campaign, ds.letters["en"], ds.mission_by_id[mission], [s], f"s-{i}", "v1", when=when,
                         files=ds.letter_files, words=words, **options).as_bytes()  # type: ignore[arg-type]
            for i, s in enumerate(sigs)]


def signers() -> list[Signature]:
    rng = random.Random(4)
    found = [sig(name, lang) for name in NAMES for lang in LANGUAGES]
    found += [sig(rng.choice(NAMES), rng.choice(LANGUAGES), rng.choice(["PT", "ES", "EG", "JP"]), rng.random() < 0.7,
                  rng.choice(["individual", "organisation"])) for _ in range(40)]
    return found


@pytest.mark.parametrize("options", [{}, {"fallback": True, "to": "central@example.org"}, {"redirect": "test@example.net"}])
def test_letters_from_a_frame_are_the_letters_rendered_one_by_one(repo: Path, monkeypatch, options: dict[str, object]) -> None:
    sigs = signers()
    framed = letters(repo, sigs, **options)
    made = [k for k, v in mime._FRAMES.items() if v is not None]
    assert {k[-1][0] for k in made} >= {"es", "pt", "fr", "ar"}, "translated letters have frames too"
    monkeypatch.setattr(mime, "_frame", lambda *a: None)
    assert framed == letters(repo, sigs, **options)


def test_a_template_that_does_more_with_the_signer_gets_no_frame(repo: Path) -> None:
    path = repo / "data/letter/en.md"
    path.write_text(path.read_text().replace("{{ signer }}", "{{ signer | upper }}"))
    mime._FRAMES.clear()
    (one,) = letters(repo, [sig("Ana Pereira", None)])
    assert b"ANA PEREIRA, PORTUGAL" in one and list(mime._FRAMES.values()) == [None]


def test_a_body_encodes_as_the_whole_text_encodes() -> None:
    rng = random.Random(7)
    alphabet = ["a", " ", "=", ".", "\t", "é", "明", "\u05e9", "\n", "x" * 40]
    for _ in range(300):
        lines = ["".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 30))).replace("\n", "")
                 for _ in range(rng.randrange(1, 8))]
        slots = sorted(rng.sample(range(len(lines)), rng.randrange(1, len(lines) + 1)))
        for i in slots:
            lines[i] = lines[i][: len(lines[i]) // 2] + frames.SIGNER + lines[i][len(lines[i]) // 2:]
        body = frames.Body.of("\n".join(lines) + "\n")
        assert body is not None
        filled = ["".join(rng.choice(alphabet[:-2]) for _ in range(rng.randrange(0, 90))) for _ in slots]
        text = body.filled(filled)
        assert body.encoded(filled) == (text, *frames.encode(text))
        if frames.encode(text)[0] == "quoted-printable":
            assert binascii.a2b_qp(body.encoded(filled)[2]).decode() == text
    assert frames.Body.of("a\r\n" + frames.SIGNER + "\n") is None


def test_a_signer_line_that_could_change_the_text_around_it_is_rendered_on_its_own(repo: Path) -> None:
    ds = dataset.load(repo)
    frame = mime._frame(ds.campaign, ds.letter_files, ds.mission_by_id["pt-lisbon"], sig("Ana", "es"), "en", False)  # type: ignore[arg-type]
    assert frame is not None and frame.langs == ("en", "es") and frame.languages == "en, es"
    words = catalogues.Catalogues(repo)
    assert frame.signers(sig("Ana", "es"), words) is not None and frame.signers(sig("Eva\\", "es"), words) is not None
    for name in ("- Ana", "1. Rui", "* Eva"):  # a list item in the letter's HTML
        assert frame.signers(sig(name, "es"), words) is None


def test_forked_workers_give_what_this_process_gives_in_order(monkeypatch) -> None:
    monkeypatch.setenv("CAMPAIGN_JOBS", "3")
    monkeypatch.setattr(workers, "PARALLEL_FROM", 10)
    here = os.getpid()
    assert threading.active_count() == 1
    got = workers.forked_map(lambda i: None if i % 3 else f"{i}:{os.getpid()}", range(40))
    assert [g and int(g.split(":")[0]) for g in got] == [None if i % 3 else i for i in range(40)]
    assert len({g.split(":")[1] for g in got if g}) == 4 and str(here) in {g.split(":")[1] for g in got if g}  # 3 workers

    def fails_in_children(i: int) -> str:
        if os.getpid() != here:
            raise RuntimeError("a child dies")
        return str(i)

    assert workers.forked_map(fails_in_children, range(40)) == [str(i) for i in range(40)]  # done here instead
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:  # another thread: no fork
        assert {g.split(":")[1] for g in workers.forked_map(lambda i: f"{i}:{os.getpid()}", range(40))} == {str(here)}
    finally:
        stop.set()
        other.join()


def test_a_dry_run_in_workers_reports_each_letter_that_cannot_be_made(repo: Path, monkeypatch) -> None:
    add_signatures(repo, "pt-lisbon", 30)
    add_signatures(repo, "us-washington", 30, country="US")
    monkeypatch.setenv("CAMPAIGN_JOBS", "2")
    monkeypatch.setattr(workers, "PARALLEL_FROM", 4)
    real = Dispatcher.compose

    def compose(self, pending):  # type: ignore[no-untyped-def]
        if pending.letter.key[-1] in "05":
            raise LetterError(f"cannot make {pending.letter.key} in {os.getpid()}")
        return real(self, pending)

    monkeypatch.setattr(Dispatcher, "compose", compose)
    ds = dataset.load(repo)
    runner = Dispatcher(ds, None, Ledger(repo / "none.jsonl"), Settings(now=parse_now(ALL_DUE), dry_run=True))
    result = runner.run()
    expected = [f"{p.mission.mission.id}: cannot make {p.letter.key}" for p in runner.select(result.plan)
                if p.letter.key[-1] in "05"]
    assert expected and [p.rsplit(" in ", 1)[0] for p in result.problems] == expected
    assert len({p.rsplit(" in ", 1)[1] for p in result.problems}) >= 2, "composed in two workers"
    assert not (repo / "none.jsonl").exists()


def test_which_templates_only_print_the_signer(repo: Path) -> None:
    assert letter.prints_signer("Dear all,\n\n{{ signer }}\n") and letter.prints_signer("No signer at all.\n")
    assert letter.prints_signer("{% if mission_country %}{{ signer }}{% endif %}\n")
    for template in ("{{ signer | upper }}", "{% if signer %}x{% endif %}", "{% set signer = 'x' %}{{ signer }}",
                     "{{ signer ~ '!' }}", "{{ signer[0] }}"):
        assert not letter.prints_signer(template), template
    ds = dataset.load(repo)
    assert ds.campaign is not None
    assert letter.target(ds.campaign, "en") == ds.campaign.target
    for lang in ds.campaign.languages:
        assert letter.target(ds.campaign, lang) == (ds.campaign.text(lang).target or ds.campaign.target)


def test_a_dry_run_leaves_collection_on_and_its_data_frozen(repo: Path) -> None:
    import gc

    from campaign.dispatch import session

    add_signatures(repo, "pt-lisbon", 3)
    frozen = gc.get_freeze_count()
    try:
        session.run(repo, now=ALL_DUE, dry_run=True, warn=lambda _: None)
        assert gc.isenabled() and gc.get_freeze_count() > frozen
    finally:
        gc.unfreeze()
