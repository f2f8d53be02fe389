"""Rollups (1 min, 1 h: min, max, sum, count) and retention, on a real DuckDB file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from opsradar.store import Retention, Store

NOW = 1_700_006_400.0  # a multiple of 3600


def _store(path: Path, retention: Retention | None = None) -> Store:
    store = Store(path, hot_points=16, clock=lambda: NOW, retention=retention)
    store.open()
    return store


def _write(store: Store, name: str, ts: np.ndarray, values: np.ndarray) -> None:
    slots = store.resolve([name] * len(ts))
    store.append(slots, ts, values, np.zeros(len(ts)))


def test_rollups_hold_min_max_sum_count_across_flushes(tmp_path: Path) -> None:
    store = _store(tmp_path)
    ts = NOW - 7200 + np.arange(720) * 10.0  # two hours at 10 s
    values = np.arange(720, dtype=float)
    for part in np.array_split(np.arange(720), 7):  # flushes cut buckets in the middle
        _write(store, "a", ts[part], values[part])
        store.flush()
    assert store.db.points_in("rollup_1m") == store.db.points_in("rollup_1h") == 720
    t, mean, lo, hi, _ = store.db.rollup(60.0, 0, NOW - 7200, NOW, 60.0)
    assert len(t) == 120
    assert lo.tolist() == [6.0 * k for k in range(120)]
    assert hi.tolist() == [6.0 * k + 5 for k in range(120)]
    assert np.allclose(mean, lo + 2.5)
    t, mean, lo, hi, _ = store.db.rollup(3600.0, 0, NOW - 7200, NOW, 3600.0)
    assert (lo.tolist(), hi.tolist(), mean.tolist()) == ([0, 360], [359, 719], [179.5, 539.5])
    store.close()


def test_late_points_merge_into_their_buckets(tmp_path: Path) -> None:
    store = _store(tmp_path)
    _write(store, "a", np.array([NOW - 120, NOW - 60]), np.array([1.0, 2.0]))
    store.flush()
    _write(store, "a", np.array([NOW - 119]), np.array([10.0]))  # late, into the first minute
    store.flush()
    t, mean, lo, hi, _ = store.db.rollup(60.0, 0, NOW - 200, NOW, 60.0)
    assert (t - NOW).tolist() == [-120, -60]
    assert (lo.tolist(), hi.tolist(), mean.tolist()) == ([1, 2], [10, 2], [5.5, 2])
    store.close()


def test_long_ranges_read_the_rollups(tmp_path: Path) -> None:
    store = _store(tmp_path)
    ts = NOW - 10 * 86400 + np.arange(10 * 1440) * 60.0  # ten days at 1 min
    _write(store, "a", ts, np.sin(np.arange(len(ts)) / 100.0))
    store.flush()
    day = store.read("a", NOW - 86400, NOW)  # 1440 raw points: raw
    assert day.resolution == "raw" and len(day.ts) == 1440
    week = store.read("a", NOW - 7 * 86400, NOW)
    assert week.resolution == "300s" and week.mins is not None and week.maxs is not None
    assert len(week.ts) == 7 * 288
    assert (week.mins <= week.values).all() and (week.values <= week.maxs).all()
    month = store.read("a", NOW - 30 * 86400, NOW)  # past raw retention: hourly rollup
    assert month.resolution == "3600s" and len(month.ts) == 10 * 24
    store.close()


def test_retention_removes_old_data_per_resolution(tmp_path: Path) -> None:
    store = _store(tmp_path, Retention(raw_days=1, rollup_1m_days=2, rollup_1h_days=3))
    ts = NOW - 4 * 86400 + np.arange(4 * 24) * 3600.0  # hourly for four days
    _write(store, "a", ts, np.ones(len(ts)))
    store.flush()
    assert store.maintain() > 0
    assert store.db.points_in("points") == 24
    assert store.db.points_in("rollup_1m") == 48
    assert store.db.points_in("rollup_1h") == 72
    assert store.maintain() == 0
    store.close()


def test_an_old_file_gets_its_rollups_built_on_open(tmp_path: Path) -> None:
    store = _store(tmp_path)
    _write(store, "a", NOW - np.arange(100) * 30.0, np.ones(100))
    store.flush()
    with store.db._lock:  # simulate a file written before rollups existed
        store.db._con.execute("DELETE FROM rollup_1m; DELETE FROM rollup_1h; DELETE FROM meta")
    store.close()
    again = _store(tmp_path)
    assert again.db.points_in("rollup_1m") == again.db.points_in("rollup_1h") == 100
    again.close()


@pytest.mark.parametrize("n", [1, 1000])
def test_disk_bytes_are_reported(tmp_path: Path, n: int) -> None:
    store = _store(tmp_path)
    _write(store, "a", NOW - np.arange(n) * 10.0, np.ones(n))
    store.flush()
    assert store.status()["disk_bytes"] > 0
    store.close()


def _table_rows(store: Store, table: str) -> int:
    with store.db._lock:
        row = store.db._con.execute(f"SELECT count(*) FROM {table}").fetchone()
    return int(row[0]) if row else 0


def test_open_buckets_are_read_from_raw_points_and_rolled_up_once_closed(tmp_path: Path) -> None:
    clock = [NOW]
    store = Store(tmp_path, hot_points=16, clock=lambda: clock[0])
    store.open()
    ts = NOW - 90 + np.arange(9) * 10.0  # the last minute and a half: buckets still open
    _write(store, "a", ts, np.arange(9.0))
    store.flush()
    assert _table_rows(store, "rollup_1m") == _table_rows(store, "rollup_1h") == 0
    assert store.db.points_in("rollup_1m") == store.db.points_in("rollup_1h") == 9
    minutes = store.db.rollup(60.0, 0, NOW - 200, NOW, 60.0)
    hour = store.db.rollup(3600.0, 0, NOW - 7200, NOW, 3600.0)
    stats = store.db.window_stats(1, (NOW - 60, NOW), (NOW - 120, NOW - 60))
    assert (minutes[0] - NOW).tolist() == [-120, -60] and minutes[2].tolist() == [0, 3]
    assert stats[0, [0, 2]].tolist() == [6, 3]  # points after, points before
    clock[0] = NOW + 2 * 3600  # the buckets close; the next flush writes them, once
    _write(store, "b", np.array([clock[0]]), np.array([1.0]))
    store.flush()
    assert _table_rows(store, "rollup_1m") == 2 and _table_rows(store, "rollup_1h") == 1
    for got, want in zip(store.db.rollup(60.0, 0, NOW - 200, NOW, 60.0), minutes, strict=True):
        np.testing.assert_array_equal(got, want)
    for got, want in zip(store.db.rollup(3600.0, 0, NOW - 7200, NOW, 3600.0), hour, strict=True):
        np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(
        store.db.window_stats(1, (NOW - 60, NOW), (NOW - 120, NOW - 60)), stats
    )
    assert store.db.points_in("rollup_1m") == store.db.points_in("rollup_1h") == 10
    store.close()


def test_the_done_marks_survive_a_restart(tmp_path: Path) -> None:
    store = _store(tmp_path)
    _write(store, "a", NOW - 90 + np.arange(9) * 10.0, np.ones(9))
    store.flush()
    done = dict(store.db.done)
    store.close()
    again = _store(tmp_path)
    assert again.db.done == done
    assert again.db.points_in("rollup_1m") == again.db.points_in("rollup_1h") == 9
    again.close()


def test_raw_points_are_kept_until_rolled_up(tmp_path: Path) -> None:
    store = _store(tmp_path, Retention(raw_days=1e-4, rollup_1m_days=2, rollup_1h_days=3))
    _write(store, "a", NOW - 90 + np.arange(9) * 10.0, np.ones(9))
    store.flush()
    assert store.maintain() == 0  # older than raw retention, but not rolled up yet
    assert store.db.points_in("points") == 9
    store.close()


def test_a_version_2_file_counts_every_bucket_as_rolled_up(tmp_path: Path) -> None:
    store = _store(tmp_path)
    _write(store, "a", NOW - 90 + np.arange(9) * 10.0, np.ones(9))
    store.flush()
    with store.db._lock:  # as version 2 left it: every bucket rolled up, no done marks
        con = store.db._con
        con.execute("DELETE FROM rollup_1m; DELETE FROM rollup_1h")
        for width, table in ((60, "rollup_1m"), (3600, "rollup_1h")):
            con.execute(
                f"INSERT INTO {table} SELECT series_id, floor(ts / {width}) * {width}, "
                "min(value), max(value), sum(value), count(*), max(score) FROM points GROUP BY ALL"
            )
        con.execute("DELETE FROM meta WHERE key LIKE '%.done'")
        con.execute("UPDATE meta SET value = '2' WHERE key = 'schema'")
    store.close()
    again = _store(tmp_path)
    assert again.db.done == {"rollup_1m": NOW, "rollup_1h": NOW}  # past the last bucket
    _write(again, "a", np.array([NOW - 5.0]), np.array([3.0]))  # late: merged in place
    again.flush()
    assert _table_rows(again, "rollup_1m") == 2 and _table_rows(again, "rollup_1h") == 1
    assert again.db.points_in("rollup_1m") == again.db.points_in("rollup_1h") == 10
    _, mean, _, hi, _ = again.db.rollup(60.0, 0, NOW - 200, NOW, 60.0)
    assert hi.tolist() == [1.0, 3.0] and mean[1] == pytest.approx(9 / 7)  # six 1s and a 3
    again.close()


def test_history_replayed_in_time_order_rolls_up_as_it_goes(tmp_path: Path) -> None:
    store = _store(tmp_path)  # the clock says NOW; the points are two hours older
    ts = NOW - 7200 + np.arange(720) * 10.0
    for part in np.array_split(np.arange(720), 4):
        _write(store, "a", ts[part], np.ones(len(part)))
        store.flush()
        newest = ts[part][-1]  # buckets close behind the newest point, not the clock
        assert store.db.done["rollup_1m"] == (newest - 120) // 60 * 60
    assert _table_rows(store, "rollup_1m") == 117  # minutes that ended 2 min before the last
    assert store.db.points_in("rollup_1m") == store.db.points_in("rollup_1h") == 720
    store.close()


def test_minutes_the_hours_are_built_from_are_kept(tmp_path: Path) -> None:
    clock = [NOW]
    tiny = Retention(raw_days=1e-4, rollup_1m_days=1e-4, rollup_1h_days=3)
    store = Store(tmp_path, hot_points=16, clock=lambda: clock[0], retention=tiny)
    store.open()
    _write(store, "a", NOW - 1800 + np.arange(150) * 10.0, np.ones(150))  # this hour, open
    store.flush()
    store.maintain()  # minutes and points past their retention, but the hour needs them
    clock[0] = NOW + 3600  # the hour closes: it is built from its minutes
    _write(store, "a", np.array([clock[0]]), np.array([1.0]))
    store.flush()
    assert _table_rows(store, "rollup_1h") == 1
    assert store.db.points_in("rollup_1h") == 151
    store.close()
