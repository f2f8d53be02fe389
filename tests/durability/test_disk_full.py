"""A full disk under the real process: a clear error on the status page and in the log,
ingest into memory goes on, nothing stored is damaged, and it all catches up afterwards.

The disk fills for the server alone: ``prlimit(RLIMIT_FSIZE)`` on its pid makes every write
past the current end of its files fail with EFBIG, as a full file system would (ENOSPC)."""

from __future__ import annotations

import resource
import signal
import time
from pathlib import Path

import httpx
from tests.e2e.conftest import Running, start_server, wait_for

BASE = time.time() - 3600


def _send(server: Running, name: str, first: int, n: int) -> None:
    server.graphite([f"{name} {k} {BASE + k:.0f}" for k in range(first, first + n)])


def _points(http: httpx.Client, name: str) -> list[int]:
    response = http.get(f"/api/v1/series/{name}", params={"from": BASE - 1})
    if response.status_code == 404:  # not scored yet
        return []
    assert response.status_code == 200, response.text[:500]
    return [round(ts - BASE) for ts, *_ in response.json()["points"]]


def test_a_full_disk_is_reported_ingest_goes_on_and_nothing_is_lost(tmp_path: Path) -> None:
    data = tmp_path / "data"
    server = start_server(
        data, "--set", "store_flush_interval=0.3", "--set", "checkpoint_interval=0.5"
    )
    pid = server.proc.pid
    with server.client() as http:
        _send(server, "disk.a", 0, 300)
        wait_for(lambda: _points(http, "disk.a") == list(range(300)))
        time.sleep(1.0)  # flushed and checkpointed
        wal = data / "opsradar.duckdb.wal"
        size = max(4096, wal.stat().st_size if wal.exists() else 0)
        resource.prlimit(pid, resource.RLIMIT_FSIZE, (size, resource.RLIM_INFINITY))

        _send(server, "disk.a", 300, 300)
        _send(server, "disk.b", 0, 50)
        status = wait_for(lambda: (s := http.get("/api/v1/status").json())["store_error"] and s)
        assert "File too large" in status["store_error"] or "space" in status["store_error"]
        assert wait_for(lambda: _points(http, "disk.a") == list(range(600)))  # memory goes on
        assert _points(http, "disk.b") == list(range(50))

        resource.prlimit(pid, resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY,) * 2)
        wait_for(lambda: http.get("/api/v1/status").json()["store_error"] is None)
    server.proc.send_signal(signal.SIGTERM)
    assert server.proc.stdout is not None
    log = server.proc.stdout.read()
    assert server.proc.wait(timeout=30) == 0
    assert "failed" in log and "disk writes work again" in log, log

    again = start_server(data)
    try:
        with again.client() as http:
            assert _points(http, "disk.a") == list(range(600))
            assert _points(http, "disk.b") == list(range(50))
    finally:
        again.stop()
