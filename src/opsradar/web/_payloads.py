"""Request bodies and response shapes of the HTTP API."""

from __future__ import annotations

import json
import math
import time
from datetime import datetime
from typing import Any

import numpy as np

from opsradar.core import Event, FloatArray, InputError
from opsradar.rank import Trend
from opsradar.store import SeriesData

MAX_EVENT_TEXT = 4096


def parse_when(raw: Any, now: float) -> float:
    """Unix seconds, or an ISO 8601 time; ``None`` means now."""
    if raw is None:
        return now
    if isinstance(raw, bool):
        raise InputError("'when' must be unix seconds or an ISO 8601 time")
    if isinstance(raw, int | float):
        value = float(raw)
    elif isinstance(raw, str):
        try:
            value = float(raw)
        except ValueError:
            try:
                value = datetime.fromisoformat(raw.replace("Z", "+00:00")).timestamp()
            except ValueError as exc:
                raise InputError(f"'when' {raw[:40]!r} is not a time") from exc
    else:
        raise InputError("'when' must be unix seconds or an ISO 8601 time")
    if not math.isfinite(value) or value < 0 or value > 1e11:
        raise InputError("'when' is out of range")
    return value


def parse_event(body: bytes, now: float | None = None) -> Event:
    """``{"what": str, "tags": [str] | "a,b", "when": ts?, "data": str?, "expect": {...}?}``."""
    now = time.time() if now is None else now
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"body is not JSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise InputError("body must be a JSON object")
    what = doc.get("what")
    if not isinstance(what, str) or not what.strip():
        raise InputError("'what' is required and must be a non-empty string")
    tags = doc.get("tags", [])
    if isinstance(tags, str):
        tags = [t for t in tags.replace(",", " ").split() if t]
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise InputError("'tags' must be a list of strings or a space/comma separated string")
    data = doc.get("data", "")
    if not isinstance(data, str):
        data = json.dumps(data)
    expect = doc.get("expect", {})
    if isinstance(expect, dict):
        expect = [expect] if expect else []
    if not isinstance(expect, list) or not all(isinstance(e, dict) for e in expect):
        raise InputError("'expect' must be an object or a list of objects")
    pairs = tuple((str(e.get("metric", "")), str(e.get("change", ""))) for e in expect)
    if len(what) > MAX_EVENT_TEXT or len(data) > MAX_EVENT_TEXT * 4 or len(tags) > 64:
        raise InputError("event is too large")
    return Event(parse_when(doc.get("when"), now), what, tuple(tags), data, None, pairs)


def event_json(event: Event) -> dict[str, Any]:
    return {
        "id": event.id,
        "what": event.what,
        "tags": list(event.tags),
        "when": event.ts,
        "data": event.data,
        "expect": [{"metric": m, "change": c} for m, c in event.expect],
    }


def anomaly_spans(ts: FloatArray, scores: FloatArray, threshold: float) -> list[list[float]]:
    """Contiguous runs of points at or above the threshold, as ``[start, end]`` times."""
    flags = scores >= threshold
    if not flags.any():
        return []
    edges = np.diff(np.r_[0, flags.astype(np.int8), 0])
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1
    return [[float(ts[a]), float(ts[b])] for a, b in zip(starts, ends, strict=True)]


def series_json(data: SeriesData, threshold: float, events: list[Event]) -> dict[str, Any]:
    finite = np.isfinite(data.values)
    ts, values = data.ts[finite], data.values[finite]
    return {
        "name": data.name,
        "resolution": data.resolution,
        "points": [[float(t), float(v)] for t, v in zip(ts, values, strict=True)],
        "scores": [round(float(s), 4) for s in data.scores[finite]],
        "anomalies": anomaly_spans(ts, data.scores[finite], threshold),
        "events": [event_json(e) for e in events],
    }


def trend_json(t: Trend) -> dict[str, Any]:
    return {
        "id": t.id,
        "kind": t.kind,
        "family": t.family,
        "series": list(t.series),
        "series_count": len(t.series),
        "since": t.start,
        "last": t.last,
        "open": t.open,
        "expected": t.expected,
        "observed": t.observed,
        "deviation_sigma": round(t.deviation, 3),
        "severity": t.severity.total,
        "severity_parts": {
            "score": round(t.severity.score, 4),
            "size": round(t.severity.size, 4),
            "duration": round(t.severity.duration, 4),
            "breadth": round(t.severity.breadth, 4),
            "recency": round(t.severity.recency, 4),
        },
        "deploy": None
        if t.deploy is None
        else {"id": t.deploy.id, "what": t.deploy.what, "when": t.deploy.ts, "gap_s": t.deploy.gap},
        "explanation": t.sentence,
    }
