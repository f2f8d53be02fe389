"""The store: series index, hot window and durable history behind one object.

Points are appended to the hot window at once and queued for disk; a flush thread writes the
queue to DuckDB every ``flush_interval`` seconds as one Arrow batch, so receiving and scoring
never wait for the disk. A crash therefore loses at most the points of the last interval.

When the disk fails (full, read-only), the error is kept for the status page and logged once
per change, the hot window keeps filling, and the queue for disk is capped at
``max_pending_points`` (oldest dropped first, counted) until the disk takes writes again.
The same thread removes data past its retention every ``maintenance_interval`` seconds.
"""

from __future__ import annotations

import fnmatch
import logging
import re
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from itertools import repeat
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from opsradar.core import (
    Config,
    Event,
    FloatArray,
    IntArray,
    NotFound,
    SelfMetrics,
    StoreError,
)
from opsradar.store._durable import ROLLUPS, Durable
from opsradar.store._hot import HotWindow
from opsradar.store._limits import Refusals, SeriesLimits

log = logging.getLogger("opsradar.store")

DB_FILE = "opsradar.duckdb"
CHECKPOINT_FILE = "detector.ckpt"
MAX_CHART_POINTS = 4000


class SeriesData(NamedTuple):
    name: str
    resolution: str  # "raw" or "<n>s"
    ts: FloatArray
    values: FloatArray  # the mean of each bucket when not raw
    scores: FloatArray  # the highest score of each bucket when not raw
    mins: FloatArray | None = None  # bucket minimum (rollups only)
    maxs: FloatArray | None = None  # bucket maximum (rollups only)


class Retention(NamedTuple):
    """Days each resolution is kept."""

    raw_days: float = 7.0
    rollup_1m_days: float = 30.0
    rollup_1h_days: float = 730.0

    def cutoffs(self, now: float) -> dict[str, float]:
        return {
            "points": now - self.raw_days * 86400,
            ROLLUPS[60.0]: now - self.rollup_1m_days * 86400,
            ROLLUPS[3600.0]: now - self.rollup_1h_days * 86400,
        }


class Store:
    """Owns persistence. ``resolve`` names to slots, ``append`` points, ``read`` them back."""

    def __init__(
        self,
        data_dir: str | Path,
        hot_points: int = 720,
        metrics: SelfMetrics | None = None,
        flush_interval: float = 2.0,
        *,
        limits: SeriesLimits | None = None,
        retention: Retention | None = None,
        max_pending_points: int = 5_000_000,
        maintenance_interval: float = 600.0,
        db_memory_mb: int = 256,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.data_dir = Path(data_dir)
        self.metrics = metrics if metrics is not None else SelfMetrics()
        self.flush_interval = flush_interval
        self.hot = HotWindow(hot_points)
        self.limits = limits if limits is not None else SeriesLimits()
        self.retention = retention if retention is not None else Retention()
        self.max_pending_points = max_pending_points
        self.maintenance_interval = maintenance_interval
        self.clock = clock
        self.db_memory_mb = db_memory_mb
        self.names: list[str] = []
        self._slots: dict[str, int] = {}
        self._persisted = 0  # slots [0, _persisted) have rows in the series table
        self._deleted: set[int] = set()  # slots deleted by an admin and not seen since
        self._revived: list[int] = []  # deleted slots that received points again
        self._pending: deque[tuple[IntArray, FloatArray, FloatArray, FloatArray]] = deque()
        self._pending_points = 0
        self._pending_lock = threading.Lock()
        self._index_lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_error: str | None = None
        self._failing = False  # a write failed and none has worked since (logged once)
        self.last_flush: float | None = None
        self._next_maintenance = 0.0
        self._durable: Durable | None = None

    @classmethod
    def from_config(cls, config: Config, metrics: SelfMetrics | None = None) -> Store:
        return cls(
            config.data_dir,
            config.hot_points,
            metrics,
            config.store_flush_interval,
            limits=SeriesLimits(
                config.max_series, config.max_series_per_prefix, config.series_prefix_depth
            ),
            retention=Retention(
                config.raw_retention_days,
                config.rollup_1m_retention_days,
                config.rollup_1h_retention_days,
            ),
            max_pending_points=config.max_pending_points,
            maintenance_interval=config.maintenance_interval,
            db_memory_mb=config.db_memory_mb,
        )

    # -- life cycle -------------------------------------------------------------------------
    def open(self) -> None:
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create data directory {self.data_dir}: {exc}") from exc
        self._durable = Durable(self.data_dir / DB_FILE, self.db_memory_mb)
        for series_id, name in self._durable.series():
            if series_id != len(self.names):
                raise StoreError(f"series table is not dense at id {series_id}")
            self.names.append(name)
            self._slots[name] = series_id
            self.limits.add(name)
        self._persisted = len(self.names)
        self._deleted = self._durable.deleted()
        self.metrics.series.set(len(self.names))
        slots, ts, values, scores = self._durable.tail(self.hot.points)
        self.hot.append(slots, ts, values, scores)

    def start(self) -> None:
        """Start the background flush thread."""
        self._thread = threading.Thread(target=self._flush_loop, name="store-flush", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.flush()
        if self._durable is not None:
            self._durable.close()
            self._durable = None

    @property
    def db(self) -> Durable:
        if self._durable is None:
            raise StoreError("store is not open")
        return self._durable

    # -- writing ----------------------------------------------------------------------------
    def resolve(self, names: list[str]) -> IntArray:
        """Slots for names, creating series for names not seen before; -1 for a new name the
        series cap refuses (see ``refusals``)."""
        slots = self._slots
        with self._index_lock:
            try:  # every name known (the usual case): one C-level pass
                out = np.fromiter(map(slots.__getitem__, names), np.int64, len(names))
            except KeyError:
                out = self._resolve_new(names)
            if self._deleted:
                back = self._deleted.intersection(out.tolist())
                self._deleted -= back
                self._revived.extend(back)
            self.metrics.series.set(len(self.names))
        return out

    def _resolve_new(self, names: list[str]) -> IntArray:
        """The slow path of ``resolve`` (caller holds the index lock): new names get slots in
        the order they first appear; every point of a name the cap refuses is a refusal."""
        slots = self._slots
        now = self.clock()
        fresh = [n for n in dict.fromkeys(names) if n not in slots]  # distinct, in order
        if self.limits.admit_all(fresh):  # far from every cap: all at once
            first = len(self.names)
            slots.update(zip(fresh, range(first, first + len(fresh)), strict=True))
            self.names.extend(fresh)
            fresh = []
        refused: set[str] = set()
        for name in fresh:
            if self.limits.admit(name, now):
                slots[name] = len(self.names)
                self.names.append(name)
            else:
                refused.add(name)
        if refused:  # the later points of a refused name are refused (and counted) too
            for name, n in Counter(n for n in names if n in refused).items():
                for _ in range(n - 1):
                    self.limits.admit(name, now)
        return np.fromiter(map(slots.get, names, repeat(-1, len(names))), np.int64, len(names))

    def refusals(self) -> Refusals:
        with self._index_lock:
            return self.limits.refusals()

    def append(
        self, slots: IntArray, ts: FloatArray, values: FloatArray, scores: FloatArray
    ) -> None:
        self.hot.append(slots, ts, values, scores)
        dropped = 0
        with self._pending_lock:
            self._pending.append((slots, ts, values, scores))
            self._pending_points += len(slots)
            while self._pending_points > self.max_pending_points and len(self._pending) > 1:
                old = self._pending.popleft()
                self._pending_points -= len(old[0])
                dropped += len(old[0])
        if dropped:
            self.metrics.reject("store", "disk_backlog", dropped)

    @property
    def pending_points(self) -> int:
        return self._pending_points

    def flush(self) -> int:
        """Write pending points to disk now. Returns the number written."""
        with self._flush_lock:
            return self._flush()

    def _flush(self) -> int:
        with self._pending_lock:
            pending, self._pending = list(self._pending), deque()
            self._pending_points = 0
        with self._index_lock:
            new = [(i, self.names[i]) for i in range(self._persisted, len(self.names))]
        if not pending and not new:
            return 0
        if pending:
            slots, ts, values, scores = (
                np.concatenate(cols) for cols in zip(*pending, strict=True)
            )
        else:
            slots, ts, values, scores = (np.empty(0, t) for t in (np.int64, float, float, float))
        try:
            self.db.write(new, slots, ts, values, scores, self.clock())
            with self._index_lock:
                revived, self._revived = self._revived, []
            if revived:
                self.db.undelete(revived)
        except StoreError as exc:
            self._failed(exc)
            with self._pending_lock:  # keep them for the next try
                self._pending.appendleft((slots, ts, values, scores))
                self._pending_points += len(slots)
            return 0
        self._persisted = max(self._persisted, new[-1][0] + 1) if new else self._persisted
        if self._failing:
            log.warning("disk writes work again: %d points caught up", len(slots))
        self._failing = False
        self.last_error = None
        self.last_flush = self.clock()
        return len(slots)

    def _failed(self, exc: StoreError) -> None:
        self.metrics.store_errors.inc()
        if not self._failing:  # (last_error may hold another part's error, the checkpoint's)
            log.error("%s; keeping up to %d points in memory", exc, self.max_pending_points)
        self._failing = True
        self.last_error = str(exc)

    def maintain(self, now: float | None = None) -> int:
        """Remove data older than its retention. Returns the rows removed."""
        now = self.clock() if now is None else now
        with self._flush_lock:
            try:
                return self.db.expire(self.retention.cutoffs(now))
            except StoreError as exc:
                self._failed(exc)
                return 0

    def _flush_loop(self) -> None:
        while not self._stop.wait(self.flush_interval):
            self.flush()
            if time.monotonic() >= self._next_maintenance:
                self._next_maintenance = time.monotonic() + self.maintenance_interval
                self.maintain()

    def status(self) -> dict[str, Any]:
        """The store's health for the status page."""
        refused = self.refusals()
        return {
            "store_error": self.last_error,
            "pending_points": self.pending_points,
            "last_flush": self.last_flush,
            "disk_bytes": self.db.disk_bytes() if self._durable is not None else 0,
            "series_refused": refused.total,
            "series_refused_by_prefix": dict(refused.prefixes),
        }

    # -- reading ----------------------------------------------------------------------------
    def slot(self, name: str) -> int:
        slot = self._slots.get(name)
        if slot is None or slot in self._deleted:
            raise NotFound(f"no series named {name!r}")
        return slot

    def match(self, pattern: str = "*", regex: bool = False, limit: int = 10000) -> list[str]:
        """Series names matching a glob (or a regular expression), sorted."""
        if regex:
            try:
                rx = re.compile(pattern)
            except re.error as exc:
                raise NotFound(f"bad regular expression: {exc}") from exc
        else:
            rx = re.compile(fnmatch.translate(pattern))
        with self._index_lock:
            names = [n for i, n in enumerate(self.names) if i not in self._deleted]
        return sorted(n for n in names if rx.search(n) if regex or rx.match(n))[:limit]

    def window_stats(
        self, after: tuple[float, float], before: tuple[float, float]
    ) -> npt.NDArray[np.float64]:
        """Per slot, from the 1-minute rollup: points and mean in ``after``; points, mean and
        spread in ``before`` (for windows older than the hot window, long since flushed)."""
        return self.db.window_stats(len(self.names), after, before)

    def is_deleted(self, slot: int) -> bool:
        return slot in self._deleted

    def delete(self, name: str) -> None:
        """Delete a series' history (disk and memory). It comes back if new points arrive."""
        slot = self.slot(name)
        if slot in self._deleted:
            raise NotFound(f"no series named {name!r}")
        self.flush()  # its pending points are written, then removed with the rest
        self.db.delete_series(slot)
        self.hot.clear(slot)
        with self._index_lock:
            self._deleted.add(slot)

    def read(self, name: str, start: float | None = None, until: float | None = None) -> SeriesData:
        """One series between ``start`` and ``until`` (default: the last 24 h to now).

        Raw points when they are few enough and still kept; otherwise buckets of 1 min, 5 min,
        1 h or 1 d read from the 1-minute or 1-hour rollup (mean, min, max, highest score).
        """
        slot = self.slot(name)
        now = self.clock()
        until = now if until is None else until
        start = until - 86400.0 if start is None else start
        hot_ts, hot_v, hot_s = self.hot.series(slot)
        oldest = hot_ts[0] if len(hot_ts) else float("inf")
        keep = (hot_ts >= start) & (hot_ts <= until)
        hot_ts, hot_v, hot_s = hot_ts[keep], hot_v[keep], hot_s[keep]
        if start >= oldest:
            return SeriesData(name, "raw", hot_ts, hot_v, hot_s)
        raw_kept = start >= now - self.retention.raw_days * 86400
        if raw_kept and self.db.count(slot, start, until) <= MAX_CHART_POINTS:
            ts, v, s = self.db.read(slot, start, min(until, oldest - 1e-6))
            return SeriesData(name, "raw", np.r_[ts, hot_ts], np.r_[v, hot_v], np.r_[s, hot_s])
        bucket = next(
            (b for b in (60.0, 300.0, 3600.0) if (until - start) / b <= MAX_CHART_POINTS), 86400.0
        )
        minute_kept = start >= now - self.retention.rollup_1m_days * 86400
        width = 60.0 if bucket < 3600.0 and minute_kept else 3600.0
        ts, mean, lo, hi, score = self.db.rollup(width, slot, start, until, bucket)
        return SeriesData(name, f"{max(bucket, width):g}s", ts, mean, score, lo, hi)

    # -- events -----------------------------------------------------------------------------
    def add_event(self, event: Event) -> Event:
        return self.db.add_event(event)

    def events(self, start: float, until: float, limit: int = 1000) -> list[Event]:
        return self.db.events(start, until, limit)

    @property
    def persisted_series(self) -> int:
        """Series whose names are on disk: slots ``[0, persisted_series)``."""
        return self._persisted

    @property
    def checkpoint_path(self) -> Path:
        return self.data_dir / CHECKPOINT_FILE
