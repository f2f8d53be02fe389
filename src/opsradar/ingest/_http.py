"""The body of ``POST /api/v1/points``: JSON points → one PointBatch.

All or nothing: one bad point rejects the whole request with an ``InputError`` naming the
index and the problem (``points[3].value: not a finite number``), so a client never has to
guess which of its points were stored. The HTTP layer turns it into a 400 and counts it.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable

import numpy as np

from opsradar.core import InputError, PointBatch, canonical

PROTOCOL = "http"
#: Most points accepted in one request.
MAX_POINTS = 100_000


def parse_points_json(body: bytes, clock: Callable[[], float] = time.time) -> PointBatch:
    """Parse ``{"points": [{"name", "value", "ts"?, "labels"?}, ...]}``.

    ``ts`` (unix seconds) defaults to ``clock()``; ``labels`` become part of the canonical
    series name.

    >>> b = parse_points_json(b'{"points": [{"name": "cpu", "value": 1, "ts": 5, '
    ...                       b'"labels": {"host": "a"}}]}')
    >>> b.names, b.ts.tolist(), b.values.tolist(), b.protocol
    (['cpu;host=a'], [5.0], [1.0], 'http')
    """
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"body is not valid JSON: {exc}") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("points"), list):
        raise InputError('body must be an object with a "points" list')
    points = doc["points"]
    if len(points) > MAX_POINTS:
        raise InputError(f"too many points: {len(points)} > {MAX_POINTS}")
    now = clock()
    names: list[str] = []
    ts = np.empty(len(points), dtype=np.float64)
    values = np.empty(len(points), dtype=np.float64)
    for i, point in enumerate(points):
        try:
            names.append(_name(point))
            values[i] = _number(point, "value", None)
            ts[i] = _number(point, "ts", now)
        except InputError as exc:
            raise InputError(f"points[{i}]{exc}") from None
    return PointBatch(names=names, ts=ts, values=values, protocol=PROTOCOL)


def _name(point: object) -> str:
    if not isinstance(point, dict):
        raise InputError(": must be an object")
    name = point.get("name")
    if not isinstance(name, str):
        raise InputError(".name: missing or not a string")
    labels = point.get("labels")
    if labels is not None and (
        not isinstance(labels, dict) or not all(isinstance(v, str) for v in labels.values())
    ):
        raise InputError(".labels: must be an object of strings")
    try:
        return canonical(name, labels)
    except InputError as exc:
        raise InputError(f".name: {exc}") from None


def _number(point: dict[str, object], key: str, default: float | None) -> float:
    raw = point.get(key)
    if raw is None:
        if default is None:
            raise InputError(f".{key}: missing")
        return default
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise InputError(f".{key}: not a number")
    value = float(raw)
    if not math.isfinite(value):
        raise InputError(f".{key}: not a finite number")
    if key == "ts" and not 0 < value < 1e11:
        raise InputError(f".ts: {value} is not unix seconds")
    return value
