"""Labelled synthetic series for the detector tests: each returns (ts, values, onset).

``onset`` is the index where the anomaly starts, or None for the matching normal case.
Everything is seeded, so tests are deterministic.
"""

from __future__ import annotations

import numpy as np

Series = tuple[np.ndarray, np.ndarray, int | None]
STEP = 300.0  # five-minute samples
T0 = 1_700_006_400.0  # a Wednesday, 00:00 UTC


def _ts(n: int, step: float = STEP) -> np.ndarray:
    return T0 + step * np.arange(n)


def noise(seed: int, n: int, sd: float = 2.0, level: float = 100.0) -> np.ndarray:
    return level + np.random.default_rng(seed).normal(0.0, sd, n)


def spike(seed: int = 0, anomalous: bool = True, sign: float = 1.0) -> Series:
    x = noise(seed, 1500)
    if anomalous:
        x[1000] += sign * 30.0
    return _ts(1500), x, 1000 if anomalous else None


def level_shift(seed: int = 0, anomalous: bool = True) -> Series:
    x = noise(seed, 1500)
    if anomalous:
        x[1000:] += 12.0
    return _ts(1500), x, 1000 if anomalous else None


def variance_change(seed: int = 0, anomalous: bool = True) -> Series:
    x = noise(seed, 1500)
    if anomalous:
        x[1000:] = 100.0 + (x[1000:] - 100.0) * 5.0
    return _ts(1500), x, 1000 if anomalous else None


def drift(seed: int = 0, anomalous: bool = True) -> Series:
    x = noise(seed, 2000)
    if anomalous:
        x[1000:] += 0.02 * np.arange(1000)  # +20 (10 sd) over 1000 points, 0.01 sd per step
    return _ts(2000), x, 1000 if anomalous else None


def daily(seed: int = 0, anomalous: bool = True) -> Series:
    """Ten days of a daily cycle (peak 250 at 15:00, trough 50); day 8 loses its afternoon."""
    n = 10 * 288
    ts = _ts(n)
    hour = (ts % 86400) / 3600
    x = (
        150
        - 100 * np.cos(2 * np.pi * (hour - 3) / 24)
        + np.random.default_rng(seed).normal(0, 4, n)
    )
    onset = None
    if anomalous:
        onset = 8 * 288 + 12 * 12  # day 8, 12:00: stays at the morning level for 4 hours
        x[onset : onset + 48] = x[onset] + np.random.default_rng(seed + 1).normal(0, 4, 48)
    return ts, x, onset


def weekly(seed: int = 0, anomalous: bool = True) -> Series:
    """Five weeks at 10-minute steps: business-hours peaks on weekdays, quiet weekends.

    Monday mornings ramp up from the quiet weekend - normal. The anomaly: a Wednesday in
    week 5 whose business-hours peak does not come (an outage that looks like a Sunday).
    """
    step = 600.0
    n = 5 * 7 * 144
    ts = _ts(n, step)
    day = ((ts // 86400) + 3) % 7  # 0 = Monday
    hour = (ts % 86400) / 3600
    busy = (day < 5) & (hour >= 8) & (hour < 18)
    x = 20 + 80 * busy + np.random.default_rng(seed).normal(0, 3, n)
    onset = None
    if anomalous:
        start = 4 * 7 * 144  # week 5 starts on a Wednesday (T0 is a Wednesday)
        onset = start + 8 * 6
        x[onset : onset + 60] -= 80
    return ts, x, onset


def flatline(seed: int = 0, anomalous: bool = True) -> Series:
    x = noise(seed, 1500)
    if anomalous:
        x[1000:1100] = x[999]
    return _ts(1500), x, 1000 if anomalous else None


def sparse_counts(seed: int = 0) -> Series:
    """A normal series that is mostly zero: long flat runs are its habit, not a fault."""
    rng = np.random.default_rng(seed)
    return _ts(3000), rng.poisson(0.3, 3000).astype(float), None


def counter_reset(seed: int = 0, anomalous: bool = True) -> Series:
    rng = np.random.default_rng(seed)
    x = np.cumsum(rng.poisson(50, 1500)).astype(float)
    if anomalous:
        x[1000:] -= x[999]
    return _ts(1500), x, 1000 if anomalous else None


def irregular(seed: int = 0, anomalous: bool = True) -> Series:
    """Jittered sampling with two long gaps; the anomaly is one spike after a gap."""
    rng = np.random.default_rng(seed)
    steps = rng.uniform(30, 570, 1500)
    steps[[400, 900]] = [4 * 3600.0, 12 * 3600.0]
    ts = T0 + np.cumsum(steps)
    x = noise(seed, 1500)
    if anomalous:
        x[1000] += 30.0
    return ts, x, 1000 if anomalous else None


def leak(seed: int = 0, anomalous: bool = True) -> Series:
    """A heap that grows and is collected every 120 points (a saw-tooth between ~500 and
    ~740 MB); the anomaly: from one collection on, nothing is freed - it keeps growing.
    The onset is that first missed collection."""
    n = 3000
    rng = np.random.default_rng(seed)
    x = 500.0 + 2.0 * (np.arange(n) % 120) + rng.normal(0, 2, n)
    onset = None
    if anomalous:
        onset = 1920  # a collection is due here (1920 = 16 x 120)
        x[onset:] = x[onset - 1] + 2.0 * np.arange(1, n - onset + 1) + rng.normal(0, 2, n - onset)
    return _ts(n), x, onset


CASES = {
    "spike": spike,
    "dip": lambda seed=0, anomalous=True: spike(seed, anomalous, sign=-1.0),
    "level_shift": level_shift,
    "variance": variance_change,
    "drift": drift,
    "daily": daily,
    "weekly": weekly,
    "flatline": flatline,
    "counter_reset": counter_reset,
    "irregular": irregular,
    "leak": leak,
}
