"""Graphite plaintext over real TCP and UDP sockets."""

from __future__ import annotations

import socket
import time

import pytest

from opsradar.core import SelfMetrics
from opsradar.ingest import GraphiteServer, GraphiteUdpServer, RecordingSink
from opsradar.ingest._graphite import GraphiteParser


def _parse(data: bytes) -> tuple[list[tuple[str, float, float]], dict[str, int]]:
    parsed = GraphiteParser(clock=lambda: 42.0).parse(data)
    return list(zip(parsed.names, parsed.ts, parsed.values, strict=True)), parsed.rejects


def test_parse_lines() -> None:
    points, rejects = _parse(b"a.b 1.5 1700000000\r\n  c 2 1700000001  \ndisk;host=x;dc=y 3 -1\n")
    assert points == [
        ("a.b", 1_700_000_000, 1.5),
        ("c", 1_700_000_001, 2),
        ("disk;dc=y;host=x", 42.0, 3),
    ]
    assert rejects == {}


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (b"a.b 1", "missing_fields"),
        (b"a.b 1 2 3", "bad_line"),
        (b"a.b x 1700000000", "bad_value"),
        (b"a.b nan 1700000000", "bad_value"),
        (b"a.b 1 yesterday", "bad_timestamp"),
        (b"a.b 1 0", "bad_timestamp"),
        (b"a.b 1 1e300", "bad_timestamp"),
        (b"a..b 1 1700000000", "bad_name"),
        (b"a;host 1 1700000000", "bad_name"),
        (b"\xff 1 1700000000", "bad_name"),
        (b"a" * 600 + b" 1 1700000000", "too_long"),
    ],
)
def test_bad_line(line: bytes, reason: str) -> None:
    points, rejects = _parse(b"ok.1 1 1700000000\n" + line + b"\nok.2 2 1700000000\n")
    assert rejects == {reason: 1}
    assert [p[0] for p in points] == ["ok.1", "ok.2"]


def test_tcp_partial_lines_and_bad_lines(sink: RecordingSink, metrics: SelfMetrics, wire) -> None:
    server = GraphiteServer("127.0.0.1", 0, sink, metrics)
    server.start()
    try:
        with socket.create_connection(("127.0.0.1", server.port)) as conn:
            conn.sendall(b"a.b 1 1700000000\na.")
            time.sleep(0.05)
            conn.sendall(b"c 2 1700000000\ngarbage\n")
            wire.wait_until(lambda: wire.received(metrics, "graphite") == 2)
            conn.sendall(b"a.d 3 1700000000\n")
            wire.wait_until(lambda: wire.received(metrics, "graphite") == 3)
        with socket.create_connection(("127.0.0.1", server.port)) as conn:
            conn.sendall(b"last 4 1700000000")  # no final newline: handled at close
        wire.wait_until(lambda: wire.received(metrics, "graphite") == 4)
    finally:
        server.stop()
    assert [p[0] for p in sink.points()] == ["a.b", "a.c", "a.d", "last"]
    assert wire.rejected(metrics) == {"graphite/missing_fields": 1}
    assert all(b.protocol == "graphite" for b in sink.batches)


def test_tcp_overlong_line_dropped(sink: RecordingSink, metrics: SelfMetrics, wire) -> None:
    server = GraphiteServer("127.0.0.1", 0, sink, metrics)
    server.start()
    try:
        with socket.create_connection(("127.0.0.1", server.port)) as conn:
            conn.sendall(b"x" * 5000)
            time.sleep(0.05)
            conn.sendall(b"y" * 5000 + b" 1 1700000000\nok 1 1700000000\n")
            wire.wait_until(lambda: wire.received(metrics, "graphite") == 1)
    finally:
        server.stop()
    assert [p[0] for p in sink.points()] == ["ok"]
    assert wire.rejected(metrics) == {"graphite/too_long": 1}


def test_many_connections(sink: RecordingSink, metrics: SelfMetrics, wire) -> None:
    server = GraphiteServer("127.0.0.1", 0, sink, metrics)
    server.start()
    try:
        conns = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(20)]
        for i, conn in enumerate(conns):
            conn.sendall(f"c.{i} {i} 1700000000\n".encode())
        wire.wait_until(lambda: wire.received(metrics, "graphite") == 20)
        for conn in conns:
            conn.close()
    finally:
        server.stop()
    assert sorted(p[2] for p in sink.points()) == list(range(20))


def test_udp(sink: RecordingSink, metrics: SelfMetrics, wire) -> None:
    server = GraphiteUdpServer("127.0.0.1", 0, sink, metrics)
    server.start()
    try:
        wire.send_udp(
            server.port, b"u.a 1 1700000000\nbad\nu.b 2 1700000000", b"u.c 3 1700000000\n"
        )
        wire.wait_until(lambda: wire.received(metrics, "graphite") == 3)
    finally:
        server.stop()
    assert sorted(p[0] for p in sink.points()) == ["u.a", "u.b", "u.c"]
    assert wire.rejected(metrics) == {"graphite/missing_fields": 1}
