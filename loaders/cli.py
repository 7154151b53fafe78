"""``creditlink load``, ``quarantine`` and ``sample-city``."""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from graph.errors import CreditlinkError, InvalidInput, StoreBusy
from graph.propagate.status import parse_as_of
from graph.settings import Settings, get_settings
from graph.store import open_store
from loaders.clean import excel_escape

if TYPE_CHECKING:
    from rich.console import Console

    from loaders.pipeline import LoadProgress, ProgressCallback

# A file loaded faster than this shows no bar: it would only flicker.
BAR_AFTER_S = 2.0


def _print_report(rep: dict[str, Any]) -> None:
    print(
        f"{rep['file']} ({rep['kind']}): read {rep['rows_read']}, loaded {rep['loaded']} "
        f"(unchanged {rep['unchanged']}, new versions {rep['new_versions']}), "
        f"quarantined {rep['quarantined']}, warnings {rep['warnings']}, "
        f"review {rep['review']}, unresolved parties {rep['unresolved']}"
    )
    for reason, n in rep["reasons"].items():
        print(f"  quarantined {n:>6}  {reason}")
    for reason, n in rep["warning_reasons"].items():
        print(f"  warning     {n:>6}  {reason}")


def bar_wanted(json_mode: bool, stdout: TextIO, stderr: TextIO) -> bool:
    """A bar only for a person at a terminal: never with --json, never when
    either stream goes to a pipe or a file (CI logs, ``| tee``)."""
    return not json_mode and stdout.isatty() and stderr.isatty()


class LoadBar:
    """A progress bar on stderr for one file, shown once its load has run for
    ``after`` seconds and erased when it ends, so that what is printed after it
    is what a load without a bar prints.

    Called with each :class:`~loaders.pipeline.LoadProgress` on the loading
    thread; a timer thread puts the bar up, because a long XLSX read tells
    nothing until the whole sheet is read.
    """

    def __init__(self, file: str, *, after: float = BAR_AFTER_S, console: Console | None = None):
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
        )

        self._progress = Progress(
            SpinnerColumn(),
            # a file name is not rich markup: "[b]" in one is text
            TextColumn("{task.description}", markup=False),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console or Console(stderr=True),
            transient=True,
            # The report lines stay on stdout as they are, not routed through rich.
            redirect_stdout=False,
            redirect_stderr=False,
        )
        self._task = self._progress.add_task(file, total=None)
        self._lock = threading.Lock()
        self._ended = False
        self.shown = threading.Event()
        self._timer = threading.Timer(after, self._show)
        self._timer.daemon = True

    def __call__(self, progress: LoadProgress) -> None:
        self._progress.update(
            self._task,
            description=f"{progress.file} {progress.stage}",
            completed=progress.rows_done,
            total=progress.rows_total,
        )

    def _show(self) -> None:
        with self._lock:
            # A dumb terminal (TERM=dumb) gets no bar: rich would print it whole at the end.
            if not self._ended and self._progress.console.is_interactive:
                self._progress.start()
                self.shown.set()

    def start(self) -> None:
        self._timer.start()

    def stop(self) -> None:
        self._timer.cancel()
        with self._lock:
            self._ended = True
            # Only a bar that was shown is stopped: rich prints a blank line
            # when stopping one on a console it finds not interactive.
            if self.shown.is_set():
                self._progress.stop()


@contextlib.contextmanager
def load_bar(file: str, wanted: bool) -> Iterator[ProgressCallback | None]:
    if not wanted:
        yield None
        return
    bar = LoadBar(file)
    bar.start()
    try:
        yield bar
    finally:
        bar.stop()


def cmd_load(args: argparse.Namespace) -> int:
    from loaders.pipeline import FileLoader

    paths = [Path(p) for p in args.files]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise InvalidInput(f"no such file: {', '.join(missing)}", files=missing)
    snapshot_date = parse_as_of(args.snapshot_date, "snapshot-date") if args.snapshot_date else None
    settings = get_settings()
    try:
        store = open_store(settings)
    except StoreBusy as busy:
        return _hand_to_server(settings, busy, paths, args, snapshot_date)
    try:
        loader = FileLoader(store, settings)
        return _load_each(
            lambda *a, **kw: loader.load(*a, **kw).to_dict(), paths, args, snapshot_date
        )
    finally:
        store.close()


def _hand_to_server(
    settings: Settings,
    busy: StoreBusy,
    paths: list[Path],
    args: argparse.Namespace,
    snapshot_date: str | None,
) -> int:
    """The embedded store's writer is busy: if it is a server that announced
    itself (loaders.handoff), the files go to it; any other writer is refused."""
    from loaders import handoff

    holder = busy.details.get("holder") or {}
    server = (
        handoff.find(settings.data_dir / "store", holder, handoff.announce_wait(holder))
        if settings.is_embedded
        else None
    )
    if server is None:
        raise busy
    print(
        f"the store's writer is the server at {server.url} (pid {server.pid}): "
        "the files are loaded by it",
        file=sys.stderr,
    )
    client = handoff.ServerLoads(server)
    try:
        return _load_each(client.load, paths, args, snapshot_date)
    finally:
        client.close()


def _load_each(
    load: Callable[..., dict[str, Any]],
    paths: list[Path],
    args: argparse.Namespace,
    snapshot_date: str | None,
) -> int:
    """Load the files in feed order with ``load`` (FileLoader's, or the
    server's: either answers the report as a dict), print each report, then the
    totals; 1 if any file was refused."""
    from loaders.pipeline import order_files

    reports: list[dict[str, Any]] = []
    failed = 0
    wanted = bar_wanted(args.json, sys.stdout, sys.stderr)
    for path in order_files(paths, args.kind):
        try:
            with load_bar(path.name, wanted) as progress:
                rep = load(path, args.kind, snapshot_date, progress=progress)
        except CreditlinkError as exc:
            # A refused file is reported, and the others still load.
            failed += 1
            rep = {"file": path.name, "error": exc.to_dict()}
            if not args.json:
                print(f"{path.name}: refused: {exc.message}")
        else:
            if not args.json:
                _print_report(rep)
        reports.append(rep)
    ok = [r for r in reports if "error" not in r]
    totals = {
        "files": len(reports),
        "refused": failed,
        "rows_read": sum(r["rows_read"] for r in ok),
        "loaded": sum(r["loaded"] for r in ok),
        "quarantined": sum(r["quarantined"] for r in ok),
        "warnings": sum(r["warnings"] for r in ok),
    }
    if args.json:
        print(json.dumps({**totals, "reports": reports}, ensure_ascii=False))
    else:
        print(
            f"total: {totals['files']} files ({failed} refused), read {totals['rows_read']}, "
            f"loaded {totals['loaded']}, quarantined {totals['quarantined']}"
        )
    return 1 if failed else 0


def cmd_quarantine(args: argparse.Namespace) -> int:
    from graph.docs import QUARANTINE

    store = open_store(get_settings(), read_only=True)
    try:
        rows = list(store.list_docs(QUARANTINE).values())
    finally:
        store.close()
    rows.sort(key=lambda r: (r["file"], r["row"]))
    if args.csv:
        _write_csv(rows)
        return 0
    if args.json:
        print(json.dumps(rows, ensure_ascii=False))
        return 0
    for r in rows:
        print(f"{r['file']}:{r['row']}  [{r['column']}]  {r['reason']}  value={r['value']!r}")
    print(f"{len(rows)} quarantined rows")
    return 0


QUARANTINE_COLUMNS = ("file", "row", "line", "column", "reason", "value", "record")


def _write_csv(rows: list[dict[str, Any]]) -> None:
    """Quarantine as CSV for a spreadsheet: cells that a spreadsheet would run as
    a formula (a department's ``=HYPERLINK(...)``) are escaped."""
    writer = csv.writer(sys.stdout)
    writer.writerow(QUARANTINE_COLUMNS)
    for r in rows:
        writer.writerow(
            [excel_escape("" if r.get(c) is None else str(r.get(c))) for c in QUARANTINE_COLUMNS]
        )


def cmd_sample_city(args: argparse.Namespace) -> int:
    from loaders.sample_city import generate

    manifest = generate(Path(args.out), enterprises=args.enterprises, seed=args.seed)
    print(f"wrote {len(manifest.files)} feed files to {args.out}")
    return 0


def register(sub: Any, handlers: dict[str, Any]) -> None:
    p = sub.add_parser("load", help="load department feed files")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--kind", help="feed kind (default: from the file name)")
    p.add_argument(
        "--snapshot-date",
        metavar="YYYY-MM-DD",
        help="the day a snapshot file (registry, officers, shareholders) was extracted, "
        "when it has no 数据日期 column (default: today)",
    )
    p.add_argument("--json", action="store_true", help="one JSON object on the last line")
    handlers["load"] = cmd_load

    p = sub.add_parser("quarantine", help="list quarantined rows")
    out = p.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true")
    out.add_argument("--csv", action="store_true", help="CSV with formula cells escaped")
    handlers["quarantine"] = cmd_quarantine

    p = sub.add_parser("sample-city", help="write the sample city's feeds and truth")
    p.add_argument("out")
    p.add_argument("--enterprises", type=int, default=200)
    p.add_argument("--seed", type=int, default=7)
    handlers["sample-city"] = cmd_sample_city
