"""``creditlink judge``, ``review`` and ``quality``."""

from __future__ import annotations

import argparse
import getpass
import json
from typing import Any

from graph.settings import get_settings
from graph.store import open_store


def _print_json(obj: Any) -> None:
    print(json.dumps(obj, ensure_ascii=False, default=str, indent=1))


def cmd_judge(args: argparse.Namespace) -> int:
    from graph.resolve.judgements import judge, list_judgements

    # Listing is a read: it runs beside a serving process (no writer lock).
    store = open_store(get_settings(), read_only=args.judge_cmd == "list")
    try:
        if args.judge_cmd == "list":
            _print_json(list_judgements(store, 0, 10_000))
            return 0
        payload: dict[str, Any] = {"kind": args.judge_cmd, "note": args.note}
        if args.judge_cmd == "split":
            payload.update(subject=args.subject, records=args.records)
        else:
            payload.update(a=args.a, b=args.b)
        # Terminal judgements are signed by the operating-system user.
        result = judge(store, payload, by=args.by or f"cli:{getpass.getuser()}")
    finally:
        store.close()
    _print_json(result)
    return 0


def cmd_review(args: argparse.Namespace) -> int:
    from graph.resolve.judgements import review_queue

    settings = get_settings()
    store = open_store(settings, read_only=True)
    try:
        page = review_queue(store, settings, args.offset, args.limit)
    finally:
        store.close()
    if args.json:
        _print_json(page)
        return 0
    print(f"{page['total']} open candidate pairs (most uncertain first)")
    for item in page["items"]:
        a, b = item.get("a_subject") or {}, item.get("b_subject") or {}
        feats = ", ".join(f"{k}={v}" for k, v in sorted(item["features"].items()))
        print(f"{item['score']:.3f}  {a.get('name', item['a'])} <> {b.get('name', item['b'])}")
        print(f"       {item['a']} {item['b']}  record {item['record']} ({item['role']})")
        print(f"       {feats}")
    return 0


def cmd_quality(args: argparse.Namespace) -> int:
    from graph.quality import quality_report

    store = open_store(get_settings(), read_only=True)
    try:
        report = quality_report(store)
    finally:
        store.close()
    if args.json:
        _print_json(report)
        return 0
    print(
        f"{'feed':<20} {'department':<24} {'records':>7} {'valid%':>7} {'invalid':>7} "
        f"{'conflict':>8} {'unres.':>6} {'≤7wd%':>6}"
    )
    for g in report["departments"]:
        t = g.get("timeliness") or {}
        share = f"{100 * t['share_within_target']:.0f}" if t else "-"
        print(
            f"{g['feed']:<20} {g['department'][:24]:<24} {g['records']:>7} "
            f"{100 * (g['valid_key_share'] or 0):>6.1f}% {g['invalid_codes']:>7} "
            f"{g['conflicting_codes']:>8} {g['unresolved']:>6} {share:>6}"
        )
    c = report["conflicting_codes"]
    print(
        f"重错码: {len(c['uscc_with_unrelated_names'])} USCCs with unrelated names, "
        f"{len(c['name_with_several_usccs'])} names with several USCCs"
    )
    return 0


def register(sub: Any, handlers: dict[str, Any]) -> None:
    p = sub.add_parser("judge", help="confirm, reject or split; list judgements")
    js = p.add_subparsers(dest="judge_cmd", required=True)
    for kind, text in (("confirm", "the two are one subject"), ("reject", "never one subject")):
        c = js.add_parser(kind, help=text)
        c.add_argument("a")
        c.add_argument("b")
        c.add_argument("--note")
        c.add_argument("--by", help="who judges (default: cli:<os user>)")
    s = js.add_parser("split", help="move records' mentions of a subject to a new subject")
    s.add_argument("subject")
    s.add_argument("records", nargs="+", help="record id, or 'record id|role'")
    s.add_argument("--note")
    s.add_argument("--by")
    js.add_parser("list", help="every judgement, oldest first (JSON)")
    handlers["judge"] = cmd_judge

    p = sub.add_parser("review", help="open candidate pairs, most uncertain first")
    p.add_argument("--json", action="store_true")
    p.add_argument("--offset", type=int, default=0)
    p.add_argument("--limit", type=int, default=50)
    handlers["review"] = cmd_review

    p = sub.add_parser("quality", help="department data quality")
    p.add_argument("--json", action="store_true")
    handlers["quality"] = cmd_quality
