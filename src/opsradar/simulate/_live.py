"""The live loop: host metrics each step, StatsD spread over each flush window, events.

StatsD is not timestamped: the server sums what arrives between two of its flushes. So the
loop sends one step's StatsD traffic per *wall-clock* window of ``interval`` seconds, in
``PARTS`` parts, part ``i`` at ``(i + 0.5) / PARTS`` of the window. Given the server's flush
phase (``statsd_phase``: the wall time of any of its flushes, e.g. when it started), the
windows coincide with the server's, each flush holds exactly one step, and the parts already
due when the loop starts are sent at once, so even the first flush is complete.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from opsradar.simulate._wire import EventPoster, GraphiteSender, StatsdSender

if TYPE_CHECKING:
    from opsradar.simulate._fleet import Fleet

PARTS = 10  # StatsD traffic of a step is spread over this many sends across the window
MAX_CATCH_UP = 30  # steps the live feed fills in after a gap (e.g. since the backfill)


class Live:
    """State of one ``Fleet.run``: last step sent, events posted, StatsD parts pending."""

    def __init__(
        self,
        fleet: Fleet,
        senders: tuple[GraphiteSender, StatsdSender, EventPoster],
        speed: float,
        phase: float,
    ) -> None:
        self.fleet, self.speed, self.phase = fleet, speed, phase
        self.graphite, self.statsd, self.events = senders
        self.window: int | None = None
        self.pending: list[list[bytes]] = []
        self.sent_parts = 0

    def loop(self, stop: threading.Event, clock: Callable[[], float], wall0: float) -> None:
        """Run until ``stop`` is set; ``wall0`` is when simulated time started."""
        fleet = self.fleet
        period = min(fleet.interval / PARTS, fleet.interval / self.speed)
        last = math.floor(wall0 / fleet.interval) - 1
        if fleet._sent_step is not None:
            last = max(fleet._sent_step, last - MAX_CATCH_UP)
        posted = fleet._events_until if fleet._events_until is not None else wall0
        while not stop.is_set():
            wall = clock()
            now = wall0 + (wall - wall0) * self.speed
            last = self.send_hosts(now, last)
            self.send_statsd(wall, now)
            self.events.post(fleet.events_between(posted, now))
            posted = max(posted, now)
            # wake half a period after each grid point, away from the server's flushes
            k = math.floor((wall - self.phase) / period - 0.5) + 1
            stop.wait(max(0.0, self.phase + (k + 0.5) * period - clock()))

    def send_hosts(self, now: float, last: int) -> int:
        """Send host metrics of the steps up to simulated ``now``; return the last step sent."""
        step = math.floor(now / self.fleet.interval)
        if step > last:
            first = max(last + 1, step - MAX_CATCH_UP + 1)
            steps = np.arange(first, step + 1, dtype=np.int64)
            self.graphite.send_lines(self.fleet.host_lines(steps))
        return max(step, last)

    def send_statsd(self, wall: float, now: float) -> None:
        """Send the StatsD parts due at ``wall``; a new window brings the step at ``now``."""
        interval = self.fleet.interval
        rel = wall - self.phase
        window = math.floor(rel / interval)
        if window != self.window:
            for datagrams in self.pending[self.sent_parts :]:
                self.statsd.send(datagrams)
            self.window = window
            self.pending = self.fleet.statsd_datagrams(math.floor(now / interval))
            self.sent_parts = 0
        due = min(PARTS, math.floor((rel - window * interval) / (interval / PARTS)) + 1)
        while self.sent_parts < due:
            self.statsd.send(self.pending[self.sent_parts])
            self.sent_parts += 1
