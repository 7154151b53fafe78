"""Pictures for the analysts' notebooks: matplotlib with the page's CJK font,
and subject graphs drawn the way the investigator page draws them (node
colour by risk, shape by subject type, edge colour and dash by relation).

The font is the one the page bundles (api/static/vendor/noto-sans-sc, a GB 2312
subset of Noto Sans SC under the OFL), so charts need no system font either.
It ships as WOFF2 for the browser; matplotlib reads TrueType, so the first
use decompresses it (fontTools, brotli) into a cache file keyed by its digest.
matplotlib is an optional dependency (``pip install -e '.[notebooks]'``):
importing this module is what needs it.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import matplotlib
import matplotlib.pyplot as plt
import networkx as nx
from matplotlib import font_manager
from matplotlib.axes import Axes
from matplotlib.lines import Line2D

from graph.vocabulary import style

FONT_WOFF2 = (
    Path(__file__).resolve().parent.parent
    / "api"
    / "static"
    / "vendor"
    / "noto-sans-sc"
    / "NotoSansSC-Regular.subset.woff2"
)

# The page's drawing table (graph/style.yaml), so that a notebook's picture
# reads like the investigator's graph. A figure's lines are a little thinner
# than the page's (points on paper, not pixels on a screen).
_STYLE = style()
RISK_COLOURS = {
    risk: s.get("fill") or s["tint"]
    for risk, s in _STYLE["risk"].items()
    if s.get("fill") or s.get("tint")
}
TYPE_COLOURS = {t: s["fill"] for t, s in _STYLE["subject_types"].items()}
TYPE_MARKERS = {t: s["marker"] for t, s in _STYLE["subject_types"].items()}
MARKS: dict[str, str] = dict(_STYLE["marks"])
_LINE_SCALE = 0.8
# (colour, matplotlib line style, width)
RELATION_STYLES: dict[str, tuple[str, Any, float]] = {
    rel: (s["color"], s["line"], s["width"] * _LINE_SCALE)
    for rel, s in _STYLE["relation_types"].items()
}
OTHER_RELATION: tuple[str, Any, float] = (
    _STYLE["other_relation"]["color"],
    _STYLE["other_relation"]["line"],
    _STYLE["other_relation"]["width"] * _LINE_SCALE,
)


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    path = Path(base) / "creditlink" / "fonts"
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:  # a read-only home (some CI sandboxes)
        path = Path(tempfile.gettempdir()) / "creditlink-fonts"
        path.mkdir(parents=True, exist_ok=True)
    return path


def cjk_font_file() -> Path:
    """The bundled font as TrueType, decompressed once and cached."""
    data = FONT_WOFF2.read_bytes()
    target = _cache_dir() / f"NotoSansSC-subset-{hashlib.sha256(data).hexdigest()[:16]}.ttf"
    if not target.exists():
        from fontTools.ttLib import TTFont

        font = TTFont(FONT_WOFF2)
        font.flavor = None
        tmp = target.with_suffix(f".{os.getpid()}.tmp")
        font.save(tmp)
        os.replace(tmp, target)  # concurrent notebooks: each writes its own, one wins
    return target


def use_cjk_font() -> str:
    """Makes the bundled CJK font matplotlib's default; returns its family name."""
    path = cjk_font_file()
    font_manager.fontManager.addfont(str(path))
    name = font_manager.FontProperties(fname=str(path)).get_name()
    matplotlib.rcParams["font.family"] = [name, "DejaVu Sans"]
    matplotlib.rcParams["axes.unicode_minus"] = False  # the subset's minus sign is not U+2212
    matplotlib.rcParams["figure.dpi"] = 110
    return name


def short(name: str, n: int = 10) -> str:
    return name if len(name) <= n else name[:n] + "…"


def draw_subjects(
    g: nx.Graph,
    ax: Axes | None = None,
    *,
    risk: Mapping[str, str] | None = None,
    centre: str | None = None,
    highlight: Iterable[str] = (),
    title: str | None = None,
    seed: int = 7,
    edge_labels: bool = True,
    legend: bool = True,
) -> Axes:
    """Draws subjects (nodes with ``name`` and ``type``) and relations (edges with
    ``relation``; several between a pair are drawn as one with the labels joined),
    coloured as on the page. Returns the axes; ``ax.collections`` hold the nodes."""
    ax = ax or plt.subplots(figsize=(9, 7))[1]
    risk = risk or {}
    marked = set(highlight)
    simple = nx.Graph()
    simple.add_nodes_from(g.nodes(data=True))
    for u, v, data in g.edges(data=True):
        if simple.has_edge(u, v):
            simple.edges[u, v]["relations"].append(data.get("relation", ""))
        else:
            simple.add_edge(u, v, relations=[data.get("relation", "")])
    pos = nx.spring_layout(simple, seed=seed, k=1.6 / max(len(simple) ** 0.5, 1))
    for u, v, data in simple.edges(data=True):
        first = sorted(
            data["relations"],
            key=lambda r: list(RELATION_STYLES).index(r) if r in RELATION_STYLES else 99,
        )[0]
        colour, line, width = RELATION_STYLES.get(first, OTHER_RELATION)
        if {u, v} <= marked:
            colour, width = MARKS["path"], width + 2
        ax.plot(
            [pos[u][0], pos[v][0]], [pos[u][1], pos[v][1]],
            color=colour, linestyle=line, linewidth=width, zorder=1,
        )  # fmt: skip
    for kind, marker in TYPE_MARKERS.items():
        nodes = [n for n, d in simple.nodes(data=True) if d.get("type") == kind]
        if not nodes:
            continue
        colours = [RISK_COLOURS.get(risk.get(n, "clear"), TYPE_COLOURS[kind]) for n in nodes]
        edges = [
            MARKS["centre"] if n == centre else MARKS["path"] if n in marked else "white"
            for n in nodes
        ]
        ax.scatter(
            [pos[n][0] for n in nodes], [pos[n][1] for n in nodes],
            s=[420 if n == centre else 260 for n in nodes], c=colours, marker=marker,
            edgecolors=edges, linewidths=[3 if n == centre or n in marked else 1 for n in nodes],
            zorder=2,
        )  # fmt: skip
    for n, d in simple.nodes(data=True):
        ax.annotate(
            short(d.get("name", n)), pos[n], xytext=(0, -14), textcoords="offset points",
            ha="center", va="top", fontsize=8, zorder=3,
            bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.8},
        )  # fmt: skip
    if edge_labels and len(simple) <= 30:
        from graph.vocabulary import vocabulary

        labels = {k: v["label"] for k, v in vocabulary()["relation_types"].items()}
        for u, v, data in simple.edges(data=True):
            text = " / ".join(dict.fromkeys(labels.get(r, r) for r in data["relations"]))
            mid = (pos[u] + pos[v]) / 2
            ax.text(mid[0], mid[1], text, fontsize=6.5, color="#3e4c59", ha="center", zorder=2)
    if legend:
        ax.legend(
            handles=legend_handles(), loc="upper left", bbox_to_anchor=(1.0, 1.0),
            fontsize=7, frameon=False,
        )  # fmt: skip
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return ax


def legend_handles() -> list[Any]:
    from graph.vocabulary import vocabulary

    vocab = vocabulary()
    out: list[Any] = []
    for kind, marker in TYPE_MARKERS.items():
        out.append(Line2D([], [], marker=marker, color="w", markerfacecolor=TYPE_COLOURS[kind],
                          markersize=8, label=vocab["subject_types"][kind]["label"]))  # fmt: skip
    for level, colour in RISK_COLOURS.items():
        out.append(Line2D([], [], marker="o", color="w", markerfacecolor=colour, markersize=8,
                          label=vocab["risk"][level]))  # fmt: skip
    for rel, (colour, line, width) in RELATION_STYLES.items():
        out.append(Line2D([], [], color=colour, linestyle=line, linewidth=width,
                          label=vocab["relation_types"][rel]["label"]))  # fmt: skip
    return out
