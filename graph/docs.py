"""The store's document collections, each named once, and a record's id.

Documents ride in the same transaction as the graph writes they explain
(``Batch.docs``), so a load, a judgement or a repair and its paperwork are
stored together or not at all.
"""

from __future__ import annotations

QUARANTINE = "quarantine"  # record id -> the row's file, row, column and reason
REVIEW = "review"  # pair "a|b" -> a candidate pair for a reviewer, with its features
LOADS = "loads"  # "<at>|<file>" -> a load report
CHANGES = "changes"  # "<at>|<digest>" -> subjects a load or repair touched (GET /changes)
# judgement id -> one row of the judgements table (graph/resolve/judgements.py);
# what the resolver must never merge and which mentions stay split are derived
# from it, not stored beside it
JUDGEMENTS = "judgements"
PENDING = "pending_identity"  # subject id -> listings waiting on a reviewer's word


def record_id(kind: str, file: str, row: int) -> str:
    """``<feed kind>:<file name>:<data row>`` (first data row = 1): shared/domain/feeds.md."""
    return f"{kind}:{file}:{row}"


def record_parts(rid: str) -> tuple[str, str, int]:
    """(feed kind, file name, row) of a record id; a file name may hold colons."""
    kind, rest = rid.split(":", 1)
    file, row = rest.rsplit(":", 1)
    return kind, file, int(row)


def pair_id(a: str, b: str) -> str:
    """The id of a pair of subjects, whatever their order (review, rejections)."""
    return "|".join(sorted((a, b)))
