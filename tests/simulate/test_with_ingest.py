"""Contract with the real ingest stage: the backfill's StatsD-derived series are exactly what
the live StatsD flush produces from the fleet's datagrams, and every line is accepted."""

import time

import numpy as np

from opsradar.core import SelfMetrics
from opsradar.ingest import GraphiteServer, RecordingSink, StatsdServer
from opsradar.simulate import Fleet, GraphiteSender

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
