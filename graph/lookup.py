"""Finding a subject by whatever key a caller has: USCC, organisation code,
registration number, ID number (18 or 15 digits) or subject id."""

from __future__ import annotations

from graph.errors import InvalidInput, NotFound
from graph.model import Subject
from graph.store.base import GraphStore


def candidate_keys(text: str) -> list[str]:
    """Store keys that ``text`` may be, strongest first."""
    from graph.identifiers import InvalidIdentifier, parse_identifier

    try:
        ident = parse_identifier(text)
    except InvalidIdentifier:
        return []
    return ident.store_keys


def find_subject_ids(store: GraphStore, text: str) -> list[str]:
    text = text.strip()
    if not text:
        raise InvalidInput("an empty key was given")
    if len(text) > 200:
        raise InvalidInput("a key is at most 200 characters")
    resolved = store.resolve_ids([text])
    if text in resolved:
        return [resolved[text]]
    for key in candidate_keys(text):
        found = store.find_by_keys([key]).get(key)
        if found:
            return found
    return []


def get_subject(store: GraphStore, text: str) -> Subject:
    """The one subject ``text`` names; NotFound when none; InvalidInput when ambiguous."""
    ids = find_subject_ids(store, text)
    if not ids:
        raise NotFound("no subject has this key", key=text)
    if len(ids) > 1:
        raise InvalidInput(
            "this key names several subjects; ask by subject id", key=text, subjects=ids
        )
    subject = store.get_subjects(ids).get(ids[0])
    if subject is None:
        raise NotFound("no subject has this key", key=text)
    return subject
