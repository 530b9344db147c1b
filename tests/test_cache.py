"""The record cache: unchanged files come from it, changed or broken ones never do."""

from __future__ import annotations

import json
import os
from pathlib import Path

from campaign import dataset
from campaign.cache import FOLDER
from conftest import write
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
