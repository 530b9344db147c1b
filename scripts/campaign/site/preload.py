"""What one site build loads once: the validated dataset, the letters sent, and (in a
multi-language build) the data grouped and the pieces every language shows alike.

`site/build.py` (the driver) fills `PRELOADED` and then forks one process per language: each
child inherits these objects (copy-on-write) and the MkDocs hooks take them instead of loading
`data/` again. A plain `mkdocs build` finds nothing here and loads everything itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from campaign.core.errors import CampaignError, Problem, render
from campaign.data import checks, dataset
from campaign.data.dataset import Dataset
from campaign.i18n import catalogues
from campaign.records import ledger
from campaign.site.groups import Groups


@dataclass
class Preloaded:
    root: Path
    ds: Dataset
    letters_sent: int
    groups: Groups | None = None
    """The data grouped, with the shared pieces rendered (set by the driver)."""


PRELOADED: dict[Path, Preloaded] = {}


def load_checked(root: Path) -> Preloaded:
    """Load and validate `data/` and the catalogues as a site build needs them; CampaignError
    with every problem (`path:line: message`) when they do not validate."""
    ds = dataset.load(root)
    found = checks.validate(ds)
    if ds.campaign is not None:
        found += catalogues.check(root, ds.campaign.languages)
    if found:
        raise CampaignError([Problem("", 0, f"the campaign data has {len(found)} problem{'s' if len(found) != 1 else ''}; "
                                            "fix them and build again:\n" + render(found))])
    assert ds.campaign is not None
    return Preloaded(root, ds, ledger.sent_count(root, ds.campaign))
