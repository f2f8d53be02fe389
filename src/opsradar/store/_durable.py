"""Durable history in one DuckDB file: series, points (with their scores), rollups and events.

All SQL is parameterised; points go in as one Arrow batch per flush, never a statement per point.
Each flush writes new series names and raw points in one transaction, so a crash leaves all of a
flush or none. The 1-minute and 1-hour rollups (min, max, sum, count and the highest score per
bucket) are written in the same transaction once their buckets have closed — ``ROLLUP_LAG``
seconds after a bucket ends, by the store's clock or by the newest point written, whichever is
earlier (so history replayed in time order closes as it goes) — each bucket once, from the
raw points;
the tables' ``done`` mark (in ``meta``) moves with them. Readers take buckets before the mark
from the rollup table and later ones straight from the raw points, which are never expired
before they are rolled up. A late point, for a bucket already written, is merged into it (update
what exists, insert the rest; rows go in roughly in time order, so DuckDB's min/max zone maps
keep the merge to the newest row groups).
"""

from __future__ import annotations

import contextlib
import json
import math
import threading
from collections.abc import Mapping
from pathlib import Path

import duckdb
import numpy as np
import numpy.typing as npt
import pyarrow as pa

from opsradar.core import Event, FloatArray, IntArray, StoreError

#: Rollup tables by bucket width in seconds.
ROLLUPS = {60.0: "rollup_1m", 3600.0: "rollup_1h"}
#: Seconds after a bucket ends before it is rolled up (points for it may still be on the way).
ROLLUP_LAG = 120.0
SCHEMA_VERSION = "3"

# {t} is one of the two constant table names above, never input.
_ROLLUP_FROM_BATCH = (  # the late points of a flush: buckets before the done mark
    "SELECT series_id, floor(ts / $w) * $w AS ts, min(value) AS vmin, max(value) AS vmax, "
    "sum(value) AS vsum, count(*) AS n, max(score) AS smax FROM batch WHERE ts < $done "
    "GROUP BY ALL"
)
_ROLLUP_FROM_POINTS = (  # buckets in [lo, hi), closed
    "INSERT INTO {t} SELECT series_id, floor(ts / $w) * $w, min(value), max(value), "
    "sum(value), count(*), max(score) FROM points WHERE ts >= $lo AND ts < $hi GROUP BY ALL"
)
_ROLLUP_FROM_FINER = (  # the same from the finer rollup {f}, complete below its own done mark
    "INSERT INTO {t} SELECT series_id, floor(ts / $w) * $w, min(vmin), max(vmax), sum(vsum), "
    "sum(n), max(smax) FROM {f} WHERE ts >= $lo AND ts < $hi GROUP BY ALL"
)
#: The buckets of one rollup that start in [lo, hi], for readers: from the table before the
#: done mark, from the raw points after it. {only} narrows both to one series, or is empty.
_BUCKETS = (
    "SELECT series_id, ts, vmin, vmax, vsum, n, smax FROM {t} "
    "WHERE {only} ts >= $lo AND ts <= $hi UNION ALL "
    "SELECT series_id, floor(ts / $w) * $w AS b, min(value), max(value), sum(value), count(*), "
    "max(score) FROM points WHERE {only} ts >= $done AND ts >= $lo AND ts < $hi + $w "
    "GROUP BY ALL HAVING b >= $lo AND b <= $hi"
)
_MERGE_UPDATE = (
    "UPDATE {t} SET vmin = least({t}.vmin, a.vmin), vmax = greatest({t}.vmax, a.vmax), "
    "vsum = {t}.vsum + a.vsum, n = {t}.n + a.n, smax = greatest({t}.smax, a.smax) "
    "FROM agg a WHERE {t}.ts >= $lo AND {t}.series_id = a.series_id AND {t}.ts = a.ts"
)
_MERGE_INSERT = (
    "INSERT INTO {t} SELECT a.* FROM agg a ANTI JOIN "
    "(SELECT series_id, ts FROM {t} WHERE ts >= $lo) o USING (series_id, ts)"
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS series (id INTEGER PRIMARY KEY, name VARCHAR NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS points (series_id INTEGER NOT NULL, ts DOUBLE NOT NULL,
                                   value DOUBLE NOT NULL, score REAL NOT NULL);
CREATE TABLE IF NOT EXISTS rollup_1m (series_id INTEGER NOT NULL, ts DOUBLE NOT NULL,
    vmin DOUBLE NOT NULL, vmax DOUBLE NOT NULL, vsum DOUBLE NOT NULL, n BIGINT NOT NULL,
    smax REAL NOT NULL);
CREATE TABLE IF NOT EXISTS rollup_1h (series_id INTEGER NOT NULL, ts DOUBLE NOT NULL,
    vmin DOUBLE NOT NULL, vmax DOUBLE NOT NULL, vsum DOUBLE NOT NULL, n BIGINT NOT NULL,
    smax REAL NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL);
CREATE TABLE IF NOT EXISTS deleted_series (id INTEGER PRIMARY KEY);
CREATE SEQUENCE IF NOT EXISTS event_ids START 1;
CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY DEFAULT nextval('event_ids'),
    ts DOUBLE NOT NULL, what VARCHAR NOT NULL, tags VARCHAR[] NOT NULL, data VARCHAR NOT NULL,
    expect VARCHAR NOT NULL DEFAULT '[]');
"""


class Durable:
    """A DuckDB file. Thread-safe: one lock guards the one connection."""

    def __init__(self, path: Path, memory_limit_mb: int = 256) -> None:
        self.path = path
        self.memory_limit_mb = memory_limit_mb
        self._lock = threading.Lock()
        self._con = self._connect()
        #: Per rollup table: every bucket before this time is in the table (see module doc).
        self.done = _read_done(self._con)
        row = self._con.execute("SELECT max(ts) FROM points").fetchone()
        self._newest = float(row[0]) if row and row[0] is not None else -math.inf

    def _connect(self) -> duckdb.DuckDBPyConnection:
        try:
            con = duckdb.connect(str(self.path))
            # the buffer pool defaults to 80% of RAM and would keep every block written
            con.execute(f"SET memory_limit = '{int(self.memory_limit_mb)}MB'")
            con.execute(_SCHEMA)
            _migrate(con)
        except duckdb.Error as exc:
            raise StoreError(f"cannot open {self.path}: {exc}") from exc
        return con

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
        now: float,
    ) -> None:
        """Write new series names and points, and roll up the buckets closed by ``now`` and by
        the newest point (plus any late points), in one transaction."""
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
        oldest = float(ts.min()) if len(ts) else math.inf
        with self._lock:
            newest = max(self._newest, float(ts.max()) if len(ts) else -math.inf)
            try:
                self.done = self._write(names, table, oldest, min(now, newest) - ROLLUP_LAG)
                self._newest = newest
            except duckdb.Error as exc:
                self._recover()
                raise StoreError(f"write to {self.path} failed: {exc}") from exc

    def _write(
        self, names: pa.Table, table: pa.Table, oldest: float, closing: float
    ) -> dict[str, float]:
        """The transaction of ``write``: buckets that end by ``closing`` are rolled up.
        Returns the done marks once it has committed."""
        con, done = self._con, dict(self.done)
        con.execute("BEGIN")
        try:
            if names.num_rows:
                con.register("new_series", names)
                con.execute("INSERT INTO series SELECT id, name FROM new_series")
            if table.num_rows:
                con.register("batch", table)
                con.execute("INSERT INTO points SELECT series_id, ts, value, score FROM batch")
            for width, rollup in ROLLUPS.items():
                if oldest < done[rollup]:  # late points, for buckets already rolled up
                    _merge_rollup(con, rollup, width, done[rollup])
                closed = math.floor(closing / width) * width if math.isfinite(closing) else 0.0
                if closed > done[rollup]:  # (the finer rollup has closed at least as far)
                    _roll_up(con, rollup, width, done[rollup], closed)
                    done[rollup] = closed
            con.execute("COMMIT")
        finally:
            for view in ("new_series", "batch"):
                with contextlib.suppress(duckdb.Error):
                    con.unregister(view)
        return done

    def _recover(self) -> None:
        """After a failed write: roll back, and reconnect if DuckDB gave up on the handle."""
        with contextlib.suppress(duckdb.Error):
            self._con.execute("ROLLBACK")
        try:
            self._con.execute("SELECT 1").fetchone()
        except duckdb.Error:
            with contextlib.suppress(duckdb.Error):
                self._con.close()
            with contextlib.suppress(StoreError):
                self._con = self._connect()

    def expire(self, cutoffs: dict[str, float]) -> int:
        """Delete rows older than ``cutoffs[table]`` (unix seconds). Returns rows deleted."""
        deleted = 0
        with self._lock:
            try:
                for table in ("points", *ROLLUPS.values()):
                    if table in cutoffs:
                        cutoff = cutoffs[table]
                        if table == "points":  # raw points not rolled up yet are kept
                            cutoff = min(cutoff, *self.done.values())
                        elif table == "rollup_1m":  # and minutes the hours are built from
                            cutoff = min(cutoff, self.done["rollup_1h"])
                        row = self._con.execute(
                            f"DELETE FROM {table} WHERE ts < $c", {"c": cutoff}
                        ).fetchone()
                        deleted += int(row[0]) if row else 0
                if deleted:
                    self._con.execute("CHECKPOINT")
            except duckdb.Error as exc:
                self._recover()
                raise StoreError(f"retention pass on {self.path} failed: {exc}") from exc
        return deleted

    def delete_series(self, series_id: int) -> None:
        """Remove every point and rollup of one series; remember it as deleted."""
        with self._lock:
            con = self._con
            try:
                con.execute("BEGIN")
                for table in ("points", "rollup_1m", "rollup_1h"):
                    con.execute(f"DELETE FROM {table} WHERE series_id = ?", [series_id])
                con.execute("INSERT OR IGNORE INTO deleted_series VALUES (?)", [series_id])
                con.execute("COMMIT")
            except duckdb.Error as exc:
                with contextlib.suppress(duckdb.Error):
                    con.execute("ROLLBACK")
                raise StoreError(f"cannot delete series {series_id}: {exc}") from exc

    def deleted(self) -> set[int]:
        with self._lock:
            return {row[0] for row in self._con.execute("SELECT id FROM deleted_series").fetchall()}

    def undelete(self, series_ids: list[int]) -> None:
        """Series that received points again are no longer deleted."""
        with self._lock:
            try:
                self._con.executemany(
                    "DELETE FROM deleted_series WHERE id = ?", [[i] for i in series_ids]
                )
            except duckdb.Error as exc:
                raise StoreError(f"cannot restore deleted series: {exc}") from exc

    def disk_bytes(self) -> int:
        """Bytes on disk: the database file and its write-ahead log."""
        total = 0
        for path in (self.path, self.path.with_name(self.path.name + ".wal")):
            with contextlib.suppress(OSError):
                total += path.stat().st_size
        return total

    def points_in(self, table: str) -> int:
        """Points held in ``points`` or counted by a rollup table (checks, benchmarks)."""
        if table not in ("points", *ROLLUPS.values()):
            raise ValueError(f"not a points table: {table!r}")
        sql = (
            "SELECT count(*) FROM points"
            if table == "points"
            else f"SELECT (SELECT coalesce(sum(n), 0) FROM {table}) + "
            "(SELECT count(*) FROM points WHERE ts >= $done)"
        )
        params = {} if table == "points" else {"done": self.done[table]}
        with self._lock:
            row = self._con.execute(sql, params).fetchone()
        return int(row[0]) if row else 0

    def rollup(
        self, width: float, series_id: int, start: float, until: float, bucket: float
    ) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
        """(ts, mean, min, max, max score) from the ``width`` rollup, re-bucketed to ``bucket``."""
        table = ROLLUPS[width]
        buckets = _BUCKETS.format(t=table, only="series_id = $s AND")
        sql = (
            "SELECT floor(ts / $b) * $b AS t, sum(vsum) / sum(n), min(vmin), max(vmax), "
            f"max(smax) FROM ({buckets}) GROUP BY t ORDER BY t"
        )
        params = {
            "b": max(bucket, width), "s": series_id, "lo": start, "hi": until, "w": width,
            "done": self.done[table],
        }  # fmt: skip
        out = self._numpy(sql, params)
        return out[0], out[1], out[2], out[3], out[4]

    def window_stats(
        self, n_series: int, after: tuple[float, float], before: tuple[float, float]
    ) -> npt.NDArray[np.float64]:
        """Per series id ``< n_series``: points and mean in ``after``; points, mean and spread
        (of the minute means) in ``before`` — from the 1-minute rollup, for windows older
        than the hot window. Rows of series with no data are NaN."""
        sql = (
            f"WITH m AS ({_BUCKETS.format(t='rollup_1m', only='')}), "
            "b AS (SELECT series_id, sum(n) AS n, avg(vsum / n) AS m, "
            "stddev_pop(vsum / n) AS s FROM m WHERE ts >= $b0 AND ts < $b1 "
            "GROUP BY series_id), "
            "a AS (SELECT series_id, sum(n) AS n, sum(vsum) / sum(n) AS m FROM m "
            "WHERE ts >= $a0 AND ts <= $a1 GROUP BY series_id) "
            "SELECT coalesce(a.series_id, b.series_id), coalesce(a.n, 0), a.m, "
            "coalesce(b.n, 0), b.m, b.s FROM a FULL OUTER JOIN b ON a.series_id = b.series_id"
        )
        params = {
            "a0": after[0], "a1": after[1], "b0": before[0], "b1": before[1],
            "lo": min(after[0], before[0]), "hi": max(after[1], before[1]), "w": 60.0,
            "done": self.done["rollup_1m"],
        }  # fmt: skip
        cols = self._numpy(sql, params)
        out = np.full((n_series, 5), np.nan)
        ids = cols[0].astype(np.int64)
        keep = ids < n_series
        for j in range(5):
            out[ids[keep], j] = cols[j + 1][keep]
        return out

    def read(
        self, series_id: int, start: float, until: float
    ) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Raw points of one series in [start, until]: (ts, value, score)."""
        sql = (
            "SELECT ts, value, score FROM points "
            "WHERE series_id = $s AND ts >= $a AND ts <= $z ORDER BY ts"
        )
        cols = self._numpy(sql, {"s": series_id, "a": start, "z": until})
        return cols[0], cols[1], cols[2]

    def _numpy(self, sql: str, params: Mapping[str, object]) -> list[FloatArray]:
        with self._lock:
            try:
                cols = list(self._con.execute(sql, params).fetchnumpy().values())
            except duckdb.Error as exc:
                raise StoreError(f"read from {self.path} failed: {exc}") from exc
        return [np.ma.filled(np.ma.asarray(c).astype(np.float64), np.nan) for c in cols]

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


def _roll_up(
    con: duckdb.DuckDBPyConnection, table: str, width: float, lo: float, hi: float
) -> None:
    """Buckets in ``[lo, hi)`` have closed: into ``table`` from the next finer rollup (the
    first from the raw points), and marked."""
    finer = [t for w, t in ROLLUPS.items() if w < width]
    if finer:
        sql = _ROLLUP_FROM_FINER.format(t=table, f=finer[-1])
    else:
        sql = _ROLLUP_FROM_POINTS.format(t=table)
    con.execute(sql, {"w": width, "lo": lo, "hi": hi})
    _mark_done(con, table, hi)


def _mark_done(con: duckdb.DuckDBPyConnection, table: str, done: float) -> None:
    con.execute(
        "INSERT OR REPLACE INTO meta VALUES ($k, $v)", {"k": f"{table}.done", "v": repr(done)}
    )


def _read_done(con: duckdb.DuckDBPyConnection) -> dict[str, float]:
    rows = dict(con.execute("SELECT key, value FROM meta WHERE key LIKE '%.done'").fetchall())
    return {t: float(rows.get(f"{t}.done", 0.0)) for t in ROLLUPS.values()}


def _merge_rollup(con: duckdb.DuckDBPyConnection, table: str, width: float, done: float) -> None:
    """Fold the late points of the registered ``batch`` (before ``done``) into ``table``:
    merge existing buckets, add new ones."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE agg AS " + _ROLLUP_FROM_BATCH, {"w": width, "done": done}
    )
    row = con.execute("SELECT min(ts) FROM agg").fetchone()
    lo = float(row[0]) if row and row[0] is not None else 0.0
    con.execute(_MERGE_UPDATE.format(t=table), {"lo": lo})
    con.execute(_MERGE_INSERT.format(t=table), {"lo": lo})
    con.execute("DROP TABLE agg")


def _migrate(con: duckdb.DuckDBPyConnection) -> None:
    """Bring a file written by an older version up to date (rollups from its raw points)."""
    row = con.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
    version = row[0] if row is not None else None
    if version == SCHEMA_VERSION:
        return
    con.execute("BEGIN")
    if version != "2":  # no rollups yet (version 2 kept every bucket rolled up as it went)
        for width, table in ROLLUPS.items():
            con.execute(f"DELETE FROM {table}")
            con.execute(
                _ROLLUP_FROM_POINTS.format(t=table), {"w": width, "lo": -math.inf, "hi": math.inf}
            )
    top = con.execute("SELECT max(ts) FROM points").fetchone()
    for width, table in ROLLUPS.items():  # every bucket with points is rolled up: mark it so
        last = top[0] if top is not None else None
        _mark_done(con, table, 0.0 if last is None else (math.floor(last / width) + 1) * width)
    con.execute("INSERT OR REPLACE INTO meta VALUES ('schema', $v)", {"v": SCHEMA_VERSION})
    con.execute("COMMIT")
