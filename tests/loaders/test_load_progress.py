"""Load progress: the loader tells a callback how far it is, ``GET /loads/current``
shows the uploads in flight, and ``creditlink load`` draws a bar only for a
person at a terminal. No test here measures time: a load is held mid-way on an
event, and the bar's delay is either zero or an hour."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from rich.console import Console

from api.app import create_app
from api.keys import KeyStore
from graph.settings import Settings
from graph.store.base import GraphStore
from loaders.cli import LoadBar, bar_wanted
from loaders.pipeline import _PROGRESS_EVERY, FileLoader, LoadProgress
from tests.live import REPO

HEADER = "行政相对人名称,行政处罚决定书文号,处罚决定日期\n"
STAGES = ["reading", "checking", "resolving", "writing", "done"]
PERSON_ID = "411425198001011231"


def penalties(rows: int, bad: int = 0) -> str:
    """``rows`` penalties on distinct companies, the last ``bad`` with an impossible date."""
    lines = [
        f"商丘市进度测试{i}号建材有限公司,商市监罚〔2024〕{i}号,"
        + ("2024-13-40" if i >= rows - bad else "2024-01-02")
        for i in range(rows)
    ]
    return HEADER + "\n".join(lines) + "\n"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data")


@pytest.fixture(autouse=True)
def _no_leftover_threads() -> Iterator[None]:
    before = set(threading.enumerate())
    yield
    # a bar's timer is cancelled when its load ends, whatever happened
    for thread in set(threading.enumerate()) - before:
        if isinstance(thread, threading.Timer):
            thread.join(5)
            assert not thread.is_alive()


def check_sequence(seen: list[LoadProgress], rows: int) -> None:
    assert seen[0].stage == "reading" and seen[0].rows_total is None
    assert seen[-1].stage == "done"
    order = [STAGES.index(p.stage) for p in seen]
    assert order == sorted(order), [p.stage for p in seen]
    done = [p.rows_done for p in seen]
    assert done == sorted(done), done
    assert all(p.rows_total == rows for p in seen[1:])
    assert all(0 <= p.rows_done <= rows for p in seen)


# --- the loader's callback --------------------------------------------------------


def test_the_callback_sees_rows_grow_to_the_reports_count(
    store: GraphStore, settings: Settings, tmp_path: Path
) -> None:
    rows = 2 * _PROGRESS_EVERY + 5
    feed = tmp_path / "admin_penalties_2024.csv"
    feed.write_text(penalties(rows, bad=3), encoding="utf-8")
    loader = FileLoader(store, settings)

    seen: list[LoadProgress] = []
    report = loader.load(feed, progress=seen.append)
    check_sequence(seen, rows)
    assert seen[-1].rows_done == report.rows_read == rows
    assert (report.loaded, report.quarantined) == (rows - 3, 3)
    assert {p.file for p in seen} == {feed.name} and {p.kind for p in seen} == {"admin_penalties"}
    # told along the way, not only at the stage changes
    assert any(p.stage == "resolving" and 0 < p.rows_done < rows for p in seen)

    # Loaded again, every row is finished with while checking: nothing to resolve.
    again: list[LoadProgress] = []
    report = loader.load(feed, progress=again.append)
    check_sequence(again, rows)
    assert report.unchanged == rows - 3
    assert next(p for p in again if p.stage == "resolving").rows_done == rows
    assert again[-1].rows_done == report.rows_read == rows


def test_a_callback_that_raises_stops_the_load_before_anything_is_written(
    store: GraphStore, settings: Settings, tmp_path: Path
) -> None:
    feed = tmp_path / "admin_penalties_2024.csv"
    feed.write_text(penalties(5), encoding="utf-8")
    loader = FileLoader(store, settings)
    # a load that went through first, so that the loader trusts its index
    earlier = tmp_path / "admin_penalties_2023.csv"
    earlier.write_text(HEADER + "河南永安物流有限公司,商市监罚〔2023〕1号,2023-05-06\n")
    assert loader.load(earlier).loaded == 1
    resolved = 0

    def stop_before_writing(progress: LoadProgress) -> None:
        if progress.stage == "writing":
            raise RuntimeError("the operator gave up")

    original = loader.resolver.resolve

    def counting(party: Any) -> Any:
        nonlocal resolved
        resolved += 1
        return original(party)

    loader.resolver.resolve = counting  # type: ignore[method-assign]
    with pytest.raises(RuntimeError, match="gave up"):
        loader.load(feed, progress=stop_before_writing)
    assert resolved == 5
    assert store.counts()["records"] == 1 and store.counts()["subjects"] == 1

    # The subjects the stopped load noted were never written: another file
    # naming the same companies creates each of them, rather than pointing its
    # records at subjects nobody stored (which would then be stored nameless).
    other = tmp_path / "admin_penalties_2024_again.csv"
    other.write_text(penalties(5), encoding="utf-8")
    report = loader.load(other)
    assert report.loaded == 5 and report.subjects_created == 5
    assert store.counts()["subjects"] == 6 and store.counts()["records"] == 6
    assert all(subject.name for subject in store.iter_subjects())


# --- GET /loads/current -----------------------------------------------------------


def test_the_api_shows_a_load_while_it_runs_and_none_after(
    store: GraphStore, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    reached, release = threading.Event(), threading.Event()
    original = FileLoader._build

    def held(self: FileLoader, *args: Any, **kwargs: Any) -> Any:
        # The first row waits until the test has looked; the others go on.
        reached.set()
        assert release.wait(120), "the test never let the load go on"
        return original(self, *args, **kwargs)

    monkeypatch.setattr(FileLoader, "_build", held)
    # A name with an ID number in it, as an uploader may choose.
    name = f"admin_penalties_{PERSON_ID}.csv"
    body = penalties(3, bad=1).encode("gbk")
    keys = KeyStore(settings.data_dir)
    admin = {"Authorization": f"Bearer {keys.create('admin')[1]}"}
    answer: dict[str, Any] = {}

    with TestClient(create_app(settings, store=store)) as client:
        idle = client.get("/loads/current", headers=admin)
        assert idle.status_code == 200, idle.text
        assert idle.json() == {"loads": []}

        def post() -> None:
            r = client.post("/loads", files={"file": (name, body, "text/csv")}, headers=admin)
            answer["status"], answer["body"] = r.status_code, r.json()

        poster = threading.Thread(target=post)
        poster.start()
        try:
            assert reached.wait(120), "the load never reached its first row"
            r = client.get("/loads/current", headers=admin)
        finally:
            release.set()
            poster.join(120)
        assert r.status_code == 200, r.text
        (running,) = r.json()["loads"]
        assert PERSON_ID not in r.text
        assert running["file"] == "admin_penalties_411425********1231.csv"
        assert "/" not in running["file"]
        assert running["kind"] == "admin_penalties"
        assert running["stage"] == "resolving"
        assert (running["rows_done"], running["rows_total"]) == (0, 3)
        assert running["started_at"].startswith("20")
        assert list(running) == [
            "file",
            "kind",
            "stage",
            "rows_done",
            "rows_total",
            "started_at",
        ]

        assert answer["status"] == 200, answer
        assert (answer["body"]["loaded"], answer["body"]["quarantined"]) == (2, 1)
        after = client.get("/loads/current", headers=admin)
        assert after.json() == {"loads": []}


@pytest.mark.parametrize("store_kind", ["embedded"], indirect=True)
def test_a_refused_upload_leaves_no_load_behind(store: GraphStore, settings: Settings) -> None:
    admin = {"Authorization": f"Bearer {KeyStore(settings.data_dir).create('admin')[1]}"}
    with TestClient(create_app(settings, store=store)) as client:
        files = {"file": ("registry_x.csv", b"\x00\x01garbage\x00" * 20, "text/csv")}
        assert client.post("/loads", files=files, headers=admin).status_code == 422
        assert client.get("/loads/current", headers=admin).json() == {"loads": []}


# --- the CLI's bar ----------------------------------------------------------------


def run_cli(args: list[str], data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "CREDITLINK_DATA_DIR": str(data_dir),
        "CREDITLINK_STORE": "embedded",
        # what a CI runner may set: rich would then treat a pipe as a terminal
        "FORCE_COLOR": "1",
    }
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *args],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture
def feed(tmp_path: Path) -> Path:
    path = tmp_path / "admin_penalties_2024.csv"
    path.write_text(penalties(3, bad=1), encoding="gbk")
    return path


def test_the_cli_prints_its_report_and_no_bar_into_a_pipe(feed: Path, tmp_path: Path) -> None:
    done = run_cli(["load", str(feed)], tmp_path / "data")
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert done.stdout == (
        "admin_penalties_2024.csv (admin_penalties): read 3, loaded 2 (unchanged 0, "
        "new versions 0), quarantined 1, warnings 0, review 1, unresolved parties 2\n"
        "  quarantined      1  bad_date\n"
        "total: 1 files (0 refused), read 3, loaded 2, quarantined 1\n"
    )


def test_the_cli_json_mode_stays_one_json_line(feed: Path, tmp_path: Path) -> None:
    done = run_cli(["load", str(feed), "--json"], tmp_path / "data")
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    (line,) = done.stdout.splitlines()
    assert json.loads(line)["reports"][0]["rows_read"] == 3


def test_a_bar_only_for_a_person_at_a_terminal() -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert bar_wanted(False, Tty(), Tty())
    assert not bar_wanted(True, Tty(), Tty())
    assert not bar_wanted(False, io.StringIO(), Tty())
    assert not bar_wanted(False, Tty(), io.StringIO())


def terminal() -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, force_terminal=True, force_interactive=True, width=100), out


def test_the_bar_shows_the_file_and_its_rows_once_shown() -> None:
    console, out = terminal()
    name = "admin_penalties_[b]2024.csv"
    bar = LoadBar(name, after=0.0, console=console)
    bar(LoadProgress(name, "admin_penalties", "resolving", 7, 40))
    bar.start()
    assert bar.shown.wait(60)
    bar.stop()
    drawn = out.getvalue()
    assert f"{name} resolving" in drawn and "7/40" in drawn


def test_a_load_done_before_the_delay_draws_nothing() -> None:
    console, out = terminal()
    bar = LoadBar("admin_penalties_2024.csv", after=3600.0, console=console)
    bar.start()
    bar(LoadProgress("admin_penalties_2024.csv", "admin_penalties", "done", 3, 3))
    bar.stop()
    assert not bar.shown.is_set()
    assert out.getvalue() == ""
