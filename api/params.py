"""Parameters shared by several routers, declared once for the OpenAPI schema."""

from __future__ import annotations

from fastapi import Path

SUBJECT_KEY = Path(
    description="USCC, organisation code, registration number, ID number or subject id",
    examples=["91411403MA9GKJ1F86"],
    max_length=200,
)
