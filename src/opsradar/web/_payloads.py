"""Request bodies and response shapes of the HTTP API."""

from __future__ import annotations

import json
import math
import time
from typing import Any
from urllib.parse import quote

import numpy as np

from opsradar.core import Event, FloatArray, InputError, parse_timestamp
from opsradar.rank import Change, DeployRef, Impact, Trend
from opsradar.store import SCOPES, VERDICTS, FeedbackRule, SeriesData

MAX_EVENT_TEXT = 4096
MAX_TREND_SERIES = 200  # series listed per trend in JSON (series_count has them all)


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
            value = parse_timestamp(raw)
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
        "url": None if event.id is None else f"/events/{event.id}",
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


def deploy_ref_json(d: DeployRef | None) -> dict[str, Any] | None:
    if d is None:
        return None
    return {
        "id": d.id,
        "what": d.what,
        "when": d.ts,
        "gap_s": d.gap,
        "in_scope": d.in_scope,
        "url": None if d.id is None else f"/events/{d.id}",
    }


def trend_json(t: Trend, mark: str | None = None) -> dict[str, Any]:
    return {
        "id": t.id,
        "url": f"/trends/{t.id}",
        "kind": t.kind,
        "family": t.family,
        "series": list(t.series[:MAX_TREND_SERIES]),
        "series_count": len(t.series),
        "hosts": t.hosts,
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
            "rarity": round(t.severity.rarity, 4),
            "recency": round(t.severity.recency, 4),
            "feedback": round(t.severity.feedback, 4),
        },
        "earlier_this_week": t.prior,
        "deploy": deploy_ref_json(t.deploy),
        "explanation": t.sentence,
        "muted": None
        if t.mute is None
        else {"reason": t.mute.reason, "by": t.mute.by, "text": t.mute.text,
              "feedback_id": t.mute.rule_id, "until": t.mute.until},
        "since_last_visit": mark,
    }  # fmt: skip


DURATIONS = {"1h": 3600.0, "1d": 86400.0, "1w": 7 * 86400.0, "forever": None}
MAX_USER = 100


def parse_user(raw: Any, header: str | None) -> str:
    """Who gives feedback: the body's ``user``, else the ``X-Opsradar-User`` header."""
    user = raw if raw is not None else (header or "anonymous")
    if not isinstance(user, str) or not user.strip() or len(user) > MAX_USER:
        raise InputError(f"'user' must be a non-empty string of at most {MAX_USER} characters")
    return user.strip()


def json_object(body: bytes) -> dict[str, Any]:
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"body is not JSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise InputError("body must be a JSON object")
    return doc


def parse_feedback(doc: dict[str, Any]) -> tuple[str, str, float | None, str]:
    """``(verdict, scope, seconds or None for forever, note)`` of a feedback request."""
    verdict = doc.get("verdict")
    if verdict not in VERDICTS:
        raise InputError(f"'verdict' must be one of {', '.join(VERDICTS)}, got {verdict!r:.60}")
    scope = doc.get("scope", "series")
    if scope not in SCOPES:
        raise InputError(f"'scope' must be one of {', '.join(SCOPES)}, got {scope!r:.60}")
    for_ = doc.get("for", "1d")
    if for_ not in DURATIONS:
        raise InputError(f"'for' must be one of {', '.join(DURATIONS)}, got {for_!r:.60}")
    note = doc.get("note", "")
    if not isinstance(note, str) or len(note) > MAX_EVENT_TEXT:
        raise InputError("'note' must be a string of at most 4096 characters")
    return verdict, scope, DURATIONS[for_], note


def rule_json(r: FeedbackRule, now: float) -> dict[str, Any]:
    return {
        "id": r.id,
        "when": r.ts,
        "user": r.who,
        "verdict": r.verdict,
        "scope": r.scope,
        "targets": list(r.targets),
        "until": r.until,
        "trend": r.trend,
        "note": r.note,
        "active": r.active(now),
        "undone": None if r.undone_ts is None else {"when": r.undone_ts, "user": r.undone_by},
    }


def change_json(c: Change) -> dict[str, Any]:
    def num(x: float | None) -> float | None:
        return None if x is None or not math.isfinite(x) else round(x, 6)

    return {
        "name": c.name,
        "url": f"/series/{quote(c.name, safe='')}",
        "before": num(c.before),
        "after": num(c.after),
        "z": num(c.z),
        "week_earlier": num(c.week),
        "z_week": num(c.z_week),
        "score": num(c.score),
        "note": c.note,
    }


def impact_json(i: Impact) -> dict[str, Any]:
    return {
        "event": event_json(i.event),
        "scope": list(i.scope),
        "after": list(i.after),
        "before": list(i.before),
        "series_in_scope": i.in_scope,
        "ready": i.ready,
        "changes": [change_json(c) for c in i.changes],
        "trends": [trend_json(t) for t in i.trends],
    }
