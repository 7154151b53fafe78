"""A real ``creditlink serve`` in a subprocess on 127.0.0.1, for tests that need
what the in-process test client hides: several processes on one data
directory, chunked bodies on a socket, the server's own log, kill -9."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "api.cli"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def env_for(data_dir: Path, store: str = "embedded", **extra: str) -> dict[str, str]:
    env = {
        **os.environ,
        "CREDITLINK_DATA_DIR": str(data_dir),
        "CREDITLINK_STORE": store,
        "PYTHONUNBUFFERED": "1",
    }
    env.update({f"CREDITLINK_{k.upper()}": v for k, v in extra.items()})
    return env


def cli(
    args: list[str], env: dict[str, str], timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """``creditlink ARGS`` as an operator runs it, in a process of its own."""
    return subprocess.run(
        [*CLI, *args], env=env, cwd=REPO, capture_output=True, text=True, timeout=timeout
    )


def cli_failure(done: subprocess.CompletedProcess[str]) -> str:
    """What to print when a CLI run a test depends on failed: the files it
    refused and why first (a long load's report would push them out of the
    tail that CI logs keep), then the end of its output."""
    refused = [line for line in done.stdout.splitlines() if ": refused: " in line]
    return "\n".join([*refused, done.stdout[-1500:], done.stderr[-1500:]])


def cli_start(args: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*CLI, *args],
        env=env,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


class LiveServer:
    """``creditlink serve`` on a free loopback port; output kept in a file."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None
        self._log = tempfile.NamedTemporaryFile(prefix="creditlink-serve-", suffix=".log")  # noqa: SIM115

    def start(self, wait: bool = True) -> LiveServer:
        self.proc = subprocess.Popen(
            [*CLI, "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            env=self.env,
            cwd=REPO,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise AssertionError(f"serve exited with {self.proc.returncode}:\n{self.output()}")
            try:
                if httpx.get(self.url + "/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"serve did not answer /health in {timeout} s:\n{self.output()}")

    def output(self) -> str:
        return Path(self._log.name).read_text(encoding="utf-8", errors="replace")

    def client(self, key: str | None = None, timeout: float = 60) -> httpx.Client:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=timeout)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()
        self._log.close()


def kill_when_acknowledged(script: str, args: list[str], until: int) -> int:
    """Run ``python -c script *args`` (a writer that prints the number of each
    write it has made durable), SIGKILL it once it has acknowledged ``until``,
    and return the last number it printed: lines still in the pipe count, since
    the writer may run ahead of this reader before the kill lands."""
    proc = subprocess.Popen(
        [sys.executable, "-c", script, *args], stdout=subprocess.PIPE, text=True, cwd=REPO
    )
    try:
        assert proc.stdout is not None
        acked = -1
        while acked < until:
            line = proc.stdout.readline()
            assert line, "the writer died by itself"
            acked = int(line)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    assert proc.stdout is not None
    with proc.stdout:
        return max([acked, *(int(x) for x in proc.stdout.read().split())])
