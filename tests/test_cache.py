"""The record cache: unchanged files come from it, changed or broken ones never do."""

from __future__ import annotations

import json
import multiprocessing
import os
import sys
from pathlib import Path

from campaign.data import dataset, folders
from campaign.data.cache import FOLDER, code_version
from support.builders import write
from test_validate import GOOD


def names(root: Path, use_cache: bool = True) -> dict[str, tuple]:
    ds = dataset.load(root, use_cache=use_cache)
    return {r.path: (r.model, r.lines) for r in ds.signatures}


def test_cached_records_equal_fresh_ones(repo: Path) -> None:
    write(repo, "data/signatories/aa/one.yaml", GOOD)
    write(repo, "data/signatories/bb/two.yaml", GOOD.replace("Ana", "Rui") + "consent: '2026-11'\n")
    fresh = names(repo, use_cache=False)
    first = names(repo)  # fills the cache
    assert (repo / FOLDER / "signatories.jsonl").is_file()
    second = names(repo)  # served from it
    assert fresh == first == second


def test_a_changed_file_is_validated_again(repo: Path) -> None:
    path = write(repo, "data/signatories/aa/one.yaml", GOOD)
    names(repo)
    stat = path.stat()
    path.write_text(GOOD.replace("'PT'", "'XX'"))  # same size, same mtime: only the content differs
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    ds = dataset.load(repo)
    assert [p.text() for p in ds.problems] == [
        "data/signatories/aa/one.yaml:3: `country` 'XX' is not an ISO 3166-1 alpha-2 country code; "
        "use two capital letters, e.g. 'GB', 'NO', 'PT'"
    ]


def cached_paths(root: Path) -> list[str]:
    lines = (root / FOLDER / "signatories.jsonl").read_text().splitlines()
    assert json.loads(lines[0]) == {"version": code_version()}
    return [line.split("\t", 1)[0] for line in lines[1:]]


def test_a_foreign_or_broken_cache_is_ignored(repo: Path) -> None:
    write(repo, "data/signatories/aa/one.yaml", GOOD)
    cache = repo / FOLDER / "signatories.jsonl"
    cache.parent.mkdir(parents=True)
    cache.write_text(json.dumps({"version": "other"}) + "\ndata/signatories/aa/one.yaml\tx\n")
    assert len(names(repo)) == 1
    cache.write_text("{not json")
    assert len(names(repo)) == 1
    assert cached_paths(repo) == ["data/signatories/aa/one.yaml"]


def test_damaged_rows_are_parsed_again_and_nothing_is_lost(repo: Path) -> None:
    for name in ("Ana", "Rui", "Eva"):
        write(repo, f"data/signatories/aa/{name.lower()}.yaml", GOOD.replace("Ana", name))
    fresh = names(repo, use_cache=False)
    names(repo)
    cache = repo / FOLDER / "signatories.jsonl"
    head, *rows = cache.read_text().splitlines()
    damaged = [rows[0].rsplit("\t", 1)[0] + "\t[{]", rows[1].replace("2026-11-28", "not a date"), "garbage"]
    cache.write_text("\n".join([head, *damaged]) + "\n")
    assert names(repo) == fresh
    assert cached_paths(repo) == sorted(fresh)


def test_a_fresh_checkout_reuses_rows_by_content_and_forgets_deleted_files(repo: Path, monkeypatch) -> None:
    for name in ("Ana", "Rui", "Eva"):
        write(repo, f"data/signatories/aa/{name.lower()}.yaml", GOOD.replace("Ana", name))
    fresh = names(repo)
    parsed = []
    real = folders.parse
    monkeypatch.setattr(folders, "parse", lambda *a, **k: parsed.append(a[0]) or real(*a, **k))
    for path in (repo / "data/signatories/aa").iterdir():  # new inodes and times, same bytes
        data = path.read_bytes()
        path.unlink()
        path.write_bytes(data)
    (repo / "data/signatories/aa/rui.yaml").unlink()
    del fresh["data/signatories/aa/rui.yaml"]
    assert names(repo) == fresh and parsed == []  # hashed, not parsed
    assert cached_paths(repo) == sorted(fresh)


def test_an_unchanged_tree_leaves_the_cache_file_alone_and_a_change_rewrites_it(repo: Path) -> None:
    for name in ("Ana", "Rui", "Eva"):
        write(repo, f"data/signatories/aa/{name.lower()}.yaml", GOOD.replace("Ana", name))
    fresh = names(repo)
    cache = repo / FOLDER / "signatories.jsonl"
    before = cache.stat()
    assert names(repo) == fresh
    assert (cache.stat().st_ino, cache.stat().st_mtime_ns) == (before.st_ino, before.st_mtime_ns), "written again"
    (repo / "data/signatories/aa/eva.yaml").unlink()  # the middle row, in path order: ana, eva, rui
    del fresh["data/signatories/aa/eva.yaml"]
    assert names(repo) == fresh and cached_paths(repo) == sorted(fresh)
    head, *rows = cache.read_text().splitlines()
    cache.write_text("\n".join([head, rows[0].rsplit("\t", 1)[0] + "\t[{]", *rows[1:]]) + "\n")  # same stat, bad JSON
    assert names(repo) == fresh
    assert not cache.exists(), "a damaged row of an unchanged file drops the cache"
    assert names(repo) == fresh and cached_paths(repo) == sorted(fresh)


def test_records_are_constructed_as_model_construct_makes_them() -> None:
    import datetime as dt

    from campaign.data.models import Action, Signature

    base = {"type": "individual", "name": "Ana", "country": "PT", "signed": dt.date(2026, 11, 20), "publish": True,
            "letter": False, "source": "form"}
    for data in (base, base | {"mission": "pt-lisbon", "language": "es", "fingerprint": "ab" * 32},
                 {k: v for k, v in base.items() if k != "name"}, base | {"unknown": 1}):
        made, expected = folders._construct(Signature)(dict(data)), Signature.model_construct(**dict(data))
        assert made == expected and repr(made) == repr(expected)
        assert made.model_fields_set == expected.model_fields_set and made.model_dump() == expected.model_dump()
        assert (made.__pydantic_extra__, made.__pydantic_private__) == (expected.__pydantic_extra__,
                                                                         expected.__pydantic_private__)
    action = {"type": "delivery", "mission": "pt-lisbon", "date": dt.date(2026, 12, 10), "by": "Ana", "description": "Handed in."}
    one, two = folders._construct(Action)(dict(action)), folders._construct(Action)(dict(action))
    assert one == Action.model_construct(**action) and one.photos == [] and one.photos is not two.photos  # a list default


def test_streamed_signatures_equal_loaded_ones(repo: Path) -> None:
    for name in ("Ana", "Rui"):
        write(repo, f"data/signatories/aa/{name.lower()}.yaml", GOOD.replace("Ana", name))
    write(repo, "data/signatories/aa/bad.yaml", "name: [")
    whole = dataset.load(repo)
    lean = dataset.load(repo, signatures=False)
    assert lean.signatures == [] and not [p for p in lean.problems if "signatories" in p.path]
    streamed = list(dataset.stream_signatures(lean))
    assert [(r.path, r.model, r.lines) for r in streamed] == [(r.path, r.model, r.lines) for r in whole.signatures]
    assert lean.problems == whole.problems


def test_parallel_parsing_gives_the_same_records_and_problems(repo: Path, monkeypatch) -> None:
    for i in range(12):
        write(repo, f"data/signatories/{i:02x}/good.yaml", GOOD.replace("Ana", f"Ana{chr(0x41 + i)}"))
    write(repo, "data/signatories/aa/bad.yaml", GOOD.replace("'PT'", "'XX'"))
    write(repo, "data/signatories/aa/broken.yaml", "name: [")
    write(repo, "data/signatories/aa/latin1.yaml", GOOD.replace("Ana", "An\xe1").encode("latin-1"))
    write(repo, "data/signatories/aa/notes.txt", "hello")

    def load(jobs: str) -> tuple[dict[str, tuple], list[str]]:
        monkeypatch.setenv("CAMPAIGN_JOBS", jobs)
        ds = dataset.load(repo, use_cache=False)
        return {r.path: (r.model, r.lines) for r in ds.signatures}, [p.text() for p in ds.problems]

    serial = load("1")
    spawned = []
    real = multiprocessing.get_context  # folders imports it when it starts workers
    monkeypatch.setattr(multiprocessing, "get_context", lambda kind: spawned.append(kind) or real(kind))
    monkeypatch.setattr(folders, "PARALLEL_FROM", 4)
    parallel = load("2")
    assert spawned == ["spawn"]
    assert parallel == serial
    assert len(serial[0]) == 12 and len(serial[1]) == 4


def test_workers_that_die_leave_the_parsing_to_this_process(repo: Path, monkeypatch) -> None:
    for i in range(6):
        write(repo, f"data/signatories/{i:02x}/good.yaml", GOOD.replace("Ana", f"Ana{chr(0x41 + i)}"))
    write(repo, "data/signatories/aa/bad.yaml", GOOD.replace("'PT'", "'XX'"))
    monkeypatch.setenv("CAMPAIGN_JOBS", "1")
    serial = dataset.load(repo, use_cache=False)
    monkeypatch.setenv("CAMPAIGN_JOBS", "2")
    monkeypatch.setattr(folders, "PARALLEL_FROM", 4)
    multiprocessing.set_executable("/bin/false")  # every worker exits at once
    try:
        parallel = dataset.load(repo, use_cache=False)
    finally:
        multiprocessing.set_executable(sys.executable)
    assert [(r.path, r.model) for r in parallel.signatures] == [(r.path, r.model) for r in serial.signatures]
    assert parallel.problems == serial.problems and len(serial.signatures) == 6
