"""Per-service StatsD traffic: what the apps send, and what a StatsD flush makes of it.

Each service sends, per sampled request, ``<svc>.requests:1|c|@0.1`` and a latency timer
``<svc>.latency:<ms>|ms|@0.1``, plus every error as ``<svc>.errors:1|c``. For the backfill the
same samples are turned into the series an Etsy-compatible flush produces
(``stats.counters.<svc>.requests.count``, ``stats.timers.<svc>.latency.upper_90`` ...), so the
history and the live flush continue one another.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import NamedTuple

import numpy as np

from opsradar.core import FloatArray
from opsradar.simulate._model import STREAM_PARAMS, STREAM_SERVICE, daily, step_rng

SAMPLE_RATE = 0.1
MAX_DATAGRAM = 1400  # bytes; below the 1432-byte safe payload of a 1500-byte MTU
# Latency samples are log-normal, clipped only far out: with hundreds of samples per flush a
# tighter clip would pin ``lower``/``upper`` to one constant value, which is not normal.
LATENCY_CLIP = 4.0


class ServiceSample(NamedTuple):
    """One service's traffic in one step: ``latencies`` has one entry per sampled request."""

    service: str
    latencies: FloatArray
    errors: int


class ServiceModel:
    """Request rate and latency per service, both following the daily shape."""

    def __init__(self, seed: int, services: tuple[str, ...], interval: float) -> None:
        self.seed = seed
        self.services = services
        self.interval = interval
        rng = step_rng(seed, STREAM_PARAMS, 1)
        self.rate = rng.uniform(40.0, 300.0, len(services))  # requests per second
        self.latency_ms = rng.uniform(20.0, 120.0, len(services))  # median latency
        self.error_ratio = rng.uniform(0.002, 0.006, len(services))

    def samples(self, step: int, latency_factor: dict[str, float]) -> list[ServiceSample]:
        """All services' traffic in ``step``; ``latency_factor`` scales a service's latency."""
        rng = step_rng(self.seed, STREAM_SERVICE, step)
        shape = float(daily(np.array([step * self.interval]))[0])
        out = []
        for i, svc in enumerate(self.services):
            expected = self.rate[i] * self.interval * (1.0 + 0.5 * shape)
            sampled = int(rng.poisson(expected * SAMPLE_RATE))
            z = np.clip(rng.standard_normal(sampled), -LATENCY_CLIP, LATENCY_CLIP)
            median = self.latency_ms[i] * (1.0 + 0.15 * shape) * latency_factor.get(svc, 1.0)
            latencies = np.round(median * np.exp(0.35 * z), 1)
            errors = int(rng.poisson(expected * self.error_ratio[i]))
            out.append(ServiceSample(svc, latencies, errors))
        return out


def flush_stats(
    sample: ServiceSample, interval: float, percentiles: Iterable[float]
) -> dict[str, float]:
    """The series a StatsD flush emits for one service's step, by full name."""
    svc = sample.service
    requests = len(sample.latencies) / SAMPLE_RATE
    out = {
        f"stats.counters.{svc}.requests.count": requests,
        f"stats.counters.{svc}.requests.rate": requests / interval,
        f"stats.counters.{svc}.errors.count": float(sample.errors),
        f"stats.counters.{svc}.errors.rate": sample.errors / interval,
    }
    prefix = f"stats.timers.{svc}.latency"
    for field, value in timer_stats(sample.latencies, interval, percentiles).items():
        out[f"{prefix}.{field}"] = value
    return out


def timer_stats(
    values: FloatArray, interval: float, percentiles: Iterable[float]
) -> dict[str, float]:
    """Etsy statsd's timer flush for one timer: count, mean, upper, upper_90 ..."""
    v = np.sort(values)
    n = len(v)
    count = n / SAMPLE_RATE
    out = {"count": count, "count_ps": count / interval}
    if n == 0:
        return out
    cum = np.cumsum(v)
    mid = n // 2
    out |= {
        "lower": float(v[0]),
        "mean": float(cum[-1] / n),
        "median": float(v[mid] if n % 2 else (v[mid - 1] + v[mid]) / 2),
        "std": float(v.std()),
        "sum": float(cum[-1]),
        "sum_squares": float(np.dot(v, v)),
        "upper": float(v[-1]),
    }
    for pct in percentiles:
        k = math.floor(pct / 100.0 * n + 0.5) if n > 1 else n  # JavaScript's Math.round
        if k == 0:
            continue
        tag = f"{pct:g}".replace(".", "_")
        out |= {
            f"count_{tag}": float(k),
            f"mean_{tag}": float(cum[k - 1] / k),
            f"sum_{tag}": float(cum[k - 1]),
            f"sum_squares_{tag}": float(np.dot(v[:k], v[:k])),
            f"upper_{tag}": float(v[k - 1]),
        }
    return out


def entries(sample: ServiceSample) -> list[str]:
    """Wire entries for one service's step; an entry (one request) may hold two metrics."""
    svc = sample.service
    rate = f"|@{SAMPLE_RATE:g}"
    out = [
        f"{svc}.requests:1|c{rate}\n{svc}.latency:{ms:g}|ms{rate}"
        for ms in sample.latencies.tolist()
    ]
    out += [f"{svc}.errors:1|c"] * sample.errors
    return out


def pack(items: list[str], limit: int = MAX_DATAGRAM) -> list[bytes]:
    """Newline-joined datagrams of at most ``limit`` bytes, entries never split."""
    datagrams: list[bytes] = []
    current: list[str] = []
    size = 0
    for item in items:
        length = len(item) + 1
        if current and size + length > limit + 1:
            datagrams.append("\n".join(current).encode())
            current, size = [], 0
        current.append(item)
        size += length
    if current:
        datagrams.append("\n".join(current).encode())
    return datagrams
