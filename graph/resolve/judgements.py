"""Judgements: a reviewer confirms or rejects a candidate pair, or splits a
wrong merge (nomenklatura's resolver model: the scorer proposes, people decide).

Every judgement is one typed row of the judgements table
(graph/resolve/table.py), written in the same transaction as its effect, with
who made it, when and why, and outlives reloads:

- confirm: the two subjects are merged (``store.merge_subjects``); the merged
  id redirects to the survivor, and the resolver follows redirects, so a
  reloaded record lands on the survivor;
- reject: the scorer never merges the pair (the table's ``rejections``);
- split: the chosen (record, role) mentions move to a new subject
  (``store.move_mentions``); the table's ``assignments`` pin them there on
  reload and keep the scorer from merging the two again.

A request is typed too (``Confirm``, ``Reject``, ``Split``); ``judge`` parses the
API's and the CLI's JSON into one and applies it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from graph.docs import JUDGEMENTS, REVIEW, pair_id
from graph.errors import InvalidInput, NotFound
from graph.model import Mention, Subject, stable_id
from graph.names import normalise_name
from graph.resolve.table import Judgement, JudgementTable
from graph.settings import Settings
from graph.store.base import Batch, DocWrite, GraphStore


@dataclass(frozen=True)
class Confirm:
    a: str
    b: str
    note: str | None = None


@dataclass(frozen=True)
class Reject:
    a: str
    b: str
    note: str | None = None


@dataclass(frozen=True)
class Split:
    subject: str
    # (record id, role): role "" moves every mention of the subject in the record
    records: tuple[tuple[str, str], ...]
    note: str | None = None


Request = Confirm | Reject | Split


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _subject(store: GraphStore, sid: str) -> Subject:
    resolved = store.resolve_ids([sid]).get(sid)
    subj = store.get_subjects([resolved]).get(resolved) if resolved else None
    if subj is None:
        raise NotFound("no such subject", subject=sid)
    return subj


def _row(j: Judgement) -> DocWrite:
    return (JUDGEMENTS, j.id, j.to_doc())


def _close_review(store: GraphStore, a: str, b: str, status: str, jid: str) -> list[DocWrite]:
    pid = pair_id(a, b)
    found = store.get_docs(REVIEW, [pid]).get(pid)
    if found is None:
        return []
    return [(REVIEW, pid, {**found, "status": status, "judgement": jid})]


def _rematched(
    store: GraphStore,
    subject_id: str,
    record_roles: set[tuple[str, str]] | None,
    match: dict[str, Any],
) -> list[Any]:
    """Records whose mentions a judgement re-pointed, with the match saying so
    (the earlier match is kept under ``previous``)."""
    out = []
    for rec in store.records_of(subject_id):
        changed = False
        mentions: list[Mention] = []
        for m in rec.mentions:
            if m.subject_id == subject_id and (
                record_roles is None or (rec.id, m.role) in record_roles
            ):
                prev = (
                    m.match.get("previous", m.match)
                    if m.match.get("method") == "judgement"
                    else m.match
                )
                m = Mention(m.subject_id, m.role, {**match, "previous": prev})
                changed = True
            mentions.append(m)
        if changed:
            rec.mentions = mentions
            out.append(rec)
    return out


NEVER_ONE = (
    ("uscc", "USCCs"),
    ("reg_no", "registration numbers"),
    ("org_code", "organisation codes"),
    ("id_number", "ID numbers"),
)


def confirm(store: GraphStore, a: str, b: str, by: str, note: str | None = None) -> dict[str, Any]:
    """The two are one subject."""
    sa, sb = _subject(store, a), _subject(store, b)
    if sa.id == sb.id:
        raise InvalidInput("the two are already one subject", subject=sa.id)
    if sa.type != sb.type:
        raise InvalidInput("an organisation and a person are never one subject", a=a, b=b)
    # Two valid keys of one kind that differ are two subjects (identifiers.md),
    # whoever says otherwise: the resolver never pairs them, nor may a reviewer.
    for kind, what in NEVER_ONE:
        ka, kb = set(sa.key_values(kind)), set(sb.key_values(kind))
        if ka and kb and not ka & kb:
            # an ID number is personal data: the refusal names the subjects only
            shown = {"a": sorted(ka), "b": sorted(kb)} if kind != "id_number" else {"a": a, "b": b}
            raise InvalidInput(f"two different {what} are never one subject", key=kind, **shown)
    # The survivor is the one with more keys (the registered enterprise), so
    # that its id, which departments may have stored, stays.
    survivor, merged = sorted((sa, sb), key=lambda s: (-len(s.keys), s.id))
    at = _now()
    jid = stable_id("J", "confirm", survivor.id, merged.id, at)
    row = Judgement(jid, "confirm", by, at, note, a=a, b=b, survivor=survivor.id, merged=merged.id)
    match = {"method": "judgement", "judgement": jid, "kind": "confirm", "by": by, "at": at}
    records = _rematched(store, merged.id, None, match)
    docs = [_row(row)]
    docs += _close_review(store, sa.id, sb.id, "confirmed", jid)
    docs += _close_review(store, a, b, "confirmed", jid)
    # The merge and its judgement commit together: a crash can no longer leave
    # a merge nobody recorded, nor a judgement whose merge never happened.
    store.merge_subjects(survivor.id, merged.id, docs=docs)
    for rec in records:
        for m in rec.mentions:
            if m.subject_id == merged.id:
                m.subject_id = survivor.id
    # Only the match provenance of the mentions is written afterwards; a crash
    # here loses that annotation, never the merge or the judgement.
    store.write(Batch(records=records))
    return row.to_doc()


def reject(store: GraphStore, a: str, b: str, by: str, note: str | None = None) -> dict[str, Any]:
    sa, sb = _subject(store, a), _subject(store, b)
    if sa.id == sb.id:
        raise InvalidInput(
            "the two are one subject now; split it instead (kind: split)", subject=sa.id
        )
    at = _now()
    jid = stable_id("J", "reject", pair_id(sa.id, sb.id), at)
    row = Judgement(jid, "reject", by, at, note, a=a, b=b, rejected=(sa.id, sb.id))
    docs = [_row(row)]
    docs += _close_review(store, sa.id, sb.id, "rejected", jid)
    docs += _close_review(store, a, b, "rejected", jid)
    store.write(Batch(docs=docs))
    return row.to_doc()


def parse_records(records: list[Any]) -> tuple[tuple[str, str], ...]:
    """Record ids, ``"record id|role"`` strings or ``{"record", "role"}`` objects."""
    out: list[tuple[str, str]] = []
    for r in records:
        if isinstance(r, dict):
            rid, role = str(r.get("record") or r.get("id") or ""), r.get("role")
        else:
            rid, _, role = str(r).rpartition("|") if "|" in str(r) else (str(r), "", None)
        if not rid:
            raise InvalidInput("a record to split off has no id", value=r)
        out.append((rid, str(role) if role else ""))
    return tuple(out)


def split(
    store: GraphStore,
    subject: str,
    records: tuple[tuple[str, str], ...],
    by: str,
    note: str | None = None,
) -> dict[str, Any]:
    """Move the given records' mentions of ``subject`` to a new subject
    (role "": every mention of the subject in that record)."""
    if not records:
        raise InvalidInput("name at least one record to split off")
    source = _subject(store, subject)
    wanted = records
    recs = store.get_records([rid for rid, _ in wanted])
    moving: list[tuple[str, str]] = []
    for rid, role in wanted:
        rec = recs.get(rid)
        if rec is None:
            raise NotFound("no such record", record=rid)
        roles = [m.role for m in rec.mentions if m.subject_id == source.id and role in ("", m.role)]
        if not roles:
            raise InvalidInput("the record does not name this subject", record=rid, role=role)
        moving += [(rid, r) for r in roles]
    moving = sorted(set(moving))
    all_mentions = {
        (r.id, m.role)
        for r in store.records_of(source.id)
        for m in r.mentions
        if m.subject_id == source.id
    }
    if set(moving) >= all_mentions:
        raise InvalidInput("a split must leave at least one record with the subject")
    at = _now()
    new_id = stable_id("S", "split", source.id, *[f"{r}|{role}" for r, role in moving])
    names: list[str] = []
    keys: list[str] = []
    for rid, role in moving:
        party = (recs[rid].cleaned.get("parties") or {}).get(role) or {}
        if party.get("name"):
            names.append(str(party["name"]))
        # A key the source keeps would make both subjects answer to it.
        keys += [k for k in party.get("keys") or [] if k not in source.keys]
    names = list(dict.fromkeys(names))
    new = Subject(
        id=new_id,
        type=source.type,
        name=names[0] if names else "",
        names=names,
        norm_names=[normalise_name(n) for n in names],
        keys=list(dict.fromkeys(keys)),
        attrs={"split_from": source.id},
    )
    jid = stable_id("J", "split", new_id, at)
    row = Judgement(
        jid, "split", by, at, note, subject=source.id, new_subject=new_id, records=tuple(moving)
    )
    match = {"method": "judgement", "judgement": jid, "kind": "split", "by": by, "at": at}
    # The split commits with its row of the table (from which the assignments
    # and the rejection are derived), so a reload after a crash never re-merges
    # a split that was done.
    store.move_mentions(moving, source.id, new, docs=[_row(row)])
    # Read after the move: the mentions to annotate are the new subject's.
    # As in confirm, only that annotation is a separate write.
    rewritten = _rematched(store, new_id, set(moving), match)
    store.write(Batch(records=rewritten))
    return row.to_doc()


def parse_request(payload: dict[str, Any]) -> Request:
    """The API's and the CLI's JSON (``{"kind": ..., ...}``) as a typed request."""
    kind, note = payload.get("kind"), payload.get("note")
    if kind in ("confirm", "reject"):
        a, b = payload.get("a"), payload.get("b")
        if not a or not b:
            raise InvalidInput(f"a {kind} judgement names two subjects: a and b")
        return (Confirm if kind == "confirm" else Reject)(str(a), str(b), note)
    if kind == "split":
        subject = payload.get("subject")
        if not subject:
            raise InvalidInput("a split names the subject to split")
        return Split(str(subject), parse_records(list(payload.get("records") or [])), note)
    raise InvalidInput("kind must be confirm, reject or split", kind=kind)


def apply(store: GraphStore, request: Request, by: str) -> dict[str, Any]:
    match request:
        case Confirm(a, b, note):
            return confirm(store, a, b, by, note)
        case Reject(a, b, note):
            return reject(store, a, b, by, note)
        case Split(subject, records, note):
            return split(store, subject, records, by, note)


def judge(store: GraphStore, payload: dict[str, Any], by: str) -> dict[str, Any]:
    """Apply one judgement given as ``{"kind": ..., ...}`` (API and CLI)."""
    return apply(store, parse_request(payload), by)


def list_judgements(store: GraphStore, offset: int = 0, limit: int = 50) -> dict[str, Any]:
    table = JudgementTable.read(store)
    return {
        "total": len(table.rows),
        "offset": offset,
        "limit": limit,
        "items": table.page(offset, limit),
    }


def review_queue(
    store: GraphStore, settings: Settings, offset: int = 0, limit: int = 50
) -> dict[str, Any]:
    """Open candidate pairs, most uncertain first (closest to the merge threshold)."""
    docs = {pid: d for pid, d in store.list_docs(REVIEW).items() if d.get("status") == "open"}
    ends = {x for d in docs.values() for x in (d["a"], d["b"])}
    now = store.resolve_ids(ends)
    rejected = JudgementTable.read(store).rejections()
    items: list[dict[str, Any]] = []
    for pid, d in docs.items():
        a, b = now.get(d["a"]), now.get(d["b"])
        # Stale pairs: one side gone, already merged, or already rejected.
        if a is None or b is None or a == b or pair_id(a, b) in rejected or pid in rejected:
            continue
        items.append(
            {
                "pair": pid,
                "a": a,
                "b": b,
                "score": d["score"],
                "uncertainty": round(abs(float(d["score"]) - settings.match_merge_threshold), 4),
                "features": d.get("features") or {},
                "record": d.get("record"),
                "role": d.get("role"),
                "created_at": d.get("created_at"),
            }
        )
    items.sort(key=lambda x: (x["uncertainty"], x["pair"]))
    page = items[offset : offset + limit]
    subjects = store.get_subjects({x for i in page for x in (i["a"], i["b"])})
    for item in page:
        for side in ("a", "b"):
            s = subjects.get(item[side])
            item[f"{side}_subject"] = (
                {"id": s.id, "type": s.type, "name": s.name, "keys": list(s.keys)} if s else None
            )
    return {"total": len(items), "offset": offset, "limit": limit, "items": page}
