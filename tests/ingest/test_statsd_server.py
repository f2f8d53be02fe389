"""StatsdServer over real sockets on 127.0.0.1."""

from __future__ import annotations

import socket
import time

import pytest

from opsradar.core import ConfigError, SelfMetrics
from opsradar.ingest import RecordingSink, StatsdServer


def _server(sink: RecordingSink, metrics: SelfMetrics, **kw: object) -> StatsdServer:
    kw.setdefault("flush_interval", 3600.0)
    return StatsdServer("127.0.0.1", 0, sink, metrics, clock=lambda: 1_700_000_000.0, **kw)  # type: ignore[arg-type]


def test_udp_receive_and_flush_on_stop(sink: RecordingSink, metrics: SelfMetrics, wire) -> None:
    server = _server(sink, metrics)
    server.start()
    assert server.port > 0
    wire.send_udp(server.port, b"hits:1|c\nhits:2|c\nbad line\nlat:5|ms", b"hits:3|c")
    wire.wait_until(lambda: wire.received(metrics, "statsd") == 4)
    server.stop()
    values = sink.values()
    assert values["stats.counters.hits.count"] == 6
    assert values["stats.timers.lat.mean"] == 5
    assert values["stats.counters.statsd.packets_received.count"] == 2
    assert values["stats.counters.statsd.bad_lines_seen.count"] == 1
    assert wire.rejected(metrics) == {"statsd/missing_fields": 1}
    assert {ts for _, ts, _ in sink.points()} == {1_700_000_000.0}
    assert all(b.protocol == "statsd" for b in sink.batches)


def test_periodic_flush(sink: RecordingSink, metrics: SelfMetrics, wire) -> None:
    server = _server(sink, metrics, flush_interval=0.05)
    server.start()
    try:
        wire.send_udp(server.port, b"x:1|c")
        wire.wait_until(
            lambda: any(n == "stats.counters.x.count" and v == 1 for n, _, v in sink.points())
        )
        wire.wait_until(lambda: len(sink.batches) >= 3)
    finally:
        server.stop()
    assert sink.values()["stats.counters.x.rate"] == 0


def test_tcp(sink: RecordingSink, metrics: SelfMetrics, wire) -> None:
    server = _server(sink, metrics, tcp_port=0)
    server.start()
    try:
        with socket.create_connection(("127.0.0.1", server.tcp_port)) as conn:
            conn.sendall(b"t:1|c\nt:")
            time.sleep(0.05)
            conn.sendall(b"2|c\n###\nt:4|c\n")
            wire.wait_until(lambda: wire.received(metrics, "statsd") == 3)
            conn.sendall(b"t:8|c\n")  # still open after a bad line
            wire.wait_until(lambda: wire.received(metrics, "statsd") == 4)
    finally:
        server.stop()
    assert sink.values()["stats.counters.t.count"] == 15
    assert wire.rejected(metrics) == {"statsd/missing_fields": 1}


def test_receiving_continues_while_sink_is_slow(metrics: SelfMetrics, wire) -> None:
    class SlowSink:
        def put(self, batch: object) -> None:
            time.sleep(0.3)

    sink = SlowSink()
    server = _server(sink, metrics, flush_interval=0.05)
    server.start()
    try:
        time.sleep(0.1)  # a flush is now in progress
        start = time.monotonic()
        wire.send_udp(server.port, b"a:1|c")
        wire.wait_until(lambda: wire.received(metrics, "statsd") == 1)
        assert time.monotonic() - start < 0.2
    finally:
        server.stop()


def test_failing_sink_does_not_stop_flushing(metrics: SelfMetrics, wire) -> None:
    class Broken:
        calls = 0

        def put(self, batch: object) -> None:
            Broken.calls += 1
            raise RuntimeError("boom")

    server = StatsdServer("127.0.0.1", 0, Broken(), metrics, flush_interval=0.02)
    server.start()
    wire.wait_until(lambda: Broken.calls >= 3)
    server.stop()  # its final flush fails too, and is counted, not raised
    assert wire.rejected(metrics)["statsd/flush_error"] >= 4


@pytest.mark.parametrize(
    "kw", [{"flush_interval": 0}, {"percentiles": (0.0,)}, {"percentiles": (101.0,)}]
)
def test_bad_config(kw: dict[str, object], sink: RecordingSink, metrics: SelfMetrics) -> None:
    with pytest.raises(ConfigError):
        StatsdServer("127.0.0.1", 0, sink, metrics, **kw)  # type: ignore[arg-type]


def test_histogram_and_percentiles(sink: RecordingSink, metrics: SelfMetrics) -> None:
    server = _server(
        sink, metrics, percentiles=(50.0, 99.9), histogram=(("render", (1, float("inf"))),)
    )
    server.feed(b"render.page:0.5|ms\nrender.page:2|ms\nother:1|ms")
    server.flush()
    v = sink.values()
    assert v["stats.timers.render.page.histogram.bin_1"] == 1
    assert v["stats.timers.render.page.histogram.bin_inf"] == 1
    assert "stats.timers.other.histogram.bin_1" not in v
    assert v["stats.timers.render.page.upper_99_9"] == 2 and v["stats.timers.other.mean_50"] == 1
