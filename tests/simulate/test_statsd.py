import re

import numpy as np

from opsradar.simulate import MAX_DATAGRAM, Fleet
from opsradar.simulate._statsd import ServiceSample, entries, pack, timer_stats

STATSD_LINE = re.compile(r"^[a-z_]+\.(requests|errors|latency):[0-9.]+\|(c|ms)(\|@0\.1)?$")


def test_timer_stats_match_etsy_statsd() -> None:
    stats = timer_stats(np.arange(10.0, 0.0, -1.0), 10.0, [90])
    assert stats["count"] == 100  # ten samples at sample rate 0.1
    assert stats["count_ps"] == 10
    assert (stats["lower"], stats["upper"], stats["mean"], stats["median"]) == (1, 10, 5.5, 5.5)
    assert (stats["upper_90"], stats["mean_90"], stats["sum_90"]) == (9, 5, 45)
    assert stats["count_90"] == 9
    assert timer_stats(np.arange(1.0, 6.0), 10.0, [90])["count_90"] == 5  # 4.5 rounds up
    assert timer_stats(np.array([]), 10.0, [90]) == {"count": 0.0, "count_ps": 0.0}


def test_flush_series_names_per_service() -> None:
    fleet = Fleet(hosts=6, percentiles=(90.0, 99.0))
    names = {line.split(" ")[0] for line in fleet.statsd_lines(np.array([170_000_000]))}
    assert "stats.counters.checkout.requests.count" in names
    assert "stats.counters.web.errors.rate" in names
    assert "stats.timers.auth.latency.upper_90" in names
    assert "stats.timers.auth.latency.upper_99" in names
    assert len(names) == 6 * (4 + 9 + 10)


def test_entries_carry_sample_rates_and_several_metrics() -> None:
    sample = ServiceSample("web", np.array([12.5, 40.0]), errors=1)
    assert entries(sample) == [
        "web.requests:1|c|@0.1\nweb.latency:12.5|ms|@0.1",
        "web.requests:1|c|@0.1\nweb.latency:40|ms|@0.1",
        "web.errors:1|c",
    ]


def test_pack_keeps_entries_whole_and_datagrams_small() -> None:
    items = [f"svc.requests:1|c|@0.1\nsvc.latency:{i}|ms" for i in range(500)]
    datagrams = pack(items)
    assert all(len(d) <= MAX_DATAGRAM for d in datagrams)
    assert b"\n".join(datagrams).decode().split("\n") == "\n".join(items).split("\n")
    assert len(datagrams) < 25


def test_live_datagrams_are_valid_statsd() -> None:
    fleet = Fleet(hosts=6)
    parts = fleet.statsd_datagrams(170_000_000)
    assert len(parts) == 10
    datagrams = [d for part in parts for d in part]
    assert all(len(d) <= MAX_DATAGRAM for d in datagrams)
    lines = [line for d in datagrams for line in d.decode().split("\n")]
    assert all(STATSD_LINE.match(line) for line in lines), lines[:3]
    requests = sum(line.startswith("web.requests") for line in lines)
    flushed = dict(line.split(" ")[:2] for line in fleet.statsd_lines(np.array([170_000_000])))
    assert float(flushed["stats.counters.web.requests.count"]) == requests * 10
