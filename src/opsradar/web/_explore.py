"""Pages beyond the board: a trend, feedback and its log, deploy impact, what moved, status.

Every page has a JSON twin (``?format=json``) and a stable URL to paste into a chat.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from jinja2 import Environment

from opsradar.core import Event, InputError, NotFound
from opsradar.rank import Ranker, Trend, Window, family, fmt_duration, size_help
from opsradar.store import FeedbackRule
from opsradar.web._http import WebContext, page, read_body, time_arg, wants_json
from opsradar.web._payloads import (
    change_json,
    event_json,
    impact_json,
    json_object,
    parse_event,
    parse_feedback,
    parse_user,
    rule_json,
    trend_json,
)
from opsradar.web._sparkline import sparkline

MOVED_DEFAULT = 900.0  # "what moved" looks at the last 15 minutes unless told otherwise


def _ranker(ctx: WebContext) -> Ranker:
    if ctx.ranker is None:
        raise NotFound("this server has no ranker")
    return ctx.ranker


def register(app: FastAPI, ctx: WebContext, env: Environment) -> None:
    _trend_routes(app, ctx, env)
    _feedback_routes(app, ctx, env)
    _event_routes(app, ctx, env)
    _explore_routes(app, ctx, env)


def _spark(ctx: WebContext, name: str, points: int = 120) -> str:
    try:
        slot = ctx.store.slot(name)
    except NotFound:
        return ""
    _, values, scores = ctx.store.hot.series(slot)
    return sparkline(values[-points:], scores[-points:], ctx.threshold)


# -- trends ---------------------------------------------------------------------------------
def _trend_routes(app: FastAPI, ctx: WebContext, env: Environment) -> None:
    @app.get("/api/v1/trends/{trend_id}", tags=["trends"])
    def get_trend(trend_id: str) -> dict[str, Any]:
        """One trend: its sentence, severity parts, series and deploy."""
        return trend_json(_ranker(ctx).trend(trend_id))

    @app.get("/trends/{trend_id}", response_model=None, tags=["pages"])
    def trend_page(trend_id: str, request: Request) -> Response:
        """A trend: why it ranks where it does, its chart with deploys, feedback buttons."""
        t = _ranker(ctx).trend(trend_id)
        if wants_json(request):
            return JSONResponse(trend_json(t))
        lead = t.series[0]
        start = t.start - max(3600.0, 2 * (t.last - t.start))
        if t.deploy is not None:
            start = min(start, t.deploy.ts - 600.0)  # the deploy is always on the chart
        return page(
            env,
            "trend.html",
            t=t,
            lead=lead,
            chart_from=start,
            families=sorted({family(n) for n in t.series}),
            sparks={n: _spark(ctx, n) for n in t.series[:20]},
            ago=fmt_duration(ctx.clock() - t.start),
            size_help=size_help(t),
        )


# -- feedback -------------------------------------------------------------------------------
def _targets(ranker: Ranker, doc: dict[str, Any], scope: str) -> tuple[tuple[str, ...], str]:
    """What a feedback request covers: a trend's series (or their families), or one series."""
    trend_id, series = doc.get("trend"), doc.get("series")
    if trend_id is not None:
        if not isinstance(trend_id, str):
            raise InputError("'trend' must be a trend id")
        t: Trend = ranker.trend(trend_id)
        names = t.series
    elif isinstance(series, str) and series:
        ranker.store.slot(series)  # NotFound for an unknown series
        names, trend_id = (series,), ""
    else:
        raise InputError("feedback needs 'trend' (a trend id) or 'series' (a series name)")
    if scope == "family":
        return tuple(sorted({family(n) for n in names})), trend_id
    return tuple(names), trend_id


def _feedback_routes(app: FastAPI, ctx: WebContext, env: Environment) -> None:
    @app.post("/api/v1/feedback", status_code=201, tags=["feedback"])
    async def post_feedback(request: Request) -> dict[str, Any]:
        """``{"trend" | "series", "verdict": "expected" | "not_interesting", "scope": "series" |
        "family", "for": "1h" | "1d" | "1w" | "forever", "user"?, "note"?}``; the ranking
        changes at once."""
        ranker = _ranker(ctx)
        doc = json_object(await read_body(request))
        verdict, scope, seconds, note = parse_feedback(doc)
        user = parse_user(doc.get("user"), request.headers.get("x-opsradar-user"))
        targets, trend_id = _targets(ranker, doc, scope)
        now = ctx.clock()
        until = None if seconds is None else now + seconds
        rule = FeedbackRule(0, now, user, verdict, scope, targets, until, trend_id, note)
        rule = ranker.feedback.add(rule)
        ranker.invalidate()
        return rule_json(rule, now)

    @app.post("/api/v1/feedback/{rule_id}/undo", tags=["feedback"])
    async def undo_feedback(rule_id: int, request: Request) -> dict[str, Any]:
        """Withdraw a verdict (it stays in the log, marked undone by whom and when)."""
        ranker = _ranker(ctx)
        body = await read_body(request)
        doc = json_object(body) if body.strip() else {}
        user = parse_user(doc.get("user"), request.headers.get("x-opsradar-user"))
        rule = ranker.feedback.undo(rule_id, user, ctx.clock())
        ranker.invalidate()
        return rule_json(rule, ctx.clock())

    @app.get("/api/v1/feedback", tags=["feedback"])
    def list_feedback() -> dict[str, Any]:
        """Every verdict ever given, newest first: who said what, when, and undos."""
        now = ctx.clock()
        return {"feedback": [rule_json(r, now) for r in _ranker(ctx).feedback.rules()]}

    @app.get("/feedback", response_model=None, tags=["pages"])
    def feedback_page(request: Request) -> Response:
        """The feedback log with undo buttons. Twin: ``?format=json``."""
        now = ctx.clock()
        rows = [rule_json(r, now) for r in _ranker(ctx).feedback.rules()]
        if wants_json(request):
            return JSONResponse({"feedback": rows})
        return page(env, "feedback.html", rules=rows)


# -- events and deploys ---------------------------------------------------------------------
def _graphite_events(events: list[Event], tags: list[str], union: bool) -> list[dict[str, Any]]:
    out = []
    for e in events:
        have = set(e.tags)
        if tags and not (have & set(tags) if union else set(tags) <= have):
            continue
        out.append({"id": e.id, "when": e.ts, "what": e.what, "data": e.data, "tags": e.tags})
    return out


def _event_routes(app: FastAPI, ctx: WebContext, env: Environment) -> None:
    @app.post("/events/", tags=["events"])
    @app.post("/events", tags=["events"], include_in_schema=False)
    async def graphite_post_event(request: Request) -> Response:
        """Graphite's events API, as graphite-web accepts it: ``{"what", "tags": [..] or "a b",
        "when"?, "data"?}``; answers 200 with an empty body."""
        ctx.store.add_event(parse_event(await read_body(request), ctx.clock()))
        if ctx.ranker is not None:
            ctx.ranker.invalidate()
        return Response(status_code=200)

    @app.get("/events/get_data", tags=["events"])
    def graphite_get_events(request: Request) -> list[dict[str, Any]]:
        """Graphite's event listing: ``from``/``until`` (unix seconds), ``tags`` (space
        separated; all must match, or any with ``set=union``)."""
        until = time_arg(request, "until")
        until = ctx.clock() if until is None else until
        start = time_arg(request, "from")
        start = until - 86400.0 if start is None else start
        tags = request.query_params.get("tags", "").split()
        union = request.query_params.get("set") == "union"
        events = sorted(ctx.store.events(start, until, limit=10_000), key=lambda e: e.ts)
        return _graphite_events(events, tags, union)

    @app.get("/api/v1/events/{event_id}/impact", tags=["events"])
    def get_impact(event_id: int) -> dict[str, Any]:
        """What changed after a deploy, in its scope (see the ``/events/{id}`` page)."""
        return impact_json(_ranker(ctx).impact(event_id))

    @app.get("/events/{event_id}", response_model=None, tags=["pages"])
    def impact_page(event_id: int, request: Request) -> Response:
        """A deploy's impact: series in its scope ranked by how much they changed after it
        against before it and against a week earlier. Twin: ``?format=json``."""
        impact = _ranker(ctx).impact(event_id)
        if wants_json(request):
            return JSONResponse(impact_json(impact))
        changes = [change_json(c) for c in impact.changes]
        sparks = {c.name: _spark(ctx, c.name) for c in impact.changes[:25]}
        return page(
            env,
            "deploy.html",
            i=impact,
            event=event_json(impact.event),
            changes=changes,
            sparks=sparks,
            window=fmt_duration(impact.after.until - impact.after.start),
        )


# -- explore and status -------------------------------------------------------------------------
def _moved_window(ctx: WebContext, request: Request) -> tuple[Window, str | None]:
    name = request.query_params.get("series") or None
    until = time_arg(request, "until")
    start = time_arg(request, "from")
    if name is not None:
        ctx.store.slot(name)  # NotFound for an unknown series
    until = ctx.clock() if until is None else until
    start = until - MOVED_DEFAULT if start is None else start
    if not start < until:
        raise InputError("'from' must be before 'until'")
    if until - start > 7 * 86400:
        raise InputError("the window is longer than a week")
    return Window(start, until), name


def _explore_routes(app: FastAPI, ctx: WebContext, env: Environment) -> None:
    @app.get("/api/v1/moved", tags=["series"])
    def get_moved(request: Request, limit: int = 100) -> dict[str, Any]:
        """Every series ranked by how much it changed in [``from``, ``until``] (default: the
        last 15 min) against the window of the same length before it."""
        return _moved_payload(ctx, request, limit)

    @app.get("/moved", response_model=None, tags=["pages"])
    def moved_page(request: Request, limit: int = 100) -> Response:
        """What moved with this series (or in this window). Twin: ``?format=json``."""
        payload = _moved_payload(ctx, request, limit)
        if wants_json(request):
            return JSONResponse(payload)
        sparks = {c["name"]: _spark(ctx, c["name"]) for c in payload["changes"][:30]}
        return page(env, "moved.html", m=payload, sparks=sparks)

    @app.get("/status", response_model=None, tags=["pages"])
    def status_page(request: Request) -> Response:
        """The tool's own health. Twin: ``?format=json`` (and ``/api/v1/status``)."""
        payload = status_payload(ctx)
        if wants_json(request):
            return JSONResponse(payload)
        return page(env, "status.html", s=payload)


def _moved_payload(ctx: WebContext, request: Request, limit: int) -> dict[str, Any]:
    window, name = _moved_window(ctx, request)
    started = time.perf_counter()
    changes = _ranker(ctx).moved(window, max(1, min(limit, 1000)))
    return {
        "series": name,
        "from": window.start,
        "until": window.until,
        "compared_with": [2 * window.start - window.until, window.start],
        "changes": [change_json(c) for c in changes],
        "seconds": round(time.perf_counter() - started, 4),
    }


def status_payload(ctx: WebContext) -> dict[str, Any]:
    m = ctx.metrics
    received = {
        s.labels["protocol"]: s.value
        for metric in m.points_received.collect()
        for s in metric.samples
        if s.name.endswith("_total")
    }
    latency = [s for metric in m.detector_latency.collect() for s in metric.samples]
    total = next((s.value for s in latency if s.name.endswith("_sum")), 0.0)
    count = next((s.value for s in latency if s.name.endswith("_count")), 0.0)
    out: dict[str, Any] = {
        "series": len(ctx.store.names),
        "points_received": received,
        "rejected": m.rejected_by_reason(),
        **ctx.store.status(),
        "queue_depth": next(s.value for metric in m.queue_depth.collect() for s in metric.samples),
        "detector_mean_latency_s": None if not count else total / count,
        "uptime_s": round(time.monotonic() - _STARTED, 1),
    }
    if ctx.ranker is not None:
        out["board_compute_s"] = round(ctx.ranker.last_compute_s, 4)
        out["feedback_active"] = len(ctx.ranker.feedback.active(ctx.clock()))
    out.update(ctx.extra_status)
    return {k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in out.items()}


_STARTED = time.monotonic()
