"""Parameters shared by several routers, declared once for the OpenAPI schema,
and the checks of paging parameters against the settings."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path

from graph.errors import InvalidInput, LimitExceeded
from graph.model import model
from graph.settings import Settings

SubjectKey = Annotated[
    str,
    Path(
        description="USCC, organisation code, registration number, ID number or subject id",
        examples=["91411403MA9GKJ1F86"],
        max_length=200,
    ),
]

# Deeper offsets are refused: a caller paging that far should narrow the query.
MAX_OFFSET = 100_000


def check_page(limit: int, offset: int, settings: Settings) -> None:
    if limit > settings.max_page_size:
        raise LimitExceeded(
            f"limit is at most {settings.max_page_size}", parameter="limit", value=limit
        )
    if offset > MAX_OFFSET:
        raise LimitExceeded(f"offset is at most {MAX_OFFSET}", parameter="offset", value=offset)


def check_depth(depth: int, settings: Settings, name: str) -> None:
    if depth > settings.max_depth:
        raise LimitExceeded(f"{name} is at most {settings.max_depth}", parameter=name, value=depth)


def check_relations(relation: list[str] | None) -> list[str] | None:
    if not relation:
        return None
    known = model().relation_types
    unknown = sorted(set(relation) - set(known))
    if unknown:
        raise InvalidInput(
            "unknown relation type(s)", parameter="relation", unknown=unknown, known=sorted(known)
        )
    return sorted(set(relation))
