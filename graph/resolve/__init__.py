"""Resolution: which subject each party named by a record is.

Exact keys first, then bridges between keys, then fuzzy name matching inside
blocks; judgements by reviewers override all of it. See ``resolver.py``.
"""

from graph.resolve.party import Party, Resolution

__all__ = ["Party", "Resolution"]
