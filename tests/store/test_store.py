from pathlib import Path

import numpy as np
import pytest

from opsradar.core import Event, NotFound
from opsradar.store import HotWindow, Store

T0 = 1_700_000_000.0  # "now" of these tests; points are written at T0 + small offsets


def _clock() -> float:
    return T0 + 86400.0


def _append(store: Store, names: list[str], ts: list[float], values: list[float]) -> None:
    slots = store.resolve(names)
    store.append(slots, T0 + np.array(ts), np.array(values), np.zeros(len(values)))


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store(tmp_path, hot_points=16, clock=_clock)
    s.open()
    yield s
    s.close()


def test_hot_window_keeps_the_last_points_in_order() -> None:
    hot = HotWindow(points=4, capacity=1)
    hot.append(np.array([0, 1, 0, 0]), np.array([1.0, 1, 2, 3]), np.array([10.0, 5, 11, 12]))
    hot.append(np.array([0, 0, 2]), np.array([4.0, 5, 1]), np.array([13.0, 14, 7]))
    ts, values, _ = hot.series(0)
    assert ts.tolist() == [2.0, 3.0, 4.0, 5.0]
    assert values.tolist() == [11.0, 12.0, 13.0, 14.0]
    assert hot.series(2)[1].tolist() == [7.0]
    assert hot.capacity >= 3


def test_read_merges_disk_and_hot_window(store: Store) -> None:
    for i in range(40):
        _append(store, ["a"], [float(i)], [float(i * 2)])
    assert store.flush() == 40
    data = store.read("a", T0, T0 + 100)
    assert data.resolution == "raw"
    assert (data.ts - T0).tolist() == [float(i) for i in range(40)]
    assert data.values.tolist() == [float(i * 2) for i in range(40)]
    assert (store.read("a", T0 + 30, T0 + 35).ts - T0).tolist() == [30, 31, 32, 33, 34, 35]


def test_history_and_events_survive_a_restart(tmp_path: Path) -> None:
    store = Store(tmp_path, hot_points=8, clock=_clock)
    store.open()
    _append(store, ["x.y", "x.z", "x.y"], [1.0, 1.0, 2.0], [3.0, 4.0, 5.0])
    store.add_event(Event(1.5, "deploy web#1", ("deploy", "service=web"), "sha"))
    store.close()
    again = Store(tmp_path, hot_points=8, clock=_clock)
    again.open()
    assert again.names == ["x.y", "x.z"]
    assert again.read("x.y", T0, T0 + 10).values.tolist() == [3.0, 5.0]
    assert again.hot.series(1)[1].tolist() == [4.0]
    (event,) = again.events(0, 10)
    assert (event.what, event.tags, event.data) == (
        "deploy web#1",
        ("deploy", "service=web"),
        "sha",
    )
    again.close()


def test_unknown_series_is_not_found(store: Store) -> None:
    with pytest.raises(NotFound):
        store.read("nope")


def test_names_full_of_sql_are_just_names(store: Store) -> None:
    evil = "a'; DROP TABLE points; --"
    _append(store, [evil, "b"], [1.0, 1.0], [1.0, 2.0])
    store.flush()
    store.add_event(Event(1.0, "x'); DELETE FROM events; --", ("t'",), "'"))
    assert store.read(evil, T0, T0 + 5).values.tolist() == [1.0]
    assert store.read("b", T0, T0 + 5).values.tolist() == [2.0]
    assert store.events(0, 5)[0].what.startswith("x');")


def test_glob_and_regex_match(store: Store) -> None:
    _append(store, ["hosts.web1.cpu", "hosts.web2.cpu", "hosts.web1.mem"], [1.0] * 3, [1.0] * 3)
    assert store.match("hosts.*.cpu") == ["hosts.web1.cpu", "hosts.web2.cpu"]
    assert store.match(r"web1\.", regex=True) == ["hosts.web1.cpu", "hosts.web1.mem"]


def test_long_ranges_are_bucketed(tmp_path: Path) -> None:
    store = Store(tmp_path, hot_points=16, clock=_clock)
    store.open()
    n = 10000
    slots = store.resolve(["s"] * n)
    store.append(slots, T0 - 86400 + np.arange(n) * 10.0, np.ones(n), np.zeros(n))
    store.flush()
    data = store.read("s", T0 - 86400, T0 - 86400 + n * 10.0)
    assert data.resolution == "60s"
    assert len(data.ts) <= n * 10 / 60 + 1
    assert np.allclose(data.values[:-1], 1.0)
    store.close()
