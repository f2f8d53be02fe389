import time
from pathlib import Path

import numpy as np
import pytest

from opsradar.core import NotFound
from opsradar.store import Store

T0 = float(int(time.time()) - 3600)  # recent: inside raw retention


def _append(store: Store, name: str, ts: list[float]) -> None:
    slots = store.resolve([name] * len(ts))
    store.append(slots, T0 + np.array(ts), np.ones(len(ts)), np.zeros(len(ts)))


def test_a_deleted_series_is_gone_from_disk_memory_and_listings(tmp_path: Path) -> None:
    store = Store(tmp_path, hot_points=16)
    store.open()
    _append(store, "gone.soon", [100.0, 110.0, 120.0])
    _append(store, "stays", [100.0])
    store.flush()
    _append(store, "gone.soon", [130.0])  # pending, not yet on disk
    store.delete("gone.soon")
    assert store.match("*") == ["stays"]
    with pytest.raises(NotFound):
        store.read("gone.soon", T0, T0 + 1000)
    with pytest.raises(NotFound):
        store.delete("gone.soon")
    store.close()
    again = Store(tmp_path, hot_points=16)
    again.open()
    assert again.match("*") == ["stays"]
    assert again.db.count(0, 0, T0 + 1000) == 0
    _append(again, "gone.soon", [200.0])  # it reports again: it is back, with only new data
    again.flush()
    assert again.read("gone.soon", T0, T0 + 1000).ts.tolist() == [T0 + 200.0]
    again.close()
    third = Store(tmp_path, hot_points=16)
    third.open()
    assert third.match("*") == ["gone.soon", "stays"]
    third.close()
