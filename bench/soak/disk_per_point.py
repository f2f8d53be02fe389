"""Disk bytes per stored point: the demo fleet's host metrics written through the Store.

    .venv/bin/python bench/soak/disk_per_point.py [--hosts 200] [--hours 6]

Writes ``hours`` of every host metric at 10 s (raw points, 1-minute and 1-hour rollups, in
flushes of 2 s worth of data as the server does), checkpoints the file, and prints bytes per
raw point for the whole file and what the rollups add.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from opsradar.simulate import Fleet
from opsradar.store import Store


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--hosts", type=int, default=200)
    parser.add_argument("--hours", type=float, default=6.0)
    args = parser.parse_args()
    fleet = Fleet(seed=1, hosts=args.hosts)
    names = list(fleet.layout.names)
    data = Path(tempfile.mkdtemp(prefix="opsradar-disk-"))
    now = time.time()
    steps = int(args.hours * 360)
    first = int(now // 10) - steps
    store = Store(data, hot_points=16)
    store.open()
    slots = store.resolve(names)
    started = time.perf_counter()
    for block in np.array_split(np.arange(first, first + steps), max(1, steps // 6)):
        ts, values, _ = fleet.host_frame(block.astype(np.int64))
        n = len(block)
        store.append(
            np.repeat(slots, n), np.tile(ts, len(names)), values.ravel(), np.zeros(values.size)
        )
        store.flush()
    elapsed = time.perf_counter() - started
    raw = store.db.points_in("points")
    minute, hour = store.db.points_in("rollup_1m"), store.db.points_in("rollup_1h")
    assert minute == hour == raw
    store.close()  # checkpoints: the WAL is folded into the file
    size = sum(p.stat().st_size for p in data.iterdir())
    print(f"{len(names)} series x {steps} points = {raw:,} points in {elapsed:.1f} s")
    print(f"({raw / elapsed:,.0f} points/s through flush + rollups)")
    print(f"disk: {size / 1e6:.1f} MB = {size / raw:.1f} bytes per raw point (rollups included)")


if __name__ == "__main__":
    main()
