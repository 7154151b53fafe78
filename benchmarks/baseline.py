"""The floor a loader is measured against: the same feed files read with plain
pandas and built into a networkx graph, with no validation, no resolution and
no provenance.

Every party becomes a node keyed by the first key cell it has (else its name);
every relation a feed declares becomes an edge; a listing becomes a node
attribute. It answers nothing creditlink answers, which is the point: the
ratio of creditlink's rows/s to this one's is what validation, identity,
evidence and durability cost.
"""

from __future__ import annotations

import time
from pathlib import Path

import networkx as nx
import pandas as pd

from loaders.mapping import kind_for_file, mappings


def read_plain(path: Path) -> pd.DataFrame:
    """One feed file as strings, read the plainest way pandas can."""
    if path.suffix == ".xlsx":
        return pd.read_excel(path, dtype=str, engine="calamine").fillna("")
    if path.suffix == ".jsonl":
        return pd.read_json(path, lines=True, dtype=str).fillna("")
    encoding = "gbk" if "gbk" in path.name else "utf-8-sig"
    return pd.read_csv(path, dtype=str, encoding=encoding, keep_default_na=False)


def build(files: list[Path]) -> tuple[nx.MultiDiGraph, int, float]:
    """(graph, rows, seconds) for reading and building the files."""
    graph = nx.MultiDiGraph()
    rows = 0
    started = time.perf_counter()
    for path in files:
        kind = kind_for_file(path.name)
        if kind is None:
            continue
        mapping = mappings()[kind]
        frame = read_plain(path)
        index = mapping.match_header(list(frame.columns), path.name)
        cols = {field: frame.columns[i] for field, i in index.items()}
        rows += len(frame)
        parties: dict[str, pd.Series] = {}
        for role, spec in mapping.parties.items():
            ids = pd.Series([""] * len(frame), index=frame.index)
            for key in reversed(spec.keys):
                if key in cols:
                    value = frame[cols[key]]
                    ids = value.where(value != "", ids)
            if spec.name in cols:
                ids = ids.where(ids != "", frame[cols[spec.name]])
            parties[role] = ids
            graph.add_nodes_from(v for v in ids.unique() if v)
        for rel in mapping.relations:
            src, tgt = parties.get(rel.source), parties.get(rel.target)
            if src is None or tgt is None:
                continue
            kind_of = rel.type or rel.type_default or "related"
            graph.add_edges_from(
                (s, t, {"type": kind_of}) for s, t in zip(src, tgt, strict=True) if s and t
            )
        if mapping.listing is not None and mapping.listing.subject in parties:
            for sid in parties[mapping.listing.subject]:
                if sid:
                    graph.nodes[sid].setdefault("listings", []).append(kind)
    return graph, rows, time.perf_counter() - started
