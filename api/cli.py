"""The ``creditlink`` command line."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from typing import Any

from api.keys import ROLES
from graph.errors import CreditlinkError
from graph.settings import get_settings

Handler = Callable[[argparse.Namespace], int]


def _print_json(obj: Any) -> None:
    print(json.dumps(obj, ensure_ascii=False, default=str))


def page_note(url: str, key: str, created: bool, kept: str) -> str:
    """What ``make run`` prints once the server is ready: where to go, the key to
    paste, and a first query with the Chinese percent-encoded by curl."""
    how = "created now" if created else "the one created before, reused"
    return "\n".join(
        [
            "",
            "=" * 72,
            f"creditlink is ready: open {url}/ and paste the key",
            f"investigator API key ({how}; kept in {kept}):",
            f"  {key}",
            "try:",
            f'  curl -sG -H "Authorization: Bearer {key}" \\',
            f"       --data-urlencode 'q=商丘' {url}/subjects/search",
            f"API docs (offline): {url}/docs    stop: Ctrl-C",
            "=" * 72,
            "",
        ]
    )


def cmd_serve(args: argparse.Namespace) -> int:
    from api.app import create_app
    from api.keys import KeyStore
    from api.server import serve
    from graph.store import open_store
    from loaders import handoff

    settings = get_settings()
    host = args.host or settings.host
    port = args.port or settings.port
    # Where this machine reaches the server: a wildcard address is not one.
    shown = {"0.0.0.0": "127.0.0.1", "::": "[::1]"}.get(host, host)
    url = f"http://{shown}:{port}"
    page = None
    if args.page_key:
        keys = KeyStore(settings.data_dir)
        _, key, created = keys.ensure("investigator", args.page_key)
        page = page_note(url, key, created, str(keys.kept_key_path(args.page_key)))

    # Opened here, before the server starts, so that a store another process
    # writes to (the embedded store's writer lock) is a one-line refusal naming
    # that process, not a traceback from the server's start-up.
    store = open_store(settings)
    store_dir = settings.data_dir / "store" if settings.is_embedded else None
    try:
        app = create_app(settings, store=store)

        def ready() -> None:
            if store_dir is not None:
                # This server is the store's writer: CLI loads come here (loaders.handoff).
                handoff.announce(store_dir, url, app.state.keys.session_key("loader", "cli"))
            if page is not None:
                print(page, flush=True)

        serve(app, host, port, when_ready=ready)
    finally:
        if store_dir is not None:
            handoff.withdraw(store_dir)
        store.close()
    return 0


def cmd_keys(args: argparse.Namespace) -> int:
    from api.keys import KeyStore

    keys = KeyStore(get_settings().data_dir)
    if args.keys_cmd == "create":
        info, key = keys.create(args.role, label=args.label or "")
        print(f"created key {info.key_id} with role {info.role}; it is shown only once:")
        print(key)
    elif args.keys_cmd == "ensure":
        info, key, created = keys.ensure(args.role, args.label)
        state = "created" if created else "reused"
        kept = keys.kept_key_path(args.label)
        print(f"{state} key {info.key_id} with role {info.role}, kept in {kept}:")
        print(key)
    elif args.keys_cmd == "list":
        rows = [
            {
                "key_id": k.key_id,
                "role": k.role,
                "label": k.label,
                "created_at": k.created_at,
                "revoked_at": k.revoked_at,
            }
            for k in keys.list()
        ]
        if args.json:
            _print_json(rows)
        else:
            for r in rows:
                state = f"revoked {r['revoked_at']}" if r["revoked_at"] else "active"
                print(f"{r['key_id']}  {r['role']:<12} {r['created_at']}  {state}  {r['label']}")
    elif args.keys_cmd == "revoke":
        info = keys.revoke(args.key_id)
        print(f"revoked key {info.key_id} ({info.role})")
    return 0


def build_parser() -> tuple[argparse.ArgumentParser, dict[str, Handler]]:
    parser = argparse.ArgumentParser(
        prog="creditlink",
        description="Graph-based credit subject linkage service (信用主体关联服务)",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    handlers: dict[str, Handler] = {}

    p = sub.add_parser("serve", help="serve the HTTP API")
    p.add_argument("--host")
    p.add_argument("--port", type=int)
    p.add_argument(
        "--page-key",
        metavar="LABEL",
        help="keep an investigator key under this label in the data directory (reused on "
        "the next start) and print it with the page URL once the server is ready",
    )
    handlers["serve"] = cmd_serve

    p = sub.add_parser("keys", help="create, list and revoke API keys")
    ks = p.add_subparsers(dest="keys_cmd", required=True)
    c = ks.add_parser("create", help="create a key; the key is printed on the last line")
    c.add_argument("--role", required=True, choices=ROLES)
    c.add_argument("--label")
    e = ks.add_parser(
        "ensure",
        help="the key kept under LABEL in the data directory if it still works, else a new "
        "one kept there (0600); printed on the last line (development keys, e.g. make run)",
    )
    e.add_argument("--role", required=True, choices=ROLES)
    e.add_argument("--label", required=True)
    lst = ks.add_parser("list", help="list keys (never the secrets)")
    lst.add_argument("--json", action="store_true")
    r = ks.add_parser("revoke", help="revoke a key by its id")
    r.add_argument("key_id")
    handlers["keys"] = cmd_keys

    for register in _EXTRA_COMMANDS:
        register(sub, handlers)
    return parser, handlers


# Other modules register their sub-commands here (loaders, resolution),
# so this file does not grow with every feature.
_EXTRA_COMMANDS: list[Callable[[Any, dict[str, Handler]], None]] = []


def _register_extras() -> None:
    # Imported here, not at the top: the loaders' and the resolver's commands
    # pull in pandas and the resolver, which `creditlink serve --help` need not pay for.
    from graph.resolve import cli as resolve_cli
    from loaders import cli as loaders_cli

    for reg in (loaders_cli.register, resolve_cli.register):
        if reg not in _EXTRA_COMMANDS:
            _EXTRA_COMMANDS.append(reg)


def main(argv: Sequence[str] | None = None) -> int:
    _register_extras()
    parser, handlers = build_parser()
    args = parser.parse_args(argv)
    try:
        return handlers[args.command](args)
    except CreditlinkError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        if exc.details:
            print(json.dumps(exc.details, ensure_ascii=False, default=str), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
