"""The score of `make mutation`, per module group, and the survivors nobody explained.

mutmut keeps one verdict per mutant in ``mutants/<file>.meta``. This script

- ``--retest-survivors``: forgets the verdict of every mutant that was not
  killed, so that the next ``mutmut run`` tries it against the tests as they
  are now (mutmut itself keeps a verdict until the function changes);
- otherwise prints killed / survived / timeout / suspicious / no tests per
  module group, and every surviving mutant that ``docs/mutation.md`` does not
  list as equivalent or as no decision, with its diff command. It exits 1 when
  there is one: a surviving mutant in a rule that decides who is punished or
  merged is a missing test.

``docs/mutation.md`` lists accepted survivors in tables whose rows read
``| `module:function` | 3, 7-9 | why |`` (``all`` for every mutant of the
function; ``Class.method`` for methods).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MUTANTS = ROOT / "mutants"
DOC = ROOT / "docs" / "mutation.md"
GROUPS = {
    "graph/propagate/": "graph/propagate/",
    "graph/resolve/": "graph/resolve/",
    "graph/evidence/": "graph/evidence/",
    "graph/control.py": "graph/control.py",
    "graph/checks.py": "graph/checks.py",
    "loaders/pipeline.py": "loaders/pipeline.py",
}
# mutmut's exit codes (mutmut.stats.status_by_exit_code) folded into the columns shown
STATUS = {1: "killed", 3: "killed", 0: "survived", 5: "no tests", 33: "no tests",
          34: "skipped", 35: "suspicious", 36: "timeout", 24: "timeout", -24: "timeout",
          152: "timeout", 255: "timeout", 37: "killed"}  # fmt: skip
COLUMNS = ("killed", "survived", "timeout", "suspicious", "no tests", "not checked")
UNEXPLAINED = ("survived", "suspicious", "no tests", "not checked")
ROW = re.compile(r"^\|\s*`([\w.]+):([\w.]+)`\s*\|\s*([^|]+?)\s*\|")


def status(code: int | None) -> str:
    return "not checked" if code is None else STATUS.get(code, "suspicious")


def metas() -> list[tuple[str, Path]]:
    out = []
    for meta in sorted(MUTANTS.rglob("*.py.meta")):
        source = str(meta.relative_to(MUTANTS))[: -len(".meta")]
        group = next((g for prefix, g in GROUPS.items() if source.startswith(prefix)), None)
        if group is not None:
            out.append((group, meta))
    return out


def function_of(mutant: str) -> tuple[str, str, int]:
    """``graph.x.xǁCǁm__mutmut_3`` -> (``graph.x``, ``C.m``, 3)."""
    head, _, number = mutant.partition("__mutmut_")
    module, _, mangled = head.rpartition(".")
    name = mangled[2:] if mangled.startswith("x_") else mangled[1:].replace("ǁ", ".").strip(".")
    return module, name, int(number)


def numbers(text: str) -> set[int] | None:
    """``3, 7-9`` -> {3, 7, 8, 9}; ``all`` -> None (every mutant)."""
    if text.strip() == "all":
        return None
    out: set[int] = set()
    for part in text.split(","):
        lo, _, hi = part.strip().partition("-")
        out.update(range(int(lo), int(hi or lo) + 1))
    return out


def accepted() -> dict[tuple[str, str], set[int] | None]:
    out: dict[tuple[str, str], set[int] | None] = {}
    for line in DOC.read_text(encoding="utf-8").splitlines() if DOC.exists() else []:
        m = ROW.match(line)
        if m is None:
            continue
        key, nums = (m.group(1), m.group(2)), numbers(m.group(3))
        have = out.get(key, set())
        out[key] = None if nums is None or have is None else have | nums
    return out


def retest_survivors() -> int:
    count = 0
    for _group, meta in metas():
        data = json.loads(meta.read_text())
        codes = data["exit_code_by_key"]
        for key, code in codes.items():
            if code is not None and status(code) != "killed" and status(code) != "timeout":
                codes[key] = None
                count += 1
        meta.write_text(json.dumps(data, indent=4))
    print(f"{count} mutants not killed last time will be tried again")
    return 0


def report() -> int:
    found = metas()
    if not found:
        print("no results in mutants/: run `make mutation`")
        return 1
    ok = accepted()
    per_group: dict[str, Counter[str]] = {}
    open_: dict[tuple[str, str], list[int]] = {}
    explained: Counter[str] = Counter()
    used: set[tuple[str, str]] = set()
    for group, meta in found:
        counts = per_group.setdefault(group, Counter())
        for mutant, code in json.loads(meta.read_text())["exit_code_by_key"].items():
            st = status(code)
            counts[st] += 1
            if st not in UNEXPLAINED:
                continue
            module, name, n = function_of(mutant)
            allowed = ok.get((module, name), set())
            if allowed is None or n in allowed:
                explained[group] += 1
                used.add((module, name))
            else:
                open_.setdefault((module, name), []).append(n)
    head = f"{'module group':<22}" + "".join(f"{c:>13}" for c in COLUMNS)
    print(head + f"{'score':>8}{'explained':>11}")
    total: Counter[str] = Counter()
    for group in GROUPS.values():
        counts = per_group.get(group, Counter())
        total.update(counts)
        print(_line(group, counts) + f"{explained[group]:>11}")
    print(_line("all", total) + f"{sum(explained.values()):>11}")
    print("score: (killed + timeout) / mutants tried; explained: survivors docs/mutation.md "
          "lists as equivalent or as no decision")  # fmt: skip
    stale = sorted(k for k in ok if k not in used)
    if stale:
        print(f"\ndocs/mutation.md lists {len(stale)} functions with no survivor now:")
        for module, name in stale:
            print(f"  {module}:{name}")
    if not open_:
        print("\nno unexplained survivor")
        return 0
    n = sum(len(v) for v in open_.values())
    print(
        f"\n{n} surviving mutants nobody explained (a missing test, or a row for docs/mutation.md):"
    )
    for (module, name), nums in sorted(open_.items()):
        print(f"  {module}:{name}  {_ranges(sorted(nums))}")
    print("see one: .venv/bin/mutmut show <module>.x_<function>__mutmut_<n> "
          "(methods: <module>.xǁ<Class>ǁ<method>__mutmut_<n>)")  # fmt: skip
    return 1


def _line(label: str, counts: Counter[str]) -> str:
    tried = sum(counts[c] for c in COLUMNS if c not in ("no tests", "not checked"))
    score = (counts["killed"] + counts["timeout"]) / tried if tried else 0.0
    return f"{label:<22}" + "".join(f"{counts[c]:>13}" for c in COLUMNS) + f"{score:>8.1%}"


def _ranges(nums: list[int]) -> str:
    out: list[str] = []
    start = prev = nums[0]
    for x in [*nums[1:], None]:
        if x is not None and x == prev + 1:
            prev = x
            continue
        out.append(str(start) if start == prev else f"{start}-{prev}")
        if x is not None:
            start = prev = x
    return ", ".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--retest-survivors", action="store_true")
    args = parser.parse_args(argv)
    return retest_survivors() if args.retest_survivors else report()


if __name__ == "__main__":
    sys.exit(main())
