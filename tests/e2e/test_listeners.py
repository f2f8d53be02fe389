"""Every listener of the real `opsradar serve` process, one point each, read back over HTTP:
StatsD TCP, Graphite UDP, Graphite pickle, Prometheus remote write and scraping."""

from __future__ import annotations

import pickle
import socket
import struct
import threading
import time
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path

import cramjam
import pytest
from prometheus_client import CollectorRegistry, Gauge, MetricsHandler
from tests.e2e.conftest import Running, start_server


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _remote_write(labels: dict[str, str], ts: float, value: float) -> bytes:
    series = b"".join(
        _field(1, _field(1, k.encode()) + _field(2, v.encode())) for k, v in labels.items()
    )
    series += _field(2, b"\x09" + struct.pack("<d", value) + b"\x10" + _varint(int(ts * 1000)))
    return bytes(cramjam.snappy.compress_raw(_field(1, series)))


@pytest.fixture
def exporter() -> Iterator[str]:
    registry = CollectorRegistry()
    Gauge("e2e_scraped", "A gauge to scrape.", registry=registry).set(42)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), MetricsHandler.factory(registry))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def running(tmp_path: Path, exporter: str) -> Iterator[Running]:
    target = f"http://{exporter}/metrics"
    srv = start_server(tmp_path / "data", "--scrape-targets", target, "--scrape-interval", "0.2")
    yield srv
    if srv.proc.poll() is None:
        srv.stop()


def _value(srv: Running, name: str, timeout: float = 20.0) -> float:
    deadline = time.monotonic() + timeout
    with srv.client() as http:
        while time.monotonic() < deadline:
            now = time.time()  # a narrow window reads raw points, not rollups
            r = http.get(f"/api/v1/series/{name}", params={"from": now - 60, "until": now + 60})
            if r.status_code == 200 and r.json()["points"]:
                return max(float(p[1]) for p in r.json()["points"])
            time.sleep(0.1)
    raise AssertionError(f"{name} never arrived")


def test_one_point_through_each_listener(running: Running, exporter: str) -> None:
    ports, now = running.ports, time.time()
    assert {"statsd", "statsd_tcp", "graphite", "graphite_udp", "pickle", "http"} <= set(ports)
    with socket.create_connection(("127.0.0.1", ports["statsd_tcp"])) as sock:
        sock.sendall(b"e2e.tcp:3|c\n")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.sendto(f"e2e.udp 5 {now:.0f}\n".encode(), ("127.0.0.1", ports["graphite_udp"]))
    payload = pickle.dumps([("e2e.pickle", (now, 7.0))], protocol=2)
    with socket.create_connection(("127.0.0.1", ports["pickle"])) as sock:
        sock.sendall(struct.pack("!L", len(payload)) + payload)
    with running.client() as http:
        body = _remote_write({"__name__": "e2e_rw", "job": "x"}, now, 9.0)
        r = http.post("/api/v1/write", content=body, headers={"Content-Encoding": "snappy"})
        assert r.status_code == 204, r.text
        bad = http.post("/api/v1/write", content=b"garbage")
        assert bad.status_code == 400 and "snappy" in bad.json()["error"]["message"]
    assert _value(running, "stats.counters.e2e.tcp.count") == 3.0
    assert _value(running, "e2e.udp") == 5.0
    assert _value(running, "e2e.pickle") == 7.0
    assert _value(running, "e2e_rw;job=x") == 9.0
    assert _value(running, f"e2e_scraped;instance={exporter}") == 42.0
    assert _value(running, f"up;instance={exporter}") == 1.0
