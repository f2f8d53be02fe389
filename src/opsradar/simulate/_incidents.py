"""The injected incidents: what they are, when they start, and how they change the data.

An ``IncidentPlan`` is fixed once, relative to the moment live traffic starts, and applied
to every generated step (backfill or live) whose time it covers, so the data is still a pure
function of the seed and the time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from opsradar.core import FloatArray, IntArray
from opsradar.simulate._model import Layout

# Wall-clock seconds after live traffic starts (multiplied by ``speed`` in simulated time).
DEPLOY_AFTER = 4.0
SHIFT_AFTER = 10.0
SPIKE_AFTER = 10.0
DRIFT_AFTER = 10.0
# The stopped host's last point is this many intervals before the end of the backfill, so
# the server already calls it stale soon after live traffic begins.
STOP_BEFORE_END = 12  # 2 min of silence by the time live traffic starts: a stop, not a late point
SPIKE_POINTS = 3
SPIKE_FACTOR = 7.0
SPIKE_CAP = 97.0
SHIFT_FACTOR = 3.0
DRIFT_PER_SECOND = 0.05  # disk percentage points per simulated second
DRIFT_CAP = 99.5


BoolArray = npt.NDArray[np.bool_]


class Incident(NamedTuple):
    """An injected incident: the series it touches and when it starts (unix seconds)."""

    kind: str  # "spike" | "level_shift" | "drift" | "stopped"
    series_glob: str
    start_ts: float
    description: str
    series: tuple[str, ...] = ()
    end_ts: float | None = None


@dataclass(frozen=True)
class IncidentPlan:
    incidents: tuple[Incident, ...]
    deploys: tuple[dict[str, Any], ...]
    spike_row: int
    drift_row: int
    stop_rows: IntArray
    shift_service: str

    def by_kind(self, kind: str) -> Incident:
        return next(i for i in self.incidents if i.kind == kind)

    def apply(self, ts: FloatArray, values: FloatArray) -> BoolArray:
        """Apply host incidents in place to ``values[series, step]``; return the sent mask."""
        spike = self.by_kind("spike")
        hit = (ts >= spike.start_ts) & (ts < (spike.end_ts or np.inf))
        row = values[self.spike_row]
        row[hit] = np.minimum(row[hit] * SPIKE_FACTOR, SPIKE_CAP)
        drift = self.by_kind("drift")
        climb = np.maximum(ts - drift.start_ts, 0.0) * DRIFT_PER_SECOND
        values[self.drift_row] = np.minimum(values[self.drift_row] + climb, DRIFT_CAP)
        sent = np.ones(values.shape, dtype=bool)
        sent[np.ix_(self.stop_rows, ts >= self.by_kind("stopped").start_ts)] = False
        return sent

    def latency_factor(self, ts: float) -> dict[str, float]:
        """Latency multiplier per service at ``ts`` (the level shift after the deploy)."""
        if ts >= self.by_kind("level_shift").start_ts:
            return {self.shift_service: SHIFT_FACTOR}
        return {}


def plan_incidents(
    layout: Layout,
    services: tuple[str, ...],
    live_start: float,
    stop_at: float,
    speed: float,
    interval: float,
) -> IncidentPlan:
    """Incidents starting ``*_AFTER`` wall seconds after ``live_start``; a host stops at
    ``stop_at``. Times are simulated: offsets are multiplied by ``speed``."""
    at = {k: live_start + v * speed for k, v in _OFFSETS.items()}
    spike_host = layout.pick_host(services[0], 17)
    drift_host = layout.pick_host(services[1 % len(services)], 9)
    stop = stop_host(layout, services)
    shift = "checkout" if "checkout" in services else services[2 % len(services)]
    latency = f"stats.timers.{shift}.latency"
    deploy = _deploy_event(shift, at["deploy"])
    incidents = (
        _spike(spike_host, at["spike"], interval),
        Incident(
            "level_shift",
            f"{latency}.*",
            at["shift"],
            f"{shift} latency x{SHIFT_FACTOR:g} after {deploy['what']}",
            (f"{latency}.mean", f"{latency}.upper_90", f"{latency}.median"),
        ),
        Incident(
            "drift",
            f"hosts.{drift_host}.disk.used_pct",
            at["drift"],
            f"{drift_host} disk filling at {DRIFT_PER_SECOND * 60:g} points/min",
            (f"hosts.{drift_host}.disk.used_pct",),
        ),
        Incident(
            "stopped",
            f"hosts.{stop}.*",
            stop_at,
            f"{stop} stops reporting",
            tuple(layout.names[r] for r in layout.host_rows(stop)),
        ),
    )
    return IncidentPlan(
        incidents,
        (deploy,),
        layout.row(spike_host, "cpu.user"),
        layout.row(drift_host, "disk.used_pct"),
        layout.host_rows(stop),
        shift,
    )


def stop_host(layout: Layout, services: tuple[str, ...]) -> str:
    """The host that stops reporting."""
    return layout.pick_host(services[4 % len(services)], 23)


_OFFSETS = {
    "deploy": DEPLOY_AFTER,
    "shift": SHIFT_AFTER,
    "spike": SPIKE_AFTER,
    "drift": DRIFT_AFTER,
}


def _spike(host: str, start: float, interval: float) -> Incident:
    """A spike covering exactly ``SPIKE_POINTS`` points of the ``interval`` grid."""
    name = f"hosts.{host}.cpu.user"
    start = float(np.ceil(start / interval) * interval)
    end = start + SPIKE_POINTS * interval
    return Incident("spike", name, start, f"{host} cpu.user x{SPIKE_FACTOR:g}", (name,), end)


def _deploy_event(service: str, when: float) -> dict[str, Any]:
    build = 9000 + int(when) % 1000
    return {
        "what": f"deploy {service}#{build}",
        "tags": ["deploy", f"service={service}"],
        "when": round(when, 3),
        "data": f"{service} build {build}: new connection pool settings (simulated incident)",
    }
