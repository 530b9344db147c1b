"""The record cache: unchanged files come from it, changed or broken ones never do."""

from __future__ import annotations

import json
import multiprocessing
import os
import sys
from pathlib import Path

from campaign.data import dataset
from campaign.data.cache import FOLDER
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
    assert (repo / FOLDER / "signatories.json").is_file()
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


def test_a_foreign_or_broken_cache_is_ignored(repo: Path) -> None:
    write(repo, "data/signatories/aa/one.yaml", GOOD)
    cache = repo / FOLDER / "signatories.json"
    cache.parent.mkdir(parents=True)
    cache.write_text(json.dumps({"version": "other", "entries": {"data/signatories/aa/one.yaml": "x"}}))
    assert len(names(repo)) == 1
    cache.write_text("{not json")
    assert len(names(repo)) == 1
    assert json.loads(cache.read_text())["entries"].keys() == {"data/signatories/aa/one.yaml"}


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
    real = dataset.multiprocessing.get_context
    monkeypatch.setattr(dataset.multiprocessing, "get_context", lambda kind: spawned.append(kind) or real(kind))
    monkeypatch.setattr(dataset, "PARALLEL_FROM", 4)
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
    monkeypatch.setattr(dataset, "PARALLEL_FROM", 4)
    multiprocessing.set_executable("/bin/false")  # every worker exits at once
    try:
        parallel = dataset.load(repo, use_cache=False)
    finally:
        multiprocessing.set_executable(sys.executable)
    assert [(r.path, r.model) for r in parallel.signatures] == [(r.path, r.model) for r in serial.signatures]
    assert parallel.problems == serial.problems and len(serial.signatures) == 6
