"""The series cap, the disk backlog cap, and disk failures."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from opsradar.core import SelfMetrics, StoreError
from opsradar.store import SeriesLimits, Store

NOW = 1_700_000_000.0


def test_new_series_past_the_caps_are_refused_and_existing_ones_keep_working(
    tmp_path: Path,
) -> None:
    store = Store(tmp_path, limits=SeriesLimits(max_series=5, per_prefix=3, depth=2))
    store.open()
    names = [f"app.checkout.user_{i}" for i in range(4)] + ["hosts.a.cpu", "hosts.b.cpu"]
    slots = store.resolve(names)
    assert slots.tolist() == [0, 1, 2, -1, 3, 4]
    assert store.resolve(["app.checkout.user_0", "hosts.c.cpu"]).tolist() == [0, -1]
    refused = store.refusals()
    assert refused.total == 2
    assert dict(refused.prefixes) == {"app.checkout": 1, "*": 1}
    assert store.status()["series_refused"] == 2
    store.close()
    again = Store(tmp_path, limits=SeriesLimits(max_series=5, per_prefix=3, depth=2))
    again.open()  # series already on disk count towards the cap after a restart
    assert again.resolve(["app.checkout.user_9", "hosts.a.cpu"]).tolist() == [-1, 3]
    again.close()


class FailingDisk:
    """A Durable stand-in whose writes fail, as on a full or read-only disk."""

    def __init__(self) -> None:
        self.fail = True
        self.written = 0

    def write(self, new, slots, ts, values, scores, now) -> None:  # type: ignore[no-untyped-def]
        if self.fail:
            raise StoreError("write to opsradar.duckdb failed: No space left on device")
        self.written += len(slots)

    def disk_bytes(self) -> int:
        return 0

    def close(self) -> None:
        pass


def test_a_failing_disk_is_reported_memory_stays_bounded_and_it_catches_up(
    tmp_path: Path,
) -> None:
    metrics = SelfMetrics()
    store = Store(tmp_path, hot_points=16, metrics=metrics, max_pending_points=1000)
    store.open()
    store._durable.close()  # type: ignore[union-attr]
    disk = FailingDisk()
    store._durable = disk  # type: ignore[assignment]
    for i in range(30):
        slots = store.resolve([f"s{i % 3}"] * 100)
        store.append(slots, NOW + i + np.arange(100) * 0.001, np.ones(100), np.zeros(100))
        assert store.flush() == 0
    assert "No space left" in (store.status()["store_error"] or "")
    assert store.pending_points <= 1000
    assert metrics.rejected_by_reason()["store/disk_backlog"] == 2000
    assert len(store.hot.series(0)[0]) == 16  # the hot window keeps filling
    disk.fail = False
    assert store.flush() == 1000
    assert store.status()["store_error"] is None
    store._durable = None


@pytest.mark.parametrize("depth", [1, 2, 3])
@pytest.mark.parametrize(
    "name", ["a", "a.b", "a.b.c", "a.b.c.d;x=1", "a;b=c", "a.b;c=d.e", "a..b", "cpu.user;h=a.b"]
)
def test_a_prefix_is_the_first_parts_of_the_path(name: str, depth: int) -> None:
    path = name.partition(";")[0]
    assert SeriesLimits(depth=depth).prefix(name) == ".".join(path.split(".")[:depth])


def test_a_batch_far_from_the_caps_is_admitted_as_one_by_one_would_be() -> None:
    names = [f"app.svc{i % 3}.m{i}" for i in range(30)]
    together, one_by_one = SeriesLimits(100, 20), SeriesLimits(100, 20)
    assert together.admit_all(names)
    assert all(one_by_one.admit(n, now=0.0) for n in names)
    assert (together.count, together._by_prefix) == (one_by_one.count, one_by_one._by_prefix)


@pytest.mark.parametrize("caps", [(29, 0), (0, 9)])
def test_a_batch_that_meets_a_cap_changes_nothing(caps: tuple[int, int]) -> None:
    limits = SeriesLimits(*caps)
    assert not limits.admit_all([f"app.svc{i % 3}.m{i}" for i in range(30)])
    assert limits.count == 0 and not limits._by_prefix and limits.refusals().total == 0
