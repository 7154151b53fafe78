"""Subset a CJK font to the characters creditlink's page and charts need.

    python scripts/font_subset.py SOURCE.ttf OUT.woff2

The set: every hanzi of GB 2312 (both levels, 6,763), ASCII, Latin-1 and
general punctuation, CJK symbols and punctuation, full-width forms, and every
character that appears in the app's own pages, labels and sample data (so a
label added later in a rarer character is covered once this is rerun). Hinting
is dropped (the page scales text; unhinted CJK renders well at these sizes),
OpenType layout features are kept. The output is deterministic (no timestamp).
"""

from __future__ import annotations

import sys
from pathlib import Path

from fontTools import subset

ROOT = Path(__file__).resolve().parent.parent
# the app's own text: whatever characters these use must render
OWN_TEXT = [
    *sorted((ROOT / "api" / "static").glob("*.*")),
    *sorted((ROOT / "graph").glob("*.yaml")),
    *sorted((ROOT / "loaders" / "feeds").glob("*.yaml")),
    ROOT / "loaders" / "sample_city.py",
]
RANGES = [
    (0x20, 0x7E),  # ASCII
    (0xA0, 0xFF),  # Latin-1 (·, ×, °, …)
    (0x2010, 0x2027),  # dashes, quotes, bullets, ellipsis
    (0x2030, 0x203B),  # per mille, primes, ※
    (0x2190, 0x2199),  # arrows
    (0x2460, 0x2473),  # circled numbers
    (0x3000, 0x303F),  # CJK symbols and punctuation (、。〔〕《》…)
    (0xFF01, 0xFF5E),  # full-width forms
    (0xFFE0, 0xFFE6),  # full-width currency
]


def gb2312_hanzi() -> set[str]:
    out: set[str] = set()
    for hi in range(0xB0, 0xF8):
        for lo in range(0xA1, 0xFF):
            try:
                out.add(bytes([hi, lo]).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    return out


def characters() -> str:
    chars = gb2312_hanzi()
    for lo, hi in RANGES:
        chars.update(chr(c) for c in range(lo, hi + 1))
    for path in OWN_TEXT:
        if path.suffix in {".js", ".html", ".css", ".md", ".yaml", ".py"}:
            chars.update(c for c in path.read_text(encoding="utf-8") if ord(c) > 0x7F)
    return "".join(sorted(c for c in chars if c.isprintable() or c == "\u3000"))


def main(source: str, target: str) -> None:
    opts = subset.Options()
    opts.flavor = "woff2" if target.endswith(".woff2") else None
    opts.layout_features = ["*"]
    opts.name_IDs = ["*"]
    opts.name_languages = ["*"]
    opts.notdef_outline = True
    opts.hinting = False
    font = subset.load_font(source, opts)
    sub = subset.Subsetter(opts)
    sub.populate(text=characters())
    sub.subset(font)
    font.recalcTimestamp = False
    subset.save_font(font, target, opts)
    cmap = font.getBestCmap()
    print(f"{target}: {len(cmap)} characters, {Path(target).stat().st_size:,} bytes")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
