"""Contract with the real ingest stage: the backfill's StatsD-derived series are exactly what
the live StatsD flush produces from the fleet's datagrams, and every line is accepted."""

import threading
import time

import numpy as np

from opsradar.core import SelfMetrics
from opsradar.ingest import GraphiteServer, RecordingSink, StatsdServer
from opsradar.simulate import Fleet, GraphiteSender

from .conftest import HttpSink, TcpSink

STEP = 170_000_123


def test_live_statsd_flush_equals_backfilled_series() -> None:
    fleet = Fleet(hosts=6)
    sink, metrics = RecordingSink(), SelfMetrics()
    server = StatsdServer("127.0.0.1", 0, sink, metrics, self_metrics=False)
    for part in fleet.statsd_datagrams(STEP):
        for datagram in part:
            server.feed(datagram)
    server.flush()
    flushed = sink.values()
    backfilled = {
        name: float(value)
        for name, value, _ in (ln.split() for ln in fleet.statsd_lines(np.array([STEP])))
    }
    assert set(flushed) == set(backfilled)
    for name, value in backfilled.items():
        assert abs(flushed[name] - value) <= 0.0005 + 1e-9 * abs(value), name
    assert not metrics.rejected_by_reason()


def test_graphite_server_accepts_every_backfill_line() -> None:
    fleet = Fleet(hosts=20)
    sink, metrics = RecordingSink(), SelfMetrics()
    server = GraphiteServer("127.0.0.1", 0, sink, metrics)
    server.start()
    try:
        with GraphiteSender(("127.0.0.1", server.port)) as out:
            sent = fleet.backfill(out.send_lines, now=1_700_000_000.0, hours=0.5)
        deadline = time.monotonic() + 5
        while sink.count() < sent and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        server.stop()
    assert sink.count() == sent
    assert not metrics.rejected_by_reason()
    point = next(p for p in sink.points() if p.name == "hosts.web-001.cpu.user")
    assert point.ts == 1_700_000_000.0 - 1790


def test_each_live_flush_holds_exactly_one_step(tcp_sink: TcpSink, http_sink: HttpSink) -> None:
    fleet = Fleet(hosts=2, interval=1.0)
    sink = RecordingSink()
    server = StatsdServer(
        "127.0.0.1", 0, sink, SelfMetrics(), flush_interval=1.0, self_metrics=False
    )
    server.start()
    phase = time.time()
    time.sleep(0.4)  # the fleet starts in the middle of a flush window
    stop = threading.Event()
    args = (tcp_sink.address, ("127.0.0.1", server.port), http_sink.base, stop)
    thread = threading.Thread(target=fleet.run, args=args, kwargs={"statsd_phase": phase})
    thread.start()
    time.sleep(3.3)
    stop.set()
    stopped = time.time()
    thread.join(5)
    server.stop()
    key = "stats.counters.{}.requests.count"
    steps = range(int(phase) - 2, int(stopped) + 2)
    expected = {
        s: {ln.split()[0]: float(ln.split()[1]) for ln in fleet.statsd_lines(np.array([s]))}
        for s in steps
    }
    flushes = [b for b in sink.batches if b.ts[0] < stopped and key.format("web") in b.names]
    assert len(flushes) >= 3
    for batch in flushes:
        got = dict(zip(batch.names, batch.values.tolist(), strict=True))
        counts = {svc: got[key.format(svc)] for svc in fleet.services}
        matches = [
            s for s in steps if all(expected[s][key.format(v)] == c for v, c in counts.items())
        ]
        assert len(matches) == 1, (batch.ts[0] - phase, counts)
