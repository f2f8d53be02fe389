"""The HTTP face of opsradar: JSON API, pages (each with a JSON twin) and /metrics.

Pages are server-rendered with autoescaping Jinja2; the JSON twin of a page is the same URL
with ``?format=json``. Every error, page or API, has one JSON shape:
``{"error": {"status": 404, "message": "..."}}``.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.exceptions import HTTPException as StarletteHTTPException

from opsradar.core import InputError, NotFound
from opsradar.rank import Trend, fmt_duration
from opsradar.web._explore import register as register_explore
from opsradar.web._explore import status_payload
from opsradar.web._http import (
    VIEWER_COOKIE,
    WebContext,
    error_response,
    fmt_time,
    page,
    read_body,
    time_arg,
    viewer,
    wants_json,
)
from opsradar.web._payloads import event_json, parse_event, series_json, trend_json
from opsradar.web._sparkline import sparkline

BOARD_ROWS = 200  # trends shown on the page (the JSON twin has all of them)
SEARCH_ROWS = 500


def _plotly_js() -> Path:
    return Path(str(resources.files("plotly") / "package_data" / "plotly.min.js"))


def create_app(ctx: WebContext) -> FastAPI:
    app = FastAPI(title="opsradar", version="0.1.0", description="Metrics in, what matters out.")
    env = Environment(
        loader=PackageLoader("opsradar.web", "templates"),
        autoescape=select_autoescape(["html"]),
    )
    app.state.ctx = ctx

    @app.exception_handler(InputError)
    async def _on_input_error(request: Request, exc: InputError) -> Response:
        status = 404 if isinstance(exc, NotFound) else 400
        return error_response(status, str(exc), not wants_json(request), env)

    @app.exception_handler(StarletteHTTPException)
    async def _on_http_error(request: Request, exc: StarletteHTTPException) -> Response:
        return error_response(exc.status_code, str(exc.detail), not wants_json(request), env)

    @app.exception_handler(RequestValidationError)
    async def _on_validation_error(request: Request, exc: RequestValidationError) -> Response:
        return error_response(422, str(exc.errors()[:3]), not wants_json(request), env)

    _api_routes(app, ctx)
    _page_routes(app, ctx, env)
    register_explore(app, ctx, env)
    return app


def _api_routes(app: FastAPI, ctx: WebContext) -> None:
    @app.post("/api/v1/points", status_code=202, tags=["ingest"])
    async def post_points(request: Request) -> dict[str, int]:
        """Accept a JSON batch: ``{"points": [{"name", "value", "ts"?, "labels"?}, ...]}``."""
        batch = ctx.parse_points(await read_body(request))
        ctx.sink.put(batch)
        return {"accepted": len(batch)}

    @app.post("/api/v1/write", status_code=204, tags=["ingest"])
    async def remote_write(request: Request) -> Response:
        """Prometheus remote write 1.0 (snappy protobuf); labels become ``name;k=v``."""
        if ctx.parse_remote_write is None:
            raise NotFound("remote write is not enabled")
        batch = ctx.parse_remote_write(await read_body(request))
        ctx.sink.put(batch)
        ctx.metrics.received(batch.protocol, len(batch))
        return Response(status_code=204)

    @app.get("/api/v1/events", tags=["events"])
    def get_events(request: Request) -> dict[str, Any]:
        """Events between ``from`` and ``until`` (unix seconds; default the last 7 days)."""
        until = time_arg(request, "until")
        until = ctx.clock() if until is None else until
        start = time_arg(request, "from")
        start = until - 7 * 86400 if start is None else start
        return {"events": [event_json(e) for e in ctx.store.events(start, until)]}

    @app.get("/api/v1/series", tags=["series"])
    def list_series(match: str = "*", regex: bool = False, limit: int = 1000) -> dict[str, Any]:
        """Series names matching a glob (``match``), or a regular expression with ``regex=true``."""
        names = ctx.store.match(match, regex=regex, limit=max(1, min(limit, 100000)))
        return {"series": names}

    @app.get("/api/v1/series/{name:path}", tags=["series"])
    def get_series(name: str, request: Request) -> dict[str, Any]:
        """Points of one series: ``{"name", "resolution", "points": [[ts, value], ...]}``."""
        return _series_payload(ctx, name, request)

    @app.delete("/api/v1/series/{name:path}", tags=["series"])
    def delete_series(name: str) -> dict[str, Any]:
        """Delete a series' history, on disk and in memory (admin token when tokens are set).
        The name comes back if the series sends points again."""
        ctx.store.delete(name)
        return {"deleted": name}

    @app.post("/api/v1/events", status_code=201, tags=["events"])
    async def post_event(request: Request) -> dict[str, Any]:
        """Record a deploy or other event: ``{"what", "tags", "when"?, "data"?, "expect"?}``.

        ``expect`` declares the change a deploy intends (``{"metric": "cache.hits", "change":
        "up"}``, or a list of them) so that it neither ranks high nor lingers."""
        event = ctx.store.add_event(parse_event(await read_body(request), ctx.clock()))
        if ctx.ranker is not None:
            ctx.ranker.invalidate()
        return event_json(event)

    @app.get("/api/v1/trends", tags=["trends"])
    def get_trends(request: Request) -> dict[str, Any]:
        """What matters now, most severe first, each with the parts of its severity."""
        return _board_payload(ctx, request)

    @app.get("/api/v1/status", tags=["status"])
    def get_status() -> dict[str, Any]:
        """The tool's own health: series, input by protocol, rejected input by reason,
        store errors, queue depth, detector and board latency."""
        return status_payload(ctx)

    @app.get("/metrics", tags=["status"])
    def metrics() -> Response:
        """Self-metrics in the Prometheus text format."""
        return Response(ctx.metrics.exposition(), media_type="text/plain; version=0.0.4")


def _series_payload(ctx: WebContext, name: str, request: Request) -> dict[str, Any]:
    start, until = time_arg(request, "from"), time_arg(request, "until")
    data = ctx.store.read(name, start, until)
    if start is None:
        start = float(data.ts[0]) if len(data.ts) else ctx.clock() - 86400
    end = ctx.clock() if until is None else until  # deploys after a series stopped show too
    events = ctx.store.events(start, end)
    return series_json(data, ctx.threshold, events)


def _marks(ctx: WebContext, request: Request, trends: list[Trend]) -> tuple[dict[str, str], str]:
    """New / worse since this viewer last looked; a page view (not a JSON read) is a visit."""
    who, fresh = viewer(request)
    if ctx.ranker is None:
        return {}, who
    record = not wants_json(request) or request.query_params.get("visit") == "1"
    return ctx.ranker.marks(trends, who, record=record), (who if fresh else "")


def _board_payload(ctx: WebContext, request: Request) -> dict[str, Any]:
    now = ctx.clock()
    trends = ctx.trends()
    marks, _ = _marks(ctx, request, trends)
    return {
        "generated": now,
        "series": len(ctx.store.names),
        "trends": [trend_json(t, marks.get(t.id)) for t in trends],
    }


def _page_routes(app: FastAPI, ctx: WebContext, env: Environment) -> None:
    plotly_js = _plotly_js()

    @app.get("/static/plotly.min.js", include_in_schema=False)
    def plotly() -> FileResponse:
        return FileResponse(plotly_js, media_type="application/javascript")

    @app.get("/", response_model=None, tags=["pages"])
    def board(request: Request) -> Response:
        """The board: ranked trends with sparklines, marked new or worse since your last
        visit; trends set aside by feedback below. JSON twin: ``/?format=json``."""
        if wants_json(request):
            return JSONResponse(_board_payload(ctx, request))
        trends = ctx.trends()
        marks, new_viewer = _marks(ctx, request, trends)
        sparks = {}
        for t in trends[:BOARD_ROWS]:
            if t.slots:
                _, values, scores = ctx.store.hot.series(t.slots[0])
                sparks[t.id] = sparkline(values[-120:], scores[-120:], ctx.threshold)
        response = page(
            env,
            "board.html",
            trends=[t for t in trends if t.mute is None][:BOARD_ROWS],
            muted=[t for t in trends if t.mute is not None][:BOARD_ROWS],
            total=len(trends),
            marks=marks,
            sparks=sparks,
            series_count=len(ctx.store.names),
            generated_text=fmt_time(ctx.clock()),
            refresh_ms=ctx.refresh_ms,
            now=ctx.clock(),
            fmt_duration=fmt_duration,
        )
        if new_viewer:
            response.set_cookie(VIEWER_COOKIE, new_viewer, max_age=400 * 86400, samesite="lax")
        return response

    @app.get("/series/{name:path}", response_model=None, tags=["pages"])
    def series_page(name: str, request: Request) -> Response:
        """One series, interactive: anomalies shaded, deploys as markers. Twin: ``?format=json``."""
        if wants_json(request):
            return JSONResponse(_series_payload(ctx, name, request))
        data = ctx.store.read(name, time_arg(request, "from"), time_arg(request, "until"))
        query = dict(request.query_params) | {"format": "json"}
        start = float(data.ts[0]) if len(data.ts) else 0.0
        end = float(data.ts[-1]) if len(data.ts) else ctx.clock()
        return page(
            env,
            "series.html",
            name=name,
            twin_url=str(request.url.replace(query=None).include_query_params(**query)),
            points=len(data.ts),
            resolution=data.resolution,
            events=len(ctx.store.events(start, ctx.clock())),
            moved_from=max(start, end - 900.0),
            moved_until=end,
        )

    @app.get("/search", response_model=None, tags=["pages"])
    def search(request: Request, match: str = "*", regex: bool = False) -> Response:
        """Find series by glob, or by regular expression with ``regex=true``.
        Twin: ``?format=json``."""
        names = ctx.store.match(match, regex=regex, limit=SEARCH_ROWS)
        if wants_json(request):
            return JSONResponse({"match": match, "regex": regex, "series": names})
        return page(env, "search.html", match=match, regex=regex, names=names)

    @app.get("/events", response_model=None, tags=["pages"])
    def events_page(request: Request) -> Response:
        """Deploys and other events of the last week, newest first, each linking to its
        impact page. Twin: ``?format=json``."""
        now = ctx.clock()
        events = ctx.store.events(now - 7 * 86400, now + 60)
        if wants_json(request):
            return JSONResponse({"events": [event_json(e) for e in events]})
        rows = [{**event_json(e), "when_text": fmt_time(e.ts)} for e in events]
        return page(env, "events.html", events=rows)
