"""Start the real `opsradar serve` process on free ports and talk to it over real sockets."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import httpx
import pytest

#: Every listener on a port the kernel picks, so that tests never collide with each other.
FREE_PORTS = [
    *("--http-port", "0", "--statsd-port", "0", "--graphite-port", "0"),
    *("--statsd-tcp-port", "0", "--graphite-udp-port", "0", "--pickle-port", "0"),
]
T = TypeVar("T")
READY = re.compile(r"opsradar listening on (\S+): (.*)")


@dataclass
class Running:
    proc: subprocess.Popen[str]
    ports: dict[str, int]
    data_dir: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.ports['http']}"

    def graphite(self, lines: list[str]) -> None:
        with socket.create_connection(("127.0.0.1", self.ports["graphite"])) as sock:
            sock.sendall("".join(line + "\n" for line in lines).encode())

    def statsd(self, payload: str) -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.sendto(payload.encode(), ("127.0.0.1", self.ports["statsd"]))

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.base, timeout=10)

    def stop(self, sig: int = signal.SIGTERM) -> int:
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=30)
        finally:
            if self.proc.stdout:
                self.proc.stdout.close()


def start_server(data_dir: Path, *extra: str) -> Running:
    cmd = [
        sys.executable,
        "-m",
        "opsradar.cli",
        "serve",
        "--data-dir",
        str(data_dir),
        *FREE_PORTS,
        "--flush-interval",
        "0.5",
        *extra,
    ]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        cmd, stderr=subprocess.STDOUT, stdout=subprocess.PIPE, text=True, env=env
    )
    deadline = time.monotonic() + 60
    assert proc.stdout is not None
    seen = []
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        seen.append(line)
        match = READY.search(line)
        if match:
            ports = {k: int(v) for k, v in (p.split("=") for p in match.group(2).split())}
            _wait_http(ports["http"])
            return Running(proc, ports, data_dir)
    proc.kill()
    raise AssertionError("server did not start:\n" + "".join(seen))


def wait_for(predicate: Callable[[], T], timeout: float = 20.0, step: float = 0.2) -> T:
    """Poll ``predicate`` until it returns something truthy (returned), or fail."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(step)
    raise AssertionError("condition not met in time")


def _wait_http(port: int) -> None:
    for _ in range(200):
        try:
            httpx.get(f"http://127.0.0.1:{port}/api/v1/status", timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.05)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Running]:
    running = start_server(tmp_path / "data")
    yield running
    if running.proc.poll() is None:
        running.stop()
