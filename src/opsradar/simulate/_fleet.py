"""The simulated fleet: history (backfill), deploy events, and live traffic with incidents.

Simulated time: at ``speed`` 1 it is the wall clock; at ``speed`` s it starts at the wall
clock when ``run`` starts and runs s times faster (Graphite timestamps, deploy times and the
daily cycle follow it; StatsD still sends one step's traffic per wall-clock flush window,
so the server's flush sees normal rates).
"""

from __future__ import annotations

import math
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import numpy as np

from opsradar.core import FloatArray, IntArray
from opsradar.simulate._deploys import deploys_between
from opsradar.simulate._incidents import (
    STOP_BEFORE_END,
    Incident,
    IncidentPlan,
    plan_incidents,
    stop_host,
)
from opsradar.simulate._live import PARTS, Live
from opsradar.simulate._model import HOST_METRICS, HostModel, Layout
from opsradar.simulate._statsd import ServiceModel, ServiceSample, entries, flush_stats, pack
from opsradar.simulate._wire import EventPoster, GraphiteSender, StatsdSender

DEFAULT_SERVICES = ("web", "api", "checkout", "search", "auth", "billing")
BACKFILL_CHUNK = 60  # steps per send_lines call in the backfill

SendLines = Callable[[list[str]], None]
SendEvents = Callable[[list[dict[str, Any]]], None]


class Fleet:
    """A deterministic fleet of ``hosts`` hosts spread over ``services``.

    >>> fleet = Fleet(hosts=12)
    >>> fleet.layout.hosts[:3]
    ('web-001', 'api-001', 'checkout-001')
    >>> fleet.host_lines(np.array([170_000_000]))[0]
    'hosts.web-001.cpu.user 6.09 1700000000\\n'
    """

    def __init__(
        self,
        seed: int = 1,
        hosts: int = 200,
        services: tuple[str, ...] = DEFAULT_SERVICES,
        interval: float = 10.0,
        percentiles: tuple[float, ...] = (90.0,),
    ) -> None:
        if interval <= 0:
            raise ValueError("interval must be positive")
        self.seed = seed
        self.services = tuple(services)
        self.interval = interval
        self.percentiles = percentiles
        self.layout = Layout.build(hosts, self.services)
        self.hosts = HostModel(seed, self.layout, interval)
        self.traffic = ServiceModel(seed, self.services, interval)
        self.counts: Counter[str] = Counter()
        self._plan: IncidentPlan | None = None
        self._sent_step: int | None = None  # last step already sent (by the backfill)
        self._events_until: float | None = None
        self._stop_at: float | None = None  # set by the backfill: when the stopped host stops
        self._templates = [
            f"{name} %.{HOST_METRICS[i % len(HOST_METRICS)].decimals}f %.15g\n"
            for i, name in enumerate(self.layout.names)
        ]
        self._template = "".join(self._templates)

    # -- incidents and events ------------------------------------------------------------

    @property
    def incidents(self) -> list[Incident]:
        """The injected incidents, once planned (``run`` plans them when it starts)."""
        return list(self._plan.incidents) if self._plan else []

    def plan_incidents(self, live_start: float, speed: float = 1.0) -> list[Incident]:
        """Fix the incidents relative to ``live_start`` (``run`` calls this if not done).

        The stopped host stops ``STOP_BEFORE_END`` intervals before the end of the backfill
        if there was one, else at ``live_start``.
        """
        stop_at = self._stop_at if self._stop_at is not None else live_start
        self._plan = plan_incidents(
            self.layout, self.services, live_start, stop_at, speed, self.interval
        )
        return self.incidents

    def events_between(self, t0: float, t1: float) -> list[dict[str, Any]]:
        """Deploy events with ``t0 <= when < t1`` (routine ones and the incident's)."""
        events = deploys_between(self.seed, t0, t1, self.services)
        if self._plan:
            events += [e for e in self._plan.deploys if t0 <= e["when"] < t1]
        return sorted(events, key=lambda e: float(e["when"]))

    # -- data ----------------------------------------------------------------------------

    def host_frame(self, steps: IntArray) -> tuple[FloatArray, FloatArray, Any]:
        """``(ts, values[series, step], sent[series, step])`` with incidents applied."""
        ts = steps.astype(np.float64) * self.interval
        values = self.hosts.values(steps)
        if self._plan is not None:
            return ts, values, self._plan.apply(ts, values)
        sent = np.ones(values.shape, dtype=bool)
        if self._stop_at is not None:
            rows = self.layout.host_rows(stop_host(self.layout, self.services))
            sent[np.ix_(rows, ts >= self._stop_at)] = False
        return ts, values, sent

    def service_samples(self, step: int) -> list[ServiceSample]:
        factor = self._plan.latency_factor(step * self.interval) if self._plan else {}
        return self.traffic.samples(step, factor)

    def host_lines(self, steps: IntArray) -> list[str]:
        """Graphite lines of all host metrics for ``steps``, in time order."""
        ts, values, sent = self.host_frame(steps)
        out: list[str] = []
        n = len(self.layout.names)
        args: list[float] = [0.0] * (2 * n)
        for j, t in enumerate(ts.tolist()):
            column = sent[:, j]
            if column.all():
                template, vals, count = self._template, values[:, j], n
            else:
                rows = np.flatnonzero(column)
                template = "".join(self._templates[r] for r in rows)
                vals, count = values[rows, j], len(rows)
            args[0 : 2 * count : 2] = vals.tolist()
            args[1 : 2 * count : 2] = [t] * count
            out += (template % tuple(args[: 2 * count])).splitlines(keepends=True)
        return out

    def statsd_lines(self, steps: IntArray) -> list[str]:
        """Graphite lines of what the StatsD flush would have produced for ``steps``."""
        out: list[str] = []
        for step in steps.tolist():
            t = step * self.interval
            for sample in self.service_samples(step):
                stats = flush_stats(sample, self.interval, self.percentiles)
                out += [f"{name} {value:.3f} {t:.15g}\n" for name, value in stats.items()]
        return out

    def statsd_datagrams(self, step: int) -> list[list[bytes]]:
        """The StatsD traffic of ``step`` as ``PARTS`` lists of datagrams, sent spread out."""
        items = [e for sample in self.service_samples(step) for e in entries(sample)]
        return [pack(items[i::PARTS]) for i in range(PARTS)]

    # -- feeding a server ----------------------------------------------------------------

    def backfill(
        self,
        send_lines: SendLines,
        now: float,
        hours: float = 6.0,
        send_events: SendEvents | None = None,
        every: int = 1,
    ) -> int:
        """Send the past ``hours`` of every series as Graphite lines; return the line count.

        Past deploys are ``events_between(now - hours * 3600, now)``; they are also handed
        to ``send_events`` if given. ``run`` continues from the last step sent here.
        ``every=3`` sends only every third step (ending at the latest): a third of the lines.
        """
        if every < 1:
            raise ValueError("every must be at least 1")
        first = math.floor((now - hours * 3600.0) / self.interval) + 1
        last = math.floor(now / self.interval)
        if self._plan is None and self._stop_at is None:
            self._stop_at = (last - STOP_BEFORE_END + 1) * self.interval
        all_steps = np.arange(last, first - 1, -every, dtype=np.int64)[::-1]
        total = 0
        for start in range(0, len(all_steps), BACKFILL_CHUNK):
            steps = all_steps[start : start + BACKFILL_CHUNK]
            lines = self.host_lines(steps) + self.statsd_lines(steps)
            send_lines(lines)
            total += len(lines)
        self._sent_step = last
        self._events_until = now
        if send_events is not None:
            send_events(self.events_between(now - hours * 3600.0, now))
        return total

    def run(
        self,
        graphite: tuple[str, int],
        statsd: tuple[str, int],
        http_base: str,
        stop: threading.Event,
        clock: Callable[[], float] = time.time,
        speed: float = 1.0,
        statsd_phase: float | None = None,
    ) -> None:
        """Send live traffic until ``stop`` is set (checked at least every interval/10 s).

        ``statsd_phase`` is the wall time of any flush of the StatsD server (e.g. when its
        flush loop started; its flush interval must equal ``interval``). With it every flush
        holds exactly one step of StatsD traffic; without it the first flush after the start
        holds only part of one, so its counts dip once.
        """
        if speed <= 0:
            raise ValueError("speed must be positive")
        wall0 = clock()
        if self._plan is None:
            self.plan_incidents(wall0, speed)
        with (
            GraphiteSender(graphite, counts=self.counts) as graphite_out,
            StatsdSender(statsd, counts=self.counts) as statsd_out,
            EventPoster(http_base, counts=self.counts) as events_out,
        ):
            phase = wall0 if statsd_phase is None else statsd_phase
            live = Live(self, (graphite_out, statsd_out, events_out), speed, phase)
            live.loop(stop, clock, wall0)


def run_demo_traffic(
    graphite: tuple[str, int],
    statsd: tuple[str, int],
    http_base: str,
    stop: threading.Event,
    fleet: Fleet | None = None,
    hours: float = 6.0,
    clock: Callable[[], float] = time.time,
    speed: float = 1.0,
    statsd_phase: float | None = None,
) -> Fleet:
    """Backfill ``hours`` of history and past deploys, then run live until ``stop`` is set."""
    fleet = fleet if fleet is not None else Fleet()
    with (
        GraphiteSender(graphite, counts=fleet.counts) as out,
        EventPoster(http_base, counts=fleet.counts) as events,
    ):
        fleet.backfill(out.send_lines, clock(), hours, send_events=events.post)
    if not stop.is_set():
        fleet.run(graphite, statsd, http_base, stop, clock, speed, statsd_phase)
    return fleet
