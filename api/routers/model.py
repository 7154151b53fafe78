"""``GET /model``: every code the API returns, with its Chinese label.

The investigator page reads its labels here (one table, not a copy in
JavaScript); any caller with a valid key may read it.
"""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import ModelCaller, VocabularyJSONResponse
from api.schemas import Vocabulary
from graph.vocabulary import vocabulary
from loaders import feed_labels

router = APIRouter(tags=["model"])


@router.get(
    "/model",
    summary="The model's vocabulary with Chinese labels: types, relations, listings, feeds, "
    "measures, rules, roles, attributes, statuses",
    description=(
        "One table of the codes that other answers carry (`relation`, `feed`, `measure`, "
        "`rule`, `role`, attribute names and values, statuses, risk levels) and their "
        "labels, from graph/model.yaml, graph/rules.yaml, graph/labels.yaml and the feed "
        "mappings. Any valid key may read it."
    ),
    response_class=VocabularyJSONResponse,
    response_model_exclude_unset=True,
)
def get_model(_: ModelCaller) -> Vocabulary:
    return Vocabulary.model_validate({**vocabulary(), "feeds": feed_labels()})
