"""What a record says about one party, and what resolution made of it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from graph.identifiers import Identifier
from graph.model import model

# A USCC with these warnings is kept (pilot-area codes fail the check and are
# lawful) but not trusted as a key on its own: most such codes are typos.
SUSPECT_WARNINGS = frozenset({"uscc_check_mismatch", "uscc_inner_org_check_mismatch"})


@dataclass
class Party:
    record_id: str
    role: str
    # "organisation", "person", or None when neither the identifier, the
    # declared category nor the name tells
    type: str | None
    name: str | None
    norm_name: str | None
    identifiers: list[Identifier] = field(default_factory=list)
    former_names: list[str] = field(default_factory=list)
    # corroborating evidence from the same record: e.g. legal_representative
    # name / id, region code
    context: dict[str, Any] = field(default_factory=dict)
    is_branch: bool = False

    @property
    def full_keys(self) -> list[str]:
        return [i.key for i in self.identifiers if i.is_full_key]

    @property
    def trusted_full_keys(self) -> list[str]:
        return [
            i.key
            for i in self.identifiers
            if i.is_full_key and not (i.kind == "uscc" and SUSPECT_WARNINGS & set(i.warnings))
        ]

    @property
    def suspect_usccs(self) -> list[str]:
        return [
            i.value
            for i in self.identifiers
            if i.kind == "uscc" and SUSPECT_WARNINGS & set(i.warnings)
        ]

    @property
    def bridge_keys(self) -> list[str]:
        kinds = model().key_kinds
        keys = [i.key for i in self.identifiers if kinds[i.kind].bridge_to is not None]
        keys += [i.bridge_key for i in self.identifiers if i.bridge_key]
        return list(dict.fromkeys(keys))

    @property
    def masked_ids(self) -> list[str]:
        return [i.value for i in self.identifiers if i.kind == "id_masked"]


@dataclass(frozen=True, kw_only=True)
class Resolution:
    subject_id: str
    # a subject made for this party (no existing one matched)
    is_new: bool
    # how the party was matched: {"method": ..., ...} (graph/evidence/identity.py)
    match: dict[str, Any]
    # candidate pairs for a reviewer: [{"candidate": subject id, "score": .., "features": {..}}]
    review: list[dict[str, Any]] = field(default_factory=list)
    # keys of the party the subject must not be given: a mistyped USCC that was
    # matched to the real one by name, a head office's code on its branch's row
    withheld_keys: list[str] = field(default_factory=list)

    @classmethod
    def existing(
        cls, subject_id: str, match: dict[str, Any], withheld_keys: list[str] | None = None
    ) -> Resolution:
        return cls(
            subject_id=subject_id, is_new=False, match=match, withheld_keys=withheld_keys or []
        )

    @classmethod
    def new(
        cls,
        subject_id: str,
        match: dict[str, Any],
        review: list[dict[str, Any]] | None = None,
        withheld_keys: list[str] | None = None,
    ) -> Resolution:
        return cls(
            subject_id=subject_id,
            is_new=True,
            match=match,
            review=review or [],
            withheld_keys=withheld_keys or [],
        )
