"""Server-rendered SVG sparklines: no JavaScript needed to see the shape of a trend."""

from __future__ import annotations

import numpy as np

from opsradar.core import FloatArray


def sparkline(
    values: FloatArray, scores: FloatArray, threshold: float, width: int = 160, height: int = 32
) -> str:
    """An inline SVG polyline; anomalous points are drawn as red dots.

    >>> sparkline(np.array([1.0, 2.0, 3.0]), np.zeros(3), 0.5).startswith("<svg")
    True
    """
    ok = np.isfinite(values)
    if ok.sum() < 2:
        return f'<svg class="spark" width="{width}" height="{height}"></svg>'
    v = values.copy()
    v[~ok] = np.nanmean(values[ok])
    lo, hi = float(v.min()), float(v.max())
    span = hi - lo or 1.0
    xs = np.linspace(1, width - 1, len(v))
    ys = height - 2 - (v - lo) / span * (height - 4)
    points = " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs, ys, strict=True))
    dots = "".join(
        f'<circle cx="{xs[i]:.1f}" cy="{ys[i]:.1f}" r="1.8" fill="#d62728"/>'
        for i in np.flatnonzero(scores >= threshold)
    )
    return (
        f'<svg class="spark" width="{width}" height="{height}" viewBox="0 0 {width} {height}">'
        f'<polyline fill="none" stroke="#1f77b4" stroke-width="1.2" points="{points}"/>'
        f"{dots}</svg>"
    )
