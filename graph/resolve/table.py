"""The judgements table: every reviewer's decision, typed, in one collection.

A row says who decided what, when and why (confirm, reject or split). What
the resolver must respect is derived from the rows, never stored beside them,
so the two cannot disagree:

- rejections: pairs the scorer never merges again (a rejected pair, and a split
  subject and the subject it was split from);
- assignments: (record, role) mentions a split pinned to its new subject, so a
  reloaded record lands there;
- the generation: changes with every row, so that a resolver in any process
  rebuilds its index after a judgement made elsewhere.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from graph.docs import JUDGEMENTS, pair_id
from graph.store.base import GraphStore

Kind = Literal["confirm", "reject", "split"]
KINDS: tuple[Kind, ...] = ("confirm", "reject", "split")


@dataclass(frozen=True)
class Judgement:
    id: str
    kind: Kind
    by: str
    at: str
    note: str | None = None
    # confirm and reject: the pair as the reviewer named it
    a: str | None = None
    b: str | None = None
    # confirm: who survived the merge
    survivor: str | None = None
    merged: str | None = None
    # reject: the two subjects the pair named then (after redirects)
    rejected: tuple[str, str] | None = None
    # split: the subject split, the one made, and the (record, role) mentions moved
    subject: str | None = None
    new_subject: str | None = None
    records: tuple[tuple[str, str], ...] = field(default_factory=tuple)

    def to_doc(self) -> dict[str, Any]:
        doc = {k: v for k, v in asdict(self).items() if v not in (None, ())}
        if self.rejected is not None:
            doc["rejected"] = list(self.rejected)
        if self.records:
            doc["records"] = [{"record": r, "role": role} for r, role in self.records]
        return doc

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Judgement:
        rejected = doc.get("rejected")
        return cls(
            id=str(doc["id"]),
            kind=doc["kind"],
            by=str(doc.get("by") or ""),
            at=str(doc.get("at") or ""),
            note=doc.get("note"),
            a=doc.get("a"),
            b=doc.get("b"),
            survivor=doc.get("survivor"),
            merged=doc.get("merged"),
            rejected=(str(rejected[0]), str(rejected[1])) if rejected else None,
            subject=doc.get("subject"),
            new_subject=doc.get("new_subject"),
            records=tuple(
                (str(r["record"]), str(r.get("role") or "")) for r in doc.get("records") or []
            ),
        )


@dataclass(frozen=True)
class Assignment:
    """A mention a split pinned to a subject."""

    subject_id: str
    judgement: Judgement

    def match(self) -> dict[str, Any]:
        j = self.judgement
        return {"judgement": j.id, "kind": j.kind, "by": j.by, "at": j.at}


@dataclass(frozen=True)
class JudgementTable:
    rows: tuple[Judgement, ...]

    @classmethod
    def read(cls, store: GraphStore) -> JudgementTable:
        docs = store.list_docs(JUDGEMENTS).values()
        return cls(tuple(sorted((Judgement.from_doc(d) for d in docs), key=lambda j: (j.at, j.id))))

    @property
    def generation(self) -> tuple[int, str]:
        return (len(self.rows), self.rows[-1].id if self.rows else "")

    def rejections(self) -> frozenset[str]:
        out: set[str] = set()
        for j in self.rows:
            if j.kind == "reject":
                if j.a and j.b:
                    out.add(pair_id(j.a, j.b))
                if j.rejected:
                    out.add(pair_id(*j.rejected))
            elif j.kind == "split" and j.subject and j.new_subject:
                # the two halves of a split are never merged again by the scorer
                out.add(pair_id(j.subject, j.new_subject))
        return frozenset(out)

    def assignments(self) -> dict[str, Assignment]:
        out: dict[str, Assignment] = {}
        for j in self.rows:
            if j.kind == "split" and j.new_subject:
                for rid, role in j.records:
                    out[f"{rid}|{role}"] = Assignment(j.new_subject, j)
        return out

    def page(self, offset: int, limit: int) -> list[dict[str, Any]]:
        return [j.to_doc() for j in self.rows[offset : offset + limit]]
