"""Etsy Skyline's ensemble (2013), as its documentation and ``algorithms.py`` describe it.

Nine tests vote on the *last* point of a series' full window (FULL_DURATION = 86400 s,
8,640 points at 10 s); the point is anomalous when at least CONSENSUS = 6 agree. Skyline
re-runs all nine over the whole window on every pass, which is its cost.

Faithful in numpy, with two stated simplifications because scipy/pandas/statsmodels are
not dependencies here: Grubbs' t critical value uses the normal quantile (exact enough at
thousands of points), and the augmented Dickey-Fuller check inside ``ks_test`` uses no lag
terms (5 % critical value -2.86).
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np

CONSENSUS = 6


def tail_avg(x: np.ndarray) -> float:
    return float(x[-3:].mean())


def median_absolute_deviation(ts: np.ndarray, x: np.ndarray) -> bool:
    demedianed = np.abs(x - np.median(x))
    mad = np.median(demedianed)
    return bool(mad != 0 and demedianed[-1] / mad > 6)


def grubbs(ts: np.ndarray, x: np.ndarray) -> bool:
    sd = x.std()
    if sd == 0:
        return False
    z = (tail_avg(x) - x.mean()) / sd
    n = len(x)
    t = NormalDist().inv_cdf(1 - 0.05 / (2 * n))
    t2 = t * t
    score = ((n - 1) / math.sqrt(n)) * math.sqrt(t2 / (n - 2 + t2))
    return bool(z > score)


def first_hour_average(ts: np.ndarray, x: np.ndarray) -> bool:
    first = x[ts < ts[0] + 3600]
    return bool(abs(tail_avg(x) - first.mean()) > 3 * first.std())


def stddev_from_average(ts: np.ndarray, x: np.ndarray) -> bool:
    return bool(abs(tail_avg(x) - x.mean()) > 3 * x.std())


def _ewm_last(x: np.ndarray, com: float) -> tuple[float, float]:
    """pandas ``ewm(com).mean()`` and ``.std()`` (adjust=True, bias=False), last value only."""
    a = 1.0 / (1.0 + com)
    w = (1.0 - a) ** np.arange(len(x) - 1, -1, -1)
    sw, sw2 = w.sum(), (w * w).sum()
    mean = float((w * x).sum() / sw)
    var = float((w * (x - mean) ** 2).sum() / sw) * sw * sw / (sw * sw - sw2)
    return mean, math.sqrt(max(var, 0.0))


def stddev_from_moving_average(ts: np.ndarray, x: np.ndarray) -> bool:
    mean, sd = _ewm_last(x, 50)
    return bool(abs(x[-1] - mean) > 3 * sd)


def mean_subtraction_cumulation(ts: np.ndarray, x: np.ndarray) -> bool:
    s = x - x[:-1].mean()
    return bool(abs(s[-1]) > 3 * s[:-1].std(ddof=1))


def least_squares(ts: np.ndarray, x: np.ndarray) -> bool:
    a = np.column_stack([ts, np.ones(len(ts))])
    coef, *_ = np.linalg.lstsq(a, x, rcond=None)
    errors = x - a @ coef
    sd, t = errors.std(ddof=1), errors[-1]
    return bool(abs(t) > 3 * sd and round(sd) != 0 and round(t) != 0)


def histogram_bins(ts: np.ndarray, x: np.ndarray) -> bool:
    hist, bins = np.histogram(x, bins=15)
    t = tail_avg(x)
    for i, count in enumerate(hist):
        if count > 20:
            continue
        if i == 0:  # Skyline's own test: only a tail below the first edge counts here
            if t <= bins[0]:
                return True
        elif bins[i] <= t < bins[i + 1]:
            return True
    return False


def _ks_2samp(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    a, b = np.sort(a), np.sort(b)
    allv = np.concatenate([a, b])
    d = float(
        np.abs(
            np.searchsorted(a, allv, side="right") / len(a)
            - np.searchsorted(b, allv, side="right") / len(b)
        ).max()
    )
    en = math.sqrt(len(a) * len(b) / (len(a) + len(b)))
    lam = (en + 0.12 + 0.11 / en) * d
    p = 2 * sum((-1) ** (j - 1) * math.exp(-2 * j * j * lam * lam) for j in range(1, 101))
    return d, min(max(p, 0.0), 1.0)


def _adf_stationary(x: np.ndarray) -> bool:
    dy, y1 = np.diff(x), x[:-1]
    a = np.column_stack([y1, np.ones(len(y1))])
    coef, *_ = np.linalg.lstsq(a, dy, rcond=None)
    resid = dy - a @ coef
    s2 = (resid @ resid) / (len(dy) - 2)
    cov = s2 * np.linalg.inv(a.T @ a)
    return bool(coef[0] / math.sqrt(cov[0, 0]) < -2.86)


def ks_test(ts: np.ndarray, x: np.ndarray) -> bool:
    hour_ago, ten_min_ago = ts[-1] - 3600, ts[-1] - 600
    reference = x[(ts >= hour_ago) & (ts < ten_min_ago)]
    probe = x[ts >= ten_min_ago]
    if reference.size < 20 or probe.size < 20:
        return False
    d, p = _ks_2samp(reference, probe)
    return bool(p < 0.05 and d > 0.5 and _adf_stationary(reference))


ALGORITHMS = (
    first_hour_average,
    mean_subtraction_cumulation,
    stddev_from_average,
    stddev_from_moving_average,
    least_squares,
    grubbs,
    histogram_bins,
    median_absolute_deviation,
    ks_test,
)


def is_anomalous(ts: np.ndarray, x: np.ndarray) -> bool:
    """One Skyline pass over a series' window: all nine tests, then the consensus vote."""
    votes = sum(alg(ts, x) for alg in ALGORITHMS)
    return votes >= CONSENSUS
