"""Flush math: a StatsD window → points, as Etsy's statsd and its Graphite backend do it.

The series layout is statsd's Graphite backend with ``legacyNamespace: false``::

    stats.counters.<key>.count      sum of value / sample rate over the flush
    stats.counters.<key>.rate       count per second
    stats.timers.<key>.<stat>       mean upper lower count count_ps sum sum_squares std
                                    median, and per percentile N: count_N mean_N upper_N
                                    sum_N sum_squares_N (N<0: lower_topN ...); with
                                    histogram bins: histogram.bin_<limit>
    stats.gauges.<key>              last value (kept between flushes)
    stats.sets.<key>.count          distinct members seen in the flush
    stats.statsd.numStats           keys flushed (with self metrics on), and the counters
                                    statsd.packets_received / metrics_received / bad_lines_seen

DogStatsD tags stay labels of every derived series: ``stats.timers.api.mean;env=prod``.
Arithmetic follows ``lib/process_metrics.js`` step by step, so values match bit for bit.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import accumulate

from opsradar.ingest._statsd_parse import Window

Histogram = Sequence[tuple[str, Sequence[float]]]


def js_number(x: float) -> str:
    """Format a number as JavaScript's ``String(x)`` does, for the common cases.

    >>> js_number(90.0), js_number(99.9), js_number(math.inf)
    ('90', '99.9', 'Infinity')
    """
    x = float(x)
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    return str(int(x)) if x.is_integer() else repr(x)


def pct_suffix(pct: float) -> str:
    """``90`` → ``90``, ``99.9`` → ``99_9``, ``-10`` → ``top10`` (statsd's ``clean_pct``)."""
    return js_number(pct).replace(".", "_", 1).replace("-", "top", 1)


def bin_name(limit: float) -> str:
    return "bin_inf" if math.isinf(limit) else "bin_" + js_number(limit).replace(".", "_", 1)


def _js_round(x: float) -> int:
    return math.floor(x + 0.5)


def timer_stats(
    values: list[float],
    count: float,
    interval: float,
    percentiles: Sequence[float],
    bins: Sequence[float] = (),
) -> list[tuple[str, float]]:
    """Statistics of one timer over one flush. ``count`` is the sample-rate-scaled count."""
    if not values:
        return [("count", 0.0), ("count_ps", 0.0)]
    values = sorted(values)
    n = len(values)
    low, high = values[0], values[-1]
    cumul = list(accumulate(values))
    cumul_sq = list(accumulate(v * v for v in values))
    out: list[tuple[str, float]] = []
    total, squares, mean, boundary = low, low * low, low, high
    for pct in percentiles:
        k = n
        if n > 1:
            k = _js_round(abs(pct) / 100 * n)
            if k == 0:
                continue
            if pct > 0:
                boundary, total, squares = values[k - 1], cumul[k - 1], cumul_sq[k - 1]
            else:
                boundary = values[n - k]
                before = cumul[n - k - 1] if n - k - 1 >= 0 else 0.0
                before_sq = cumul_sq[n - k - 1] if n - k - 1 >= 0 else 0.0
                total, squares = cumul[n - 1] - before, cumul_sq[n - 1] - before_sq
            mean = total / k
        s = pct_suffix(pct)
        out += [
            (f"count_{s}", float(k)),
            (f"mean_{s}", mean),
            (f"{'upper' if pct > 0 else 'lower'}_{s}", boundary),
            (f"sum_{s}", total),
            (f"sum_squares_{s}", squares),
        ]
    total, squares = cumul[-1], cumul_sq[-1]
    mean = total / n
    diffs = 0.0
    for v in values:
        diffs += (v - mean) * (v - mean)
    mid = n // 2
    median = values[mid] if n % 2 else (values[mid - 1] + values[mid]) / 2
    out += [
        ("std", math.sqrt(diffs / n)),
        ("upper", high),
        ("lower", low),
        ("count", count),
        ("count_ps", count / interval),
        ("sum", total),
        ("sum_squares", squares),
        ("mean", mean),
        ("median", median),
    ]
    i = 0
    for limit in bins:
        freq = 0
        while i < n and values[i] < limit:
            freq += 1
            i += 1
        out.append((f"histogram.{bin_name(limit)}", float(freq)))
    return out


def _series(prefix: str, name: str, stat: str) -> str:
    """``stats.timers`` + ``api;env=prod`` + ``mean`` → ``stats.timers.api.mean;env=prod``."""
    path, semi, labels = name.partition(";")
    head = f"{prefix}.{path}.{stat}" if stat else f"{prefix}.{path}"
    return f"{head};{labels}" if semi else head


@dataclass(slots=True)
class FlushState:
    """What the flush thread remembers between flushes (idle keys report zeros)."""

    counters: set[str] = field(default_factory=set)
    timers: set[str] = field(default_factory=set)
    sets: set[str] = field(default_factory=set)
    # a counter's two series names, made once: a flush of 100,000 counters took 0.12 s of
    # the one core with them formatted anew, 0.09 s with these (whose hashes are cached)
    counter_names: dict[str, tuple[str, str]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class FlushConfig:
    interval: float = 10.0
    percentiles: tuple[float, ...] = (90.0,)
    histogram: tuple[tuple[str, tuple[float, ...]], ...] = ()
    delete_idle: bool = False
    self_metrics: bool = True

    def bins_for(self, name: str) -> tuple[float, ...]:
        path = name.partition(";")[0]
        for metric, bins in self.histogram:
            if metric in path:
                return bins
        return ()


def flush_points(
    window: Window, gauges: dict[str, float], state: FlushState, config: FlushConfig
) -> tuple[list[str], list[float]]:
    """Names and values of one flush; updates ``state`` (the keys still reported)."""
    names: list[str] = []
    values: list[float] = []
    counters = dict(window.counters)
    if config.self_metrics:
        counters["statsd.packets_received"] = float(window.packets)
        counters["statsd.metrics_received"] = float(window.lines)
        counters["statsd.bad_lines_seen"] = float(window.bad_lines)
    state.counters = _keys(state.counters, counters, config.delete_idle)
    cache = state.counter_names
    if len(cache) > 2 * len(state.counters) + 1024:  # keys deleted as idle
        state.counter_names = cache = {k: v for k, v in cache.items() if k in state.counters}
    for key in state.counters:
        value = counters.get(key, 0.0)
        pair = cache.get(key)
        if pair is None:
            pair = cache[key] = (
                _series("stats.counters", key, "count"),
                _series("stats.counters", key, "rate"),
            )
        names += pair
        values += [value, value / config.interval]
    state.timers = _keys(state.timers, window.timers, config.delete_idle)
    for key in state.timers:
        stats = timer_stats(
            window.timers.get(key, []),
            window.timer_counts.get(key, 0.0),
            config.interval,
            config.percentiles,
            config.bins_for(key),
        )
        for stat, value in stats:
            names.append(_series("stats.timers", key, stat))
            values.append(value)
    for key, value in gauges.items():
        names.append(_series("stats.gauges", key, ""))
        values.append(value)
    state.sets = _keys(state.sets, window.sets, config.delete_idle)
    for key in state.sets:
        names.append(_series("stats.sets", key, "count"))
        values.append(float(len(window.sets.get(key, ()))))
    if config.self_metrics:
        num = len(state.counters) + len(state.timers) + len(gauges) + len(state.sets)
        names.append("stats.statsd.numStats")
        values.append(float(num))
    return names, values


def _keys(known: set[str], current: Mapping[str, object], delete_idle: bool) -> set[str]:
    if delete_idle:
        return set(current)
    known.update(current)
    return known
