"""The store: series index, hot window and durable history behind one object.

Points are appended to the hot window at once and queued for disk; a flush thread writes the
queue to DuckDB every ``flush_interval`` seconds as one Arrow batch, so receiving and scoring
never wait for the disk.
"""

from __future__ import annotations

import fnmatch
import logging
import re
import threading
import time
from pathlib import Path
from typing import NamedTuple

import numpy as np

from opsradar.core import (
    Event,
    FloatArray,
    IntArray,
    NotFound,
    SelfMetrics,
    StoreError,
)
from opsradar.store._durable import Durable
from opsradar.store._hot import HotWindow

log = logging.getLogger("opsradar.store")

DB_FILE = "opsradar.duckdb"
MAX_CHART_POINTS = 4000


class SeriesData(NamedTuple):
    name: str
    resolution: str  # "raw" or "<n>s"
    ts: FloatArray
    values: FloatArray
    scores: FloatArray


class Store:
    """Owns persistence. ``resolve`` names to slots, ``append`` points, ``read`` them back."""

    def __init__(
        self,
        data_dir: str | Path,
        hot_points: int = 720,
        metrics: SelfMetrics | None = None,
        flush_interval: float = 2.0,
    ) -> None:
        self.data_dir = Path(data_dir)
        self.metrics = metrics if metrics is not None else SelfMetrics()
        self.flush_interval = flush_interval
        self.hot = HotWindow(hot_points)
        self.names: list[str] = []
        self._slots: dict[str, int] = {}
        self._persisted = 0  # slots [0, _persisted) have rows in the series table
        self._pending: list[tuple[IntArray, FloatArray, FloatArray, FloatArray]] = []
        self._pending_lock = threading.Lock()
        self._index_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_error: str | None = None
        self._durable: Durable | None = None

    # -- life cycle -------------------------------------------------------------------------
    def open(self) -> None:
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create data directory {self.data_dir}: {exc}") from exc
        self._durable = Durable(self.data_dir / DB_FILE)
        for series_id, name in self._durable.series():
            if series_id != len(self.names):
                raise StoreError(f"series table is not dense at id {series_id}")
            self.names.append(name)
            self._slots[name] = series_id
        self._persisted = len(self.names)
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
        """Slots for names, creating series for names not seen before."""
        out = np.empty(len(names), dtype=np.int64)
        slots = self._slots
        with self._index_lock:
            for i, name in enumerate(names):
                slot = slots.get(name)
                if slot is None:
                    slot = len(self.names)
                    self.names.append(name)
                    slots[name] = slot
                out[i] = slot
            self.metrics.series.set(len(self.names))
        return out

    def append(
        self, slots: IntArray, ts: FloatArray, values: FloatArray, scores: FloatArray
    ) -> None:
        self.hot.append(slots, ts, values, scores)
        with self._pending_lock:
            self._pending.append((slots, ts, values, scores))

    def flush(self) -> int:
        """Write pending points to disk now. Returns the number written."""
        with self._pending_lock:
            pending, self._pending = self._pending, []
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
            self.db.write(new, slots, ts, values, scores)
        except StoreError as exc:
            self.metrics.store_errors.inc()
            self.last_error = str(exc)
            log.error("%s", exc)
            with self._pending_lock:  # keep them for the next try
                self._pending.insert(0, (slots, ts, values, scores))
            return 0
        self._persisted = max(self._persisted, new[-1][0] + 1) if new else self._persisted
        self.last_error = None
        return len(slots)

    def _flush_loop(self) -> None:
        while not self._stop.wait(self.flush_interval):
            self.flush()

    # -- reading ----------------------------------------------------------------------------
    def slot(self, name: str) -> int:
        slot = self._slots.get(name)
        if slot is None:
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
            names = list(self.names)
        return sorted(n for n in names if rx.search(n) if regex or rx.match(n))[:limit]

    def read(self, name: str, start: float | None = None, until: float | None = None) -> SeriesData:
        """One series between ``start`` and ``until`` (default: the last 24 h to now)."""
        slot = self.slot(name)
        until = time.time() if until is None else until
        start = until - 86400.0 if start is None else start
        hot_ts, hot_v, hot_s = self.hot.series(slot)
        oldest = hot_ts[0] if len(hot_ts) else float("inf")
        keep = (hot_ts >= start) & (hot_ts <= until)
        hot_ts, hot_v, hot_s = hot_ts[keep], hot_v[keep], hot_s[keep]
        if start >= oldest:
            return SeriesData(name, "raw", hot_ts, hot_v, hot_s)
        disk_until = min(until, oldest - 1e-6)
        bucket = self._bucket(slot, start, until)
        if bucket:  # long range: everything from disk, averaged (recent unflushed points aside)
            ts, v, s = self.db.read(slot, start, until, bucket)
            return SeriesData(name, f"{bucket:g}s", ts, v, s)
        ts, v, s = self.db.read(slot, start, disk_until)
        return SeriesData(name, "raw", np.r_[ts, hot_ts], np.r_[v, hot_v], np.r_[s, hot_s])

    def _bucket(self, slot: int, start: float, until: float) -> float:
        if self.db.count(slot, start, until) <= MAX_CHART_POINTS:
            return 0.0
        for step in (60.0, 300.0, 3600.0, 86400.0):
            if (until - start) / step <= MAX_CHART_POINTS:
                return step
        return 86400.0

    # -- events -----------------------------------------------------------------------------
    def add_event(self, event: Event) -> Event:
        return self.db.add_event(event)

    def events(self, start: float, until: float, limit: int = 1000) -> list[Event]:
        return self.db.events(start, until, limit)

    @property
    def checkpoint_path(self) -> Path:
        return self.data_dir / "detector.npz"
