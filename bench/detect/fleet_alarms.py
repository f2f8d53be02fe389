"""False alarms on the demo's own fleet: alarms per series per day with no incident.

    .venv/bin/python bench/detect/fleet_alarms.py [--hosts 20] [--days 3] [--seed 1]

``opsradar demo`` feeds a simulated fleet (``opsradar.simulate.Fleet``: hosts of several
services, 10-second points, daily cycles, noise, deploys) into the server. Without its
injected incidents, every alarm on it is a false one, so this is the calibration an SRE
meets first: how often a normal series sampled as StatsD flushes it raises an alarm. The
same engine as the server scores every host metric of ``--hosts`` hosts for ``--days``
days; the first day (warm-up, the daily baseline's first period) is not counted.
"""

from __future__ import annotations

import argparse
from collections import Counter

import numpy as np

from opsradar.detect import Engine
from opsradar.simulate import Fleet

DAY = 86400.0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--hosts", type=int, default=20)
    ap.add_argument("--days", type=float, default=3.0)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    fleet = Fleet(seed=a.seed, hosts=a.hosts)  # no incidents are planned
    per_day = int(DAY / fleet.interval)
    start = 1_700_000_000 // int(fleet.interval)
    steps = np.arange(start, start + int(a.days * per_day))
    ts, values, _ = fleet.host_frame(steps)
    n_series, n_points = values.shape
    slots = np.tile(np.arange(n_series, dtype=np.int64), n_points)
    scores = Engine().score(slots, np.repeat(ts, n_series), values.T.ravel())
    alarms = (scores.reshape(n_points, n_series)[per_day:] >= 0.5).sum(axis=0)
    days = (n_points - per_day) / per_day
    print(
        f"{n_series} series x {n_points:,} points every {fleet.interval:g} s; after the first"
        f" day: {int(alarms.sum())} alarms = {alarms.sum() / n_series / days:.2f} per series"
        " per day"
    )
    by_metric: Counter[str] = Counter()
    for name, k in zip(fleet.layout.names, alarms, strict=True):
        by_metric[name.split(".", 2)[2]] += int(k)
    print("  by metric: " + ", ".join(f"{m} {k}" for m, k in by_metric.most_common()))


if __name__ == "__main__":
    main()
