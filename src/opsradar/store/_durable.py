"""Durable history in one DuckDB file: series, points (with their scores) and events.

All SQL is parameterised; points go in as one Arrow batch per flush, never a statement per point.
"""

from __future__ import annotations

import contextlib
import json
import threading
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from opsradar.core import Event, FloatArray, IntArray, StoreError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS series (id INTEGER PRIMARY KEY, name VARCHAR NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS points (series_id INTEGER NOT NULL, ts DOUBLE NOT NULL,
                                   value DOUBLE NOT NULL, score REAL NOT NULL);
CREATE SEQUENCE IF NOT EXISTS event_ids START 1;
CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY DEFAULT nextval('event_ids'),
    ts DOUBLE NOT NULL, what VARCHAR NOT NULL, tags VARCHAR[] NOT NULL, data VARCHAR NOT NULL,
    expect VARCHAR NOT NULL DEFAULT '[]');
"""


class Durable:
    """A DuckDB file. Thread-safe: one lock guards the one connection."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        try:
            self._con = duckdb.connect(str(path))
            self._con.execute(_SCHEMA)
        except duckdb.Error as exc:
            raise StoreError(f"cannot open {path}: {exc}") from exc

    def close(self) -> None:
        with self._lock:
            self._con.close()

    def series(self) -> list[tuple[int, str]]:
        with self._lock:
            return self._con.execute("SELECT id, name FROM series ORDER BY id").fetchall()

    def write(
        self,
        new_series: list[tuple[int, str]],
        slots: IntArray,
        ts: FloatArray,
        values: FloatArray,
        scores: FloatArray,
    ) -> None:
        """Write new series names and points in one transaction."""
        table = pa.table(
            {
                "series_id": pa.array(slots.astype(np.int32)),
                "ts": pa.array(ts),
                "value": pa.array(values),
                "score": pa.array(scores.astype(np.float32)),
            }
        )
        names = pa.table(
            {
                "id": pa.array([i for i, _ in new_series], pa.int32()),
                "name": pa.array([n for _, n in new_series], pa.string()),
            }
        )
        with self._lock:
            con = self._con
            try:
                con.execute("BEGIN")
                if new_series:
                    con.register("new_series", names)
                    con.execute("INSERT INTO series SELECT id, name FROM new_series")
                    con.unregister("new_series")
                con.register("batch", table)
                con.execute("INSERT INTO points SELECT series_id, ts, value, score FROM batch")
                con.unregister("batch")
                con.execute("COMMIT")
            except duckdb.Error as exc:
                with contextlib.suppress(duckdb.Error):
                    con.execute("ROLLBACK")
                raise StoreError(f"write to {self.path} failed: {exc}") from exc

    def read(
        self, series_id: int, start: float, until: float, bucket: float = 0.0
    ) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Points of one series in [start, until], raw or averaged into ``bucket``-second steps."""
        if bucket > 0:
            sql = (
                "SELECT floor(ts / $b) * $b AS t, avg(value), max(score) FROM points "
                "WHERE series_id = $s AND ts >= $a AND ts <= $z GROUP BY t ORDER BY t"
            )
            params: dict[str, object] = {"b": bucket, "s": series_id, "a": start, "z": until}
        else:
            sql = (
                "SELECT ts, value, score FROM points "
                "WHERE series_id = $s AND ts >= $a AND ts <= $z ORDER BY ts"
            )
            params = {"s": series_id, "a": start, "z": until}
        with self._lock:
            cols = list(self._con.execute(sql, params).fetchnumpy().values())
        cols = [np.asarray(c, dtype=np.float64) for c in cols]
        return cols[0], cols[1], cols[2]

    def count(self, series_id: int, start: float, until: float) -> int:
        with self._lock:
            row = self._con.execute(
                "SELECT count(*) FROM points WHERE series_id = ? AND ts >= ? AND ts <= ?",
                [series_id, start, until],
            ).fetchone()
        return int(row[0]) if row else 0

    def tail(self, per_series: int) -> tuple[IntArray, FloatArray, FloatArray, FloatArray]:
        """The last ``per_series`` points of every series, ordered by series then time."""
        sql = (
            "SELECT series_id, ts, value, score FROM (SELECT *, row_number() OVER "
            "(PARTITION BY series_id ORDER BY ts DESC) AS rn FROM points) "
            "WHERE rn <= ? ORDER BY series_id, ts"
        )
        with self._lock:
            cols = list(self._con.execute(sql, [per_series]).fetchnumpy().values())
        return (
            np.asarray(cols[0], dtype=np.int64),
            np.asarray(cols[1], dtype=np.float64),
            np.asarray(cols[2], dtype=np.float64),
            np.asarray(cols[3], dtype=np.float64),
        )

    def add_event(self, event: Event) -> Event:
        with self._lock:
            try:
                row = self._con.execute(
                    "INSERT INTO events (ts, what, tags, data, expect) VALUES (?, ?, ?, ?, ?) "
                    "RETURNING id",
                    [event.ts, event.what, list(event.tags), event.data, json.dumps(event.expect)],
                ).fetchone()
            except duckdb.Error as exc:
                raise StoreError(f"cannot store event: {exc}") from exc
        assert row is not None
        return Event(event.ts, event.what, event.tags, event.data, int(row[0]), event.expect)

    def events(self, start: float, until: float, limit: int = 1000) -> list[Event]:
        with self._lock:
            rows = self._con.execute(
                "SELECT id, ts, what, tags, data, expect FROM events WHERE ts >= ? AND ts <= ? "
                "ORDER BY ts DESC LIMIT ?",
                [start, until, limit],
            ).fetchall()
        return [
            Event(
                ts,
                what,
                tuple(tags),
                data,
                event_id,
                tuple(tuple(pair) for pair in json.loads(expect)),
            )
            for event_id, ts, what, tags, data, expect in rows
        ]
