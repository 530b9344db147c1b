"""The duplicate rule: one signature per normalised name and country, one per email fingerprint.

`key(sig)` is the one duplicate key of the package: validation, the pull-request check, the
CLI's writers, the intake (and its store's unique index) and the dispatch plan all use it.
`look_alike_key(sig)`, the UTS #39 skeleton of the name and the country, is the second key: a
signature whose skeleton is taken but whose key is not is *likely* a duplicate, a warning in
`validate` and held for review by the intake, never refused.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from campaign.core.errors import Problem
from campaign.data.confusables import skeleton
from campaign.data.dataset import Record
from campaign.data.models import Signature
from campaign.data.text import name_key


def key(sig: Signature) -> str:
    """NFKC-casefolded name and country: two signatures with equal keys are one person."""
    return f"{name_key(sig.name)}\0{sig.country}"


def look_alike_key(sig: Signature) -> str:
    """The confusables skeleton of the name, and the country: equal keys *look* alike."""
    return f"{skeleton(sig.name)}\0{sig.country}"


@dataclass
class Taken:
    """The keys and fingerprints already signed, with the file that holds each."""

    names: dict[str, str] = field(default_factory=dict)
    fingerprints: dict[str, str] = field(default_factory=dict)
    skeletons: dict[str, str] = field(default_factory=dict)
    look_alikes: list[Problem] = field(default_factory=list)
    """Warnings found by `claim`: files whose name looks like an earlier file's."""

    @classmethod
    def of(cls, records: Iterable[Record[Signature]]) -> Taken:
        taken = cls()
        for rec in records:
            taken.add(rec.model, rec.path)
        return taken

    def name_holder(self, sig: Signature) -> str | None:
        """The file that already has `sig`'s name from its country, or None."""
        return self.names.get(key(sig))

    def address_holder(self, sig: Signature) -> str | None:
        """The file already signed with `sig`'s email fingerprint, or None."""
        return self.fingerprints.get(sig.fingerprint) if sig.fingerprint else None

    def look_alike_holder(self, sig: Signature) -> str | None:
        """The file whose name looks like `sig`'s (same skeleton, other key), or None."""
        holder = self.skeletons.get(look_alike_key(sig))
        return holder if holder is not None and holder != self.names.get(key(sig)) else None

    def add(self, sig: Signature, path: str) -> None:
        """Take `sig`'s keys and fingerprint (the first holder keeps them)."""
        self.names.setdefault(key(sig), path)
        self.skeletons.setdefault(look_alike_key(sig), path)
        if sig.fingerprint:
            self.fingerprints.setdefault(sig.fingerprint, path)

    def claim(self, rec: Record[Signature]) -> list[Problem]:
        """Take `rec`'s key and fingerprint; a problem for each one another file took first."""
        s, problems = rec.model, []
        name, address = self.name_holder(s), self.address_holder(s)
        if name:
            problems.append(Problem(rec.path, rec.line("name"), f"duplicate signature: {name} already has this name "
                                    f"from {s.country}; remove this file"))
        if address:
            problems.append(Problem(rec.path, rec.line("fingerprint"), f"duplicate signature: {address} was signed "
                                    "with the same email address; remove this file"))
        similar = None if name else self.look_alike_holder(s)
        if similar:
            self.look_alikes.append(Problem(rec.path, rec.line("name"), f"the name looks like the one in {similar} "
                                            f"(from {s.country}); a maintainer should check it is not the same person"))
        self.add(s, rec.path)
        return problems

    def reason(self, sig: Signature) -> str | None:
        """Why `sig` would be a second signature, or None."""
        if name := self.name_holder(sig):
            return f"already signed: {name} has this name from {sig.country}"
        if address := self.address_holder(sig):
            return f"already signed with this email address ({address})"
        return None
