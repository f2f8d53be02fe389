"""The fleet's layout and its normal behaviour, as pure functions of (seed, time step).

Every value is a deterministic function of the seed and the step index ``step = ts //
interval``: noise for a step comes from its own generator ``default_rng([seed, stream,
step])``, so the backfill and the live feed produce the same number for the same point and
no state carries from one step to the next.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from opsradar.core import FloatArray, IntArray

DAY = 86400.0
NOISE_CLIP = 2.5  # normal noise never exceeds 2.5 sigma: only injected incidents look abnormal

# Streams of the per-step generators; each kind of randomness draws from its own.
STREAM_PARAMS = 0
STREAM_HOST_NOISE = 1
STREAM_SERVICE = 2
STREAM_DEPLOY = 3


class MetricSpec(NamedTuple):
    """One host metric: base level range, daily amplitude and noise (relative), limits."""

    name: str
    base_lo: float
    base_hi: float
    amp: float
    noise: float
    lo: float
    hi: float
    decimals: int


HOST_METRICS: tuple[MetricSpec, ...] = (
    MetricSpec("cpu.user", 6.0, 14.0, 0.45, 0.05, 0.0, 100.0, 2),
    MetricSpec("cpu.system", 2.0, 5.0, 0.35, 0.06, 0.0, 100.0, 2),
    MetricSpec("mem.used_pct", 40.0, 70.0, 0.04, 0.008, 0.0, 100.0, 2),
    MetricSpec("disk.used_pct", 30.0, 70.0, 0.0, 0.002, 0.0, 100.0, 2),
    MetricSpec("net.rx_bytes", 2e5, 2e6, 0.55, 0.04, 0.0, np.inf, 0),
    MetricSpec("net.tx_bytes", 1e5, 1e6, 0.55, 0.04, 0.0, np.inf, 0),
    MetricSpec("load.1m", 0.5, 3.0, 0.4, 0.05, 0.0, np.inf, 2),
    MetricSpec("disk.io_ops", 50.0, 400.0, 0.35, 0.05, 0.0, np.inf, 1),
    MetricSpec("tcp.connections", 80.0, 900.0, 0.5, 0.03, 0.0, np.inf, 0),
    MetricSpec("proc.count", 150.0, 320.0, 0.0, 0.012, 0.0, np.inf, 0),
)
METRIC_INDEX = {m.name: i for i, m in enumerate(HOST_METRICS)}


def daily(ts: FloatArray) -> FloatArray:
    """Daily shape in [-1, 1]: lowest around 01:30 UTC, highest around 13:30 UTC."""
    x = 2.0 * np.pi * (np.mod(ts, DAY) / DAY)
    out: FloatArray = 0.85 * np.sin(x - 1.96) + 0.15 * np.sin(2.0 * x - 0.5)
    return out


def step_rng(seed: int, stream: int, step: int) -> np.random.Generator:
    """The generator for one (stream, step): independent of every other step."""
    return np.random.default_rng([seed, stream, step])


@dataclass(frozen=True)
class Layout:
    """Hosts ``<service>-NNN`` dealt round-robin over services; series are host-major."""

    hosts: tuple[str, ...]
    host_service: tuple[str, ...]
    names: tuple[str, ...]

    @classmethod
    def build(cls, hosts: int, services: tuple[str, ...]) -> Layout:
        if hosts < 1 or not services:
            raise ValueError("a fleet needs at least one host and one service")
        host_names = tuple(
            f"{services[i % len(services)]}-{i // len(services) + 1:03d}" for i in range(hosts)
        )
        host_service = tuple(services[i % len(services)] for i in range(hosts))
        names = tuple(f"hosts.{h}.{m.name}" for h in host_names for m in HOST_METRICS)
        return cls(host_names, host_service, names)

    def row(self, host: str, metric: str) -> int:
        return self.hosts.index(host) * len(HOST_METRICS) + METRIC_INDEX[metric]

    def host_rows(self, host: str) -> IntArray:
        first = self.hosts.index(host) * len(HOST_METRICS)
        return np.arange(first, first + len(HOST_METRICS), dtype=np.int64)

    def pick_host(self, service: str, number: int) -> str:
        """``<service>-<number>`` if the fleet has it, else that service's last host."""
        wanted = f"{service}-{number:03d}"
        if wanted in self.hosts:
            return wanted
        own = [h for h, s in zip(self.hosts, self.host_service, strict=True) if s == service]
        return own[-1] if own else self.hosts[-1]


class HostModel:
    """Normal host metrics: ``level * (1 + noise * z)``, level following the daily shape."""

    def __init__(self, seed: int, layout: Layout, interval: float) -> None:
        self.seed = seed
        self.interval = interval
        n_hosts = len(layout.hosts)
        rng = step_rng(seed, STREAM_PARAMS, 0)
        specs = HOST_METRICS
        u = rng.random((n_hosts, len(specs)))
        lo = np.array([m.base_lo for m in specs])
        hi = np.array([m.base_hi for m in specs])
        self.base = (lo + u * (hi - lo)).ravel()
        # Each host's daily cycle is shifted by up to +-30 min, its amplitude by +-20 %.
        shift = rng.uniform(-1800.0, 1800.0, n_hosts)
        self.phase = np.repeat(shift, len(specs))
        self.amp = (np.array([m.amp for m in specs]) * rng.uniform(0.8, 1.2, (n_hosts, 1))).ravel()
        self.noise = np.tile([m.noise for m in specs], n_hosts)
        self.lo = np.tile([m.lo for m in specs], n_hosts)
        self.hi = np.tile([m.hi for m in specs], n_hosts)

    def level(self, ts: FloatArray) -> FloatArray:
        """Noise-free values, shape ``(series, len(ts))``."""
        shape = daily(ts[None, :] + self.phase[:, None])
        out: FloatArray = self.base[:, None] * (1.0 + self.amp[:, None] * shape)
        return out

    def values(self, steps: IntArray) -> FloatArray:
        """Normal values for these steps, shape ``(series, len(steps))``."""
        ts = steps.astype(np.float64) * self.interval
        n = len(self.base)
        z = np.empty((n, len(steps)))
        for j, step in enumerate(steps.tolist()):
            z[:, j] = step_rng(self.seed, STREAM_HOST_NOISE, step).standard_normal(n)
        np.clip(z, -NOISE_CLIP, NOISE_CLIP, out=z)
        values = self.level(ts) * (1.0 + self.noise[:, None] * z)
        return np.clip(values, self.lo[:, None], self.hi[:, None])
