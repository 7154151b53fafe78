"""Wait until a Neo4j server answers on Bolt and accepts the given credentials.

Used by scripts/neo4j.sh; reads the same environment variables:
CREDITLINK_NEO4J_BOLT_PORT (7687), CREDITLINK_NEO4J_USER (neo4j),
CREDITLINK_NEO4J_PASSWORD (creditlink-dev).

With --ready-file, Bolt is only tried once the launcher has written that file
(it does so after setting the neo4j user's password; Bolt itself opens a
moment earlier, when the old password would still be in force).

Exit codes: 0 = connected and authenticated; 1 = not reachable before the
deadline (or the watched process died); 2 = reachable but the credentials
were refused.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import threading
import time

import neo4j
from neo4j.exceptions import AuthError, Neo4jError, ServiceUnavailable, SessionExpired


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # An exited child that its parent has not reaped yet still answers kill(0).
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            state = fh.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state not in ("Z", "X")


def _ready(ready_file: str, pid: int | None) -> bool:
    try:
        with open(ready_file, encoding="ascii") as fh:
            content = fh.read().strip()
    except OSError:
        return False
    return pid is None or content == str(pid)


def _connect(uri: str, user: str, password: str, connect_timeout: float) -> None:
    with neo4j.GraphDatabase.driver(
        uri,
        auth=(user, password),
        connection_timeout=connect_timeout,
        connection_acquisition_timeout=connect_timeout,
        max_connection_pool_size=1,
    ) as driver:
        driver.verify_connectivity()


def try_once(uri: str, user: str, password: str, connect_timeout: float) -> None:
    """Raise if the server cannot be reached or refuses the credentials.

    The driver's connection timeout does not cover a peer that accepts TCP but
    never completes the Bolt handshake (some other program on the port, or a
    hung server), so the attempt runs in a daemon thread with a hard limit.
    """
    outcome: list[BaseException | None] = []

    def run() -> None:
        try:
            _connect(uri, user, password, connect_timeout)
            outcome.append(None)
        except BaseException as exc:  # handed to the caller below
            outcome.append(exc)

    worker = threading.Thread(target=run, name="neo4j-wait", daemon=True)
    worker.start()
    worker.join(connect_timeout + 5.0)
    if not outcome:
        raise ServiceUnavailable(f"no Bolt handshake from {uri} within {connect_timeout + 5.0:g}s")
    if outcome[0] is not None:
        raise outcome[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds to keep trying")
    parser.add_argument("--pid", type=int, default=None, help="give up early if this process exits")
    parser.add_argument(
        "--ready-file",
        default=None,
        help="only try Bolt once this file exists (and names --pid, if given)",
    )
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)

    # The driver logs every failed attempt at WARNING; only our summary matters.
    logging.getLogger("neo4j").setLevel(logging.CRITICAL)

    port = int(os.environ.get("CREDITLINK_NEO4J_BOLT_PORT", "7687"))
    user = os.environ.get("CREDITLINK_NEO4J_USER", "neo4j")
    password = os.environ.get("CREDITLINK_NEO4J_PASSWORD", "creditlink-dev")
    uri = f"bolt://127.0.0.1:{port}"

    deadline = time.monotonic() + args.timeout
    last_error: str = "no attempt made"
    while True:
        if args.ready_file is not None and not _ready(args.ready_file, args.pid):
            last_error = f"launcher has not written {args.ready_file} yet"
        else:
            try:
                try_once(uri, user, password, connect_timeout=min(5.0, max(args.timeout, 0.5)))
                return 0
            except AuthError as exc:
                if not args.quiet:
                    print(
                        f"neo4j_wait: {uri} refused the credentials of user {user!r}: "
                        f"{exc.message}",
                        file=sys.stderr,
                    )
                return 2
            except (ServiceUnavailable, SessionExpired, Neo4jError, OSError) as exc:
                last_error = f"{type(exc).__name__}: {exc}"
        if args.pid is not None and not _alive(args.pid):
            if not args.quiet:
                print(
                    f"neo4j_wait: process {args.pid} exited before {uri} answered", file=sys.stderr
                )
            return 1
        if time.monotonic() >= deadline:
            if not args.quiet:
                print(
                    f"neo4j_wait: {uri} did not answer within {args.timeout:g}s ({last_error})",
                    file=sys.stderr,
                )
            return 1
        time.sleep(0.5)


if __name__ == "__main__":
    sys.exit(main())
