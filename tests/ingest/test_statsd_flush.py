"""Flush math, checked against values worked out from Etsy's lib/process_metrics.js."""

from __future__ import annotations

import math

import pytest

from opsradar.ingest._statsd_flush import (
    FlushConfig,
    FlushState,
    flush_points,
    pct_suffix,
    timer_stats,
)
from opsradar.ingest._statsd_parse import StatsdParser


def test_timer_one_to_ten() -> None:
    stats = dict(timer_stats([float(v) for v in range(10, 0, -1)], 10.0, 10.0, (90.0,)))
    assert stats == {
        "count_90": 9,
        "mean_90": 5,
        "upper_90": 9,
        "sum_90": 45,
        "sum_squares_90": 285,
        "std": math.sqrt(8.25),
        "upper": 10,
        "lower": 1,
        "count": 10,
        "count_ps": 1,
        "sum": 55,
        "sum_squares": 385,
        "mean": 5.5,
        "median": 5.5,
    }


def test_timer_single_value_and_negative_percentile() -> None:
    stats = dict(timer_stats([100.0], 1.0, 10.0, (90.0, -10.0)))
    assert stats["mean_90"] == stats["upper_90"] == stats["lower_top10"] == 100
    assert stats["count_90"] == stats["count_top10"] == 1
    assert stats["std"] == 0 and stats["median"] == 100 and stats["count_ps"] == 0.1


def test_timer_top_percentile() -> None:
    stats = dict(timer_stats([float(v) for v in range(1, 11)], 10.0, 10.0, (-10.0,)))
    assert stats["lower_top10"] == 10 and stats["sum_top10"] == 10 and stats["mean_top10"] == 10
    assert stats["sum_squares_top10"] == 100


def test_percentile_rounding_is_javascripts() -> None:
    # Math.round(0.5 * 5) = 3 (half up), Python's round(2.5) would give 2.
    stats = dict(timer_stats([1.0, 2.0, 3.0, 4.0, 5.0], 5.0, 1.0, (50.0,)))
    assert stats["count_50"] == 3 and stats["upper_50"] == 3


def test_percentile_too_small_is_skipped() -> None:
    stats = dict(timer_stats([1.0, 2.0, 3.0], 3.0, 1.0, (10.0,)))
    assert "mean_10" not in stats and stats["mean"] == 2


def test_empty_timer_reports_zero_counts() -> None:
    assert timer_stats([], 0.0, 10.0, (90.0,)) == [("count", 0.0), ("count_ps", 0.0)]


def test_histogram_bins() -> None:
    stats = dict(
        timer_stats([0.005, 0.05, 0.5, 5.0, 50.0, 500.0], 6.0, 1.0, (), (0.01, 0.1, 1, 100))
    )
    assert [stats[f"histogram.bin_{b}"] for b in ("0_01", "0_1", "1", "100")] == [1, 1, 1, 2]
    stats = dict(timer_stats([5.0, 500.0], 2.0, 1.0, (), (10, math.inf)))
    assert stats["histogram.bin_10"] == 1 and stats["histogram.bin_inf"] == 1


@pytest.mark.parametrize(("pct", "suffix"), [(90.0, "90"), (99.9, "99_9"), (-10.0, "top10")])
def test_pct_suffix(pct: float, suffix: str) -> None:
    assert pct_suffix(pct) == suffix


def _flush(parser: StatsdParser, state: FlushState, config: FlushConfig) -> dict[str, float]:
    window, gauges = parser.swap(keep_gauges=not config.delete_idle)
    names, values = flush_points(window, gauges, state, config)
    assert len(names) == len(set(names))
    return dict(zip(names, values, strict=True))


def test_flush_layout_and_idle_keys() -> None:
    parser, state, config = StatsdParser(), FlushState(), FlushConfig(interval=10.0)
    parser.feed(b"hits:3|c|@0.5\nlat:7|ms\ntemp:20|g\nusers:a|s\nusers:b|s\nusers:a|s")
    first = _flush(parser, state, config)
    assert first["stats.counters.hits.count"] == 6
    assert first["stats.counters.hits.rate"] == 0.6
    assert first["stats.timers.lat.mean"] == 7 and first["stats.timers.lat.upper_90"] == 7
    assert first["stats.gauges.temp"] == 20
    assert first["stats.sets.users.count"] == 2
    assert first["stats.counters.statsd.metrics_received.count"] == 6
    assert first["stats.statsd.numStats"] == 7  # 3 statsd counters + 4 keys
    second = _flush(parser, state, config)
    assert second["stats.counters.hits.count"] == 0
    assert second["stats.timers.lat.count"] == 0 and "stats.timers.lat.mean" not in second
    assert second["stats.gauges.temp"] == 20
    assert second["stats.sets.users.count"] == 0


def test_delete_idle_stats() -> None:
    parser, state = StatsdParser(), FlushState()
    config = FlushConfig(delete_idle=True, self_metrics=False)
    parser.feed(b"hits:1|c\nlat:7|ms\ntemp:20|g\nusers:a|s")
    assert len(_flush(parser, state, config)) > 4
    assert _flush(parser, state, config) == {}


def test_counter_names_made_once_are_forgotten_with_idle_keys() -> None:
    parser, state = StatsdParser(), FlushState()
    config = FlushConfig(interval=2.0, delete_idle=True, self_metrics=False)
    parser.feed(b"\n".join(b"k%d:1|c" % i for i in range(3000)))
    assert len(_flush(parser, state, config)) == 6000
    parser.feed(b"k7:4|c\nk7:1|c|#env:prod")  # the same key again, and a tagged one
    assert _flush(parser, state, config) == {
        "stats.counters.k7.count": 4.0,
        "stats.counters.k7.rate": 2.0,
        "stats.counters.k7.count;env=prod": 1.0,
        "stats.counters.k7.rate;env=prod": 0.5,
    }
    assert set(state.counter_names) == {"k7", "k7;env=prod"}  # the 2,998 idle keys' names went


def test_gauge_deltas_persist() -> None:
    parser, state, config = StatsdParser(), FlushState(), FlushConfig(self_metrics=False)
    parser.feed(b"g:333|g\ng:-10|g\ng:+4|g")
    assert _flush(parser, state, config)["stats.gauges.g"] == 327
    parser.feed(b"g:+3|g")
    assert _flush(parser, state, config)["stats.gauges.g"] == 330
    parser.feed(b"new:-5|g")  # a delta on an unknown gauge sets it, as in Etsy's statsd
    assert _flush(parser, state, config)["stats.gauges.new"] == -5


def test_timer_sample_rate_scales_count_only() -> None:
    parser, state, config = StatsdParser(), FlushState(), FlushConfig(self_metrics=False)
    parser.feed(b"lat:10|ms|@0.1\nlat:20|ms|@0.1")
    out = _flush(parser, state, config)
    assert out["stats.timers.lat.count"] == 20 and out["stats.timers.lat.count_ps"] == 2
    assert out["stats.timers.lat.mean"] == 15


def test_dogstatsd_tags_become_labels() -> None:
    parser, state, config = StatsdParser(), FlushState(), FlushConfig(self_metrics=False)
    parser.feed(b"req:1|c|#env:prod,host:a\nreq:2|c|@0.5|#host:a,env:prod\nreq:1|c|#canary")
    out = _flush(parser, state, config)
    assert out["stats.counters.req.count;env=prod;host=a"] == 5
    assert out["stats.counters.req.rate;env=prod;host=a"] == 0.5
    assert out["stats.counters.req.count;canary=true"] == 1
