"""Ten times more traffic than the server can score, with a cardinality explosion in it:
memory stays bounded, the excess is refused and counted by reason, the server keeps
answering, and existing series keep working."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

from tests.e2e.conftest import Running, start_server

SECONDS = 8.0
MAX_SERIES = 3000


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def _metric(server: Running, prefix: str) -> float:
    with server.client() as http:
        text = http.get("/metrics").text
    return sum(
        float(line.rpartition(" ")[2]) for line in text.splitlines() if line.startswith(prefix)
    )


class Flood:
    """Graphite TCP (known and ever new names) and StatsD UDP, as fast as the sockets go."""

    def __init__(self, server: Running) -> None:
        self.server = server
        self.offered = 0
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._graphite, args=(k,)) for k in range(2)]
        self.threads.append(threading.Thread(target=self._statsd))

    def _graphite(self, k: int) -> None:
        ts = time.time() - 600
        known = "".join(f"load.known.s{i} {i} {ts:.0f}\n" for i in range(500)).encode()
        with socket.create_connection(("127.0.0.1", self.server.ports["graphite"])) as sock:
            n = 0
            while not self.stop.is_set():
                new = "".join(f"boom.c{k}.u{n + i} 1 {ts:.0f}\n" for i in range(500)).encode()
                sock.sendall(known + new)
                self.offered += 1000
                n += 500

    def _statsd(self) -> None:
        # tagged timers: plain counters of known keys are summed in compiled code fast
        # enough to keep up with one sender, these take the general path and cannot
        payload = "\n".join(f"load.lat.h{i}:{i}|ms|#env:prod" for i in range(50)).encode()
        addr = ("127.0.0.1", self.server.ports["statsd"])
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            while not self.stop.is_set():
                sock.sendto(payload, addr)
                self.offered += 50

    def __enter__(self) -> Flood:
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for t in self.threads:
            t.join()


def test_memory_stays_bounded_under_ten_times_overload(tmp_path: Path) -> None:
    server = start_server(
        tmp_path / "data",
        *("--set", f"max_series={MAX_SERIES}", "--set", "max_queued_points=200000"),
        *("--set", "max_pending_points=1000000"),
    )
    try:
        server.graphite([f"load.known.s{i} 0 {time.time() - 700:.0f}" for i in range(500)])
        with server.client() as http:  # wait until scored: the detector is compiled and warm
            deadline = time.monotonic() + 60
            while not http.get("/api/v1/series/load.known.s499").json().get("points"):
                assert time.monotonic() < deadline
                time.sleep(0.1)
        baseline = _rss_mb(server.proc.pid)
        scored0 = _metric(server, "opsradar_points_scored_total")
        peak, slowest = baseline, 0.0
        with Flood(server) as flood:
            started = time.monotonic()
            while time.monotonic() - started < SECONDS:
                t = time.monotonic()
                with server.client() as http:
                    assert http.get("/api/v1/status").status_code == 200
                slowest = max(slowest, time.monotonic() - t)
                peak = max(peak, _rss_mb(server.proc.pid))
                time.sleep(0.25)
            elapsed = time.monotonic() - started
        scored = _metric(server, "opsradar_points_scored_total") - scored0
        ratio = flood.offered / max(scored, 1.0)
        print(f"offered {flood.offered / elapsed:,.0f}/s, scored {scored / elapsed:,.0f}/s")
        print(f"x{ratio:.1f}; RSS {baseline:.0f} → {peak:.0f} MB; status in {slowest:.2f} s")
        assert ratio >= 10, "the flood was not ten times what the server could take"
        assert peak - baseline < 400, f"memory grew by {peak - baseline:.0f} MB"
        assert slowest < 5.0
        with server.client() as http:
            status = http.get("/api/v1/status").json()
        assert status["series"] <= MAX_SERIES
        assert status["rejected"].get("graphite/series_limit", 0) > 0
        refused = sum(
            v for k, v in status["rejected"].items() if k.endswith(("queue_full", "kernel_buffer"))
        )
        assert refused > 0, status["rejected"]

        ts = time.time()  # an existing series still takes new points
        server.graphite([f"load.known.s1 42 {ts:.0f}"])
        with server.client() as http:
            deadline = time.monotonic() + 30
            while True:
                points = http.get("/api/v1/series/load.known.s1", params={"from": ts - 1}).json()
                if any(p[1] == 42.0 for p in points["points"]):
                    break
                assert time.monotonic() < deadline, points
                time.sleep(0.2)
    finally:
        server.stop()
