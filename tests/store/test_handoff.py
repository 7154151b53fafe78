"""``creditlink load`` beside ``creditlink serve`` on the embedded store: the
server is the one writer, so the CLI hands it the files (loaders.handoff). The
operator sees what a direct load prints; the key that makes it work loads and
does nothing else, and dies with its server; a file a dead server left
behind sends nothing anywhere."""

from __future__ import annotations

import json
import stat
import time
from pathlib import Path

import pytest

from loaders.handoff import ANNOUNCEMENT, Announcement, announce_wait, find
from tests.builders import Enterprises
from tests.live import LiveServer, cli, cli_failure, env_for

FIRMS = Enterprises("MH", "商丘市交接")


def announced(store_dir: Path) -> Path:
    """The server's announcement, once written: it is written once the server
    listens, which /health may answer just before."""
    path = store_dir / ANNOUNCEMENT
    deadline = time.monotonic() + 10
    while not path.exists():
        assert time.monotonic() < deadline, "the server did not announce itself"
        time.sleep(0.05)
    return path


def _json_report(done_stdout: str) -> dict[str, object]:
    report: dict[str, object] = json.loads(done_stdout.splitlines()[-1])
    return report


def test_a_load_through_the_server_reports_what_a_direct_load_reports(tmp_path: Path) -> None:
    files = [
        FIRMS.red_list(tmp_path / "red_list_a.csv", range(30)),
        # the same enterprises by name only: matched to the subjects the first made
        FIRMS.red_list(tmp_path / "red_list_b.csv", range(30), "市场监管局", codes=False),
    ]
    bad = tmp_path / "red_list_bad.csv"
    bad.write_text("甲,乙\n1,2\n", encoding="utf-8")
    args = ["load", "--json", *map(str, files), str(bad)]

    direct = cli(args, env_for(tmp_path / "direct"))
    served_env = env_for(tmp_path / "served")
    with LiveServer(served_env) as server:
        through = cli(args, served_env)
        assert f"the server at {server.url}" in through.stderr, through.stderr
        # the server holds what was loaded, and a second load changes nothing
        again = cli(["load", "--json", str(files[0])], served_env)
    assert direct.returncode == through.returncode == 1, cli_failure(through)
    ours, theirs = _json_report(direct.stdout), _json_report(through.stdout)
    assert theirs == ours
    assert ours["refused"] == 1 and ours["loaded"] == 60, ours
    reports = ours["reports"]
    assert isinstance(reports, list)
    assert reports[1]["subjects_created"] == 0, reports[1]
    assert reports[2]["error"]["code"] == "feed_refused", reports[2]
    assert _json_report(again.stdout)["reports"][0]["unchanged"] == 30  # type: ignore[index]


def test_the_handed_key_loads_only_and_ends_with_its_server(tmp_path: Path) -> None:
    env = env_for(tmp_path / "data")
    store_dir = tmp_path / "data" / "store"
    upload = FIRMS.red_list(tmp_path / "red_list_k.csv", range(5))
    with LiveServer(env) as server:
        path = announced(store_dir)
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        said = json.loads(path.read_text(encoding="utf-8"))
        assert (said["url"], said["pid"]) == (server.url, server.proc.pid)  # type: ignore[union-attr]
        key = said["key"]
        with server.client(key) as api:
            body = {"file": (upload.name, upload.read_bytes(), "text/csv")}
            assert api.post("/loads", files=body).status_code == 200
            assert api.get("/loads/current").status_code == 200
            for refused in (f"/subjects/{FIRMS.uscc(0)}", "/audit", "/review"):
                assert api.get(refused).status_code == 403, refused
        keys_file = tmp_path / "data" / "keys.json"
        assert not keys_file.exists() or key.split("_")[1] not in keys_file.read_text()
    # A stopped server (SIGTERM) takes its file back and compacts the store on close.
    assert not (store_dir / ANNOUNCEMENT).exists()
    assert (store_dir / "graph.snapshot").exists()
    with LiveServer(env) as server, server.client(key) as api:
        body = {"file": (upload.name, upload.read_bytes(), "text/csv")}
        assert api.post("/loads", files=body).status_code == 401


def test_a_file_left_by_a_killed_server_sends_nothing(tmp_path: Path) -> None:
    env = env_for(tmp_path / "data")
    store_dir = tmp_path / "data" / "store"
    server = LiveServer(env).start()
    try:
        announced(store_dir)
        server.kill()
        assert (store_dir / ANNOUNCEMENT).exists()  # SIGKILL: nobody took it back
        done = cli(["load", str(FIRMS.red_list(tmp_path / "red_list_s.csv", range(3)))], env)
    finally:
        server.stop()
    # The lock was free: loaded directly, not sent to a dead address.
    assert done.returncode == 0, cli_failure(done)
    assert "the server at" not in done.stderr
    assert "read 3, loaded 3" in done.stdout


@pytest.mark.parametrize(
    "holder",
    [
        {},
        {
            "pid": 41,
            "host": "h",
            "command": "creditlink serve",
            "since": "2026-11-28T10:00:01+00:00",
        },
        {
            "pid": 42,
            "host": "h",
            "command": "creditlink serve",
            "since": "2026-11-28T11:00:00+00:00",
        },
        {
            "pid": 41,
            "host": "g",
            "command": "creditlink serve",
            "since": "2026-11-28T10:00:00+00:00",
        },
    ],
)
def test_only_the_process_holding_the_lock_now_is_used(
    tmp_path: Path, holder: dict[str, object]
) -> None:
    """A writer that reuses a dead server's pid is another process: the lock's
    account of its holder (pid, host, start time) must match whole."""
    said = {
        "pid": 41,
        "host": "h",
        "command": "creditlink serve",
        "since": "2026-11-28T10:00:00+00:00",
    }
    body = {"url": "http://127.0.0.1:1", "pid": 41, "key": "cl_sx_y", "holder": said}
    (tmp_path / ANNOUNCEMENT).write_text(json.dumps(body), encoding="utf-8")
    assert find(tmp_path, holder) is None
    assert find(tmp_path, dict(said)) == Announcement("http://127.0.0.1:1", 41, "cl_sx_y", said)
    (tmp_path / ANNOUNCEMENT).write_text('{"url": "http://x", "pid": 41}', encoding="utf-8")
    assert find(tmp_path, dict(said)) is None
    # a server that has not announced itself yet is waited for; another writer is not
    assert announce_wait(said) > 0
    assert announce_wait({**said, "command": "creditlink load registry_2024.csv"}) == 0
