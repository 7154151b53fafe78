"""Posting lists of the embedded store's indexes, and the bigrams of names.

Why a module of its own: every index (keys, name bigrams, listings by
subject, number, kind and party) maps a key to the ids under it, and at city
scale most keys have one id. A posting is therefore the id itself (the
node's own key object, not a copy) and becomes a list only when a second id
joins it, which saves a list per key.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable

Postings = dict[str, str | list[str]]


def post_add(index: Postings, key: str, sid: str) -> None:
    # Callers add an id only when it is not there yet (they index deltas).
    cur = index.get(key)
    if cur is None:
        index[key] = sid
    elif isinstance(cur, str):
        index[key] = [cur, sid]
    else:
        cur.append(sid)


def post_remove(index: Postings, key: str, sid: str) -> None:
    cur = index.get(key)
    if cur is None:
        return
    if isinstance(cur, str):
        if cur == sid:
            del index[key]
        return
    with contextlib.suppress(ValueError):
        cur.remove(sid)
    if len(cur) == 1:
        index[key] = cur[0]
    elif not cur:
        del index[key]


def post_get(index: Postings, key: str) -> list[str]:
    cur = index.get(key)
    if cur is None:
        return []
    if isinstance(cur, str):
        return [cur]
    return list(cur)


def bigrams(text: str) -> set[str]:
    """The two-character pieces of a name (the name itself when shorter)."""
    return {text[i : i + 2] for i in range(len(text) - 1)} if len(text) > 1 else {text}


def grams_of(norms: Iterable[str]) -> set[str]:
    out: set[str] = set()
    for n in norms:
        out |= bigrams(n)
    return out
