"""SIGKILL in the middle of sustained ingest, several times in a row, on the real process.

Every point is counted: what was sent more than one flush interval (plus scoring slack) before
the kill is on disk after the restart, nothing is stored twice or out of thin air, events and
detector state come back, and raw points and their rollups agree (one transaction per flush).
"""

from __future__ import annotations

import random
import signal
import socket
import threading
import time
from pathlib import Path

import httpx
import numpy as np
from tests.e2e.conftest import Running, start_server

from opsradar.detect import load_checkpoint
from opsradar.store import Store

FLUSH = 0.5  # store_flush_interval under test: the documented loss bound
SLACK = 1.0  # receive → score → queue for disk, on a loaded CI machine
SERIES = [f"crash.host-{i:02d}.load" for i in range(40)]
BASE = time.time() - 6 * 3600  # point k of a series is at BASE + k: unique, in raw retention


class Sender:
    """Sends one line per series per tick over one Graphite TCP connection, remembering when
    each tick left (so the test knows what was sent how long before the kill)."""

    def __init__(self, port: int, first: int) -> None:
        self.port = port
        self.next = first  # index of the next point of every series
        self.sent_at: list[tuple[float, int]] = []  # (monotonic time, points per series so far)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        with socket.create_connection(("127.0.0.1", self.port)) as sock:
            while not self._stop.is_set():
                ts = BASE + self.next
                lines = "".join(f"{name} {self.next % 97} {ts:.0f}\n" for name in SERIES)
                try:
                    sock.sendall(lines.encode())
                except OSError:  # the server was killed under us
                    return
                self.next += 1
                self.sent_at.append((time.monotonic(), self.next))
                time.sleep(0.004)

    def sent_before(self, when: float) -> int:
        """Points per series that had left more than ``when`` seconds (monotonic) ago."""
        done = [n for t, n in self.sent_at if t <= when]
        return done[-1] if done else 0


def _stored(http: httpx.Client, name: str) -> list[int]:
    data = http.get(f"/api/v1/series/{name}", params={"from": BASE - 1, "until": BASE + 1e5})
    assert data.status_code == 200, data.text
    body = data.json()
    assert body["resolution"] == "raw"
    return [round(ts - BASE) for ts, *_ in body["points"]]


def _warm_up(server: Running) -> None:
    """The first batch compiles the detector; wait until a point has been scored."""
    server.graphite([f"crash.warmup 1 {time.time():.0f}"])
    with server.client() as http:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if http.get("/api/v1/series", params={"match": "crash.warmup"}).json()["series"]:
                return
            time.sleep(0.05)
    raise AssertionError("server never scored its first point")


def _start(data: Path) -> Running:
    return start_server(
        data, "--set", f"store_flush_interval={FLUSH}", "--set", "checkpoint_interval=0.5"
    )


def test_sigkill_during_ingest_loses_at_most_the_last_flush(tmp_path: Path) -> None:
    data = tmp_path / "data"
    rng = random.Random(6)
    stored = 0  # points per series known to be on disk
    events: list[str] = []
    for round_ in range(3):
        server = _start(data)
        _warm_up(server)
        with server.client() as http:
            what = f"deploy crash#{round_}"
            assert http.post("/api/v1/events", json={"what": what, "tags": ["deploy"]}).is_success
            events.append(what)
        sender = Sender(server.ports["graphite"], first=stored)
        sender.start()
        time.sleep(1.5 + rng.random())
        killed_at = time.monotonic()
        server.proc.send_signal(signal.SIGKILL)
        server.proc.wait(timeout=10)
        sender.stop()
        must = sender.sent_before(killed_at - FLUSH - SLACK)
        sent = sender.next

        server = _start(data)  # restart: everything sent well before the kill is back
        try:
            with server.client() as http:
                for name in SERIES:
                    got = _stored(http, name)
                    assert got == list(range(len(got))), f"{name}: holes or duplicates"
                    assert must <= len(got) <= sent, (name, must, len(got), sent)
                stored = len(got)
                kept = {e["what"] for e in http.get("/api/v1/events").json()["events"]}
                assert set(events) <= kept
            assert sent - must > 10 and must > 50, "the kill did not land mid-ingest"
            print(f"round {round_}: sent {sent}, lost {sent - stored}, allowed {sent - must}")
        finally:
            server.stop(signal.SIGKILL)
        load_checkpoint(data / "detector.ckpt")  # the last checkpoint is whole and loads
    _rollups_match_raw(data)


def _rollups_match_raw(data: Path) -> None:
    store = Store(data)
    store.open()
    try:
        raw = store.db.points_in("points")
        assert raw >= len(SERIES) * 100
        assert store.db.points_in("rollup_1m") == raw
        assert store.db.points_in("rollup_1h") == raw
        assert np.isfinite(store.read(SERIES[0], BASE, BASE + 1e5).values).all()
    finally:
        store.close()
