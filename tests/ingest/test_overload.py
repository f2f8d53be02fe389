"""Overload is visible: datagrams the kernel dropped are counted (``kernel_buffer``), and the
per-key caps on timer samples and set members are counted when hit."""

from __future__ import annotations

import socket
import threading

from opsradar.core import SelfMetrics
from opsradar.ingest import RecordingSink, StatsdServer
from opsradar.ingest._net import UdpReader, kernel_drops
from opsradar.ingest._statsd_parse import StatsdParser


def test_kernel_drops_counted_as_kernel_buffer() -> None:
    release, first = threading.Event(), threading.Event()
    received: list[int] = []
    rejects: dict[str, int] = {}

    def handle(batch: list[bytes]) -> None:
        first.set()
        release.wait(10)  # a stalled reader: the kernel buffer fills and overflows
        received.append(len(batch))

    def reject(reason: str, n: int) -> None:
        rejects[reason] = rejects.get(reason, 0) + n

    reader = UdpReader("127.0.0.1", 0, handle, reject, rcvbuf=4096)
    reader.start("test-udp")
    sent = 400
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.sendto(b"x", ("127.0.0.1", reader.port))
        assert first.wait(5)
        for _ in range(sent):
            s.sendto(b"y" * 1000, ("127.0.0.1", reader.port))
    assert reader._sock is not None and (kernel_drops(reader._sock) or 0) > 0
    release.set()
    reader.stop()
    assert rejects["kernel_buffer"] > 0
    assert sum(received) + rejects["kernel_buffer"] == sent + 1


def test_kernel_drops_of_a_fresh_socket_is_zero() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        assert kernel_drops(s) == 0
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        assert kernel_drops(s) is None  # not a UDP socket: not in the table


def test_timer_cap_counts_fast_and_slow_path() -> None:
    parser = StatsdParser(max_timer_samples=3)
    result = parser.feed(b"t:1|ms\nt:2|ms\nt:3|ms\nt:4|ms\nt:5|ms|@0.5\nu:1|ms")
    assert parser.window.timers == {"t": [1.0, 2.0, 3.0], "u": [1.0]}
    assert parser.window.timer_counts["t"] == 3.0
    assert result.accepted == 4 and result.rejects == {"timer_cap": 2}


def test_set_cap_counts_new_members_only() -> None:
    parser = StatsdParser(max_set_members=2)
    result = parser.feed(b"s:a|s\ns:b|s\ns:a|s\ns:c|s\ns:d|s")
    assert parser.window.sets == {"s": {b"a", b"b"}}
    assert result.rejects == {"set_cap": 2}
    parser.swap()
    assert parser.feed(b"s:c|s").rejects == {}  # the cap is per flush


def test_caps_reach_self_metrics() -> None:
    metrics, sink = SelfMetrics(), RecordingSink()
    server = StatsdServer(
        "127.0.0.1", 0, sink, metrics, auto_flush=False, max_timer_samples=2, max_set_members=1
    )
    server.feed(b"t:1|ms\nt:2|ms\nt:3|ms\ns:a|s\ns:b|s")
    server.flush()
    assert metrics.rejected_by_reason() == {"statsd/timer_cap": 1, "statsd/set_cap": 1}
    assert sink.values()["stats.timers.t.count"] == 2.0
