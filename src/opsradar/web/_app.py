"""The HTTP face of opsradar: JSON API, pages (each with a JSON twin) and /metrics.

Pages are server-rendered with autoescaping Jinja2; the JSON twin of a page is the same URL
with ``?format=json``. Every error, page or API, has one JSON shape:
``{"error": {"status": 404, "message": "..."}}``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.exceptions import HTTPException as StarletteHTTPException

from opsradar.core import InputError, NotFound, PointBatch, PointSink, SelfMetrics
from opsradar.rank import Trend
from opsradar.store import Store
from opsradar.web._payloads import event_json, parse_event, series_json, trend_json
from opsradar.web._sparkline import sparkline

MAX_BODY = 8 * 1024 * 1024


@dataclass
class WebContext:
    """What the web layer reads from and writes to; built by the wiring module."""

    store: Store
    metrics: SelfMetrics
    sink: PointSink
    parse_points: Callable[[bytes], PointBatch]
    trends: Callable[[], list[Trend]]
    threshold: float = 0.5
    clock: Callable[[], float] = time.time
    refresh_ms: int = 5000
    extra_status: dict[str, Any] = field(default_factory=dict)
    parse_remote_write: Callable[[bytes], PointBatch] | None = None


def _plotly_js() -> Path:
    return Path(str(resources.files("plotly") / "package_data" / "plotly.min.js"))


def _fmt_time(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _error(status: int, message: str, html: bool, env: Environment) -> Response:
    if html:
        page = env.get_template("error.html").render(status=status, message=message)
        return HTMLResponse(page, status_code=status)
    return JSONResponse({"error": {"status": status, "message": message}}, status_code=status)


def _wants_json(request: Request) -> bool:
    if request.url.path.startswith("/api/") or request.query_params.get("format") == "json":
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def _time_arg(request: Request, key: str) -> float | None:
    raw = request.query_params.get(key)
    if raw is None or raw == "":
        return None
    try:
        value = float(raw)
    except ValueError as exc:
        raise InputError(f"'{key}' must be unix seconds, got {raw[:40]!r}") from exc
    if not np.isfinite(value):
        raise InputError(f"'{key}' must be finite")
    return value


async def _body(request: Request) -> bytes:
    size = request.headers.get("content-length")
    if size is not None and size.isdigit() and int(size) > MAX_BODY:
        raise InputError(f"body larger than {MAX_BODY} bytes")
    body = await request.body()
    if len(body) > MAX_BODY:
        raise InputError(f"body larger than {MAX_BODY} bytes")
    return body


def create_app(ctx: WebContext) -> FastAPI:
    app = FastAPI(title="opsradar", version="0.1.0", description="Metrics in, what matters out.")
    env = Environment(
        loader=PackageLoader("opsradar.web", "templates"),
        autoescape=select_autoescape(["html"]),
    )
    app.state.ctx = ctx

    @app.exception_handler(InputError)
    async def _input_error(request: Request, exc: InputError) -> Response:
        status = 404 if isinstance(exc, NotFound) else 400
        return _error(status, str(exc), not _wants_json(request), env)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        return _error(exc.status_code, str(exc.detail), not _wants_json(request), env)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> Response:
        return _error(422, str(exc.errors()[:3]), not _wants_json(request), env)

    _api_routes(app, ctx)
    _page_routes(app, ctx, env)
    return app


def _api_routes(app: FastAPI, ctx: WebContext) -> None:
    @app.post("/api/v1/points", status_code=202, tags=["ingest"])
    async def post_points(request: Request) -> dict[str, int]:
        """Accept a JSON batch: ``{"points": [{"name", "value", "ts"?, "labels"?}, ...]}``."""
        batch = ctx.parse_points(await _body(request))
        ctx.sink.put(batch)
        return {"accepted": len(batch)}

    @app.post("/api/v1/write", status_code=204, tags=["ingest"])
    async def remote_write(request: Request) -> Response:
        """Prometheus remote write 1.0 (snappy protobuf); labels become ``name;k=v``."""
        if ctx.parse_remote_write is None:
            raise NotFound("remote write is not enabled")
        batch = ctx.parse_remote_write(await _body(request))
        ctx.sink.put(batch)
        ctx.metrics.received(batch.protocol, len(batch))
        return Response(status_code=204)

    @app.post("/api/v1/events", status_code=201, tags=["events"])
    async def post_event(request: Request) -> dict[str, Any]:
        """Record a deploy or other event: ``{"what", "tags", "when"?, "data"?, "expect"?}``."""
        event = ctx.store.add_event(parse_event(await _body(request), ctx.clock()))
        return event_json(event)

    @app.get("/api/v1/events", tags=["events"])
    def get_events(request: Request) -> dict[str, Any]:
        """Events between ``from`` and ``until`` (unix seconds; default the last 7 days)."""
        until = _time_arg(request, "until")
        until = ctx.clock() if until is None else until
        start = _time_arg(request, "from")
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

    @app.get("/api/v1/trends", tags=["trends"])
    def get_trends() -> dict[str, Any]:
        """What matters now, most severe first, each with the parts of its severity."""
        return _board_payload(ctx)

    @app.get("/api/v1/status", tags=["status"])
    def get_status() -> dict[str, Any]:
        """The tool's own health: series, rejected input by reason, store errors."""
        return {
            "series": len(ctx.store.names),
            "rejected": ctx.metrics.rejected_by_reason(),
            "store_error": ctx.store.last_error,
            **ctx.extra_status,
        }

    @app.get("/metrics", tags=["status"])
    def metrics() -> Response:
        """Self-metrics in the Prometheus text format."""
        return Response(ctx.metrics.exposition(), media_type="text/plain; version=0.0.4")


def _series_payload(ctx: WebContext, name: str, request: Request) -> dict[str, Any]:
    data = ctx.store.read(name, _time_arg(request, "from"), _time_arg(request, "until"))
    start = float(data.ts[0]) if len(data.ts) else ctx.clock() - 86400
    end = float(data.ts[-1]) if len(data.ts) else ctx.clock()
    events = ctx.store.events(start, end)
    return series_json(data, ctx.threshold, events)


def _board_payload(ctx: WebContext) -> dict[str, Any]:
    now = ctx.clock()
    return {
        "generated": now,
        "series": len(ctx.store.names),
        "trends": [trend_json(t) for t in ctx.trends()],
    }


def _page_routes(app: FastAPI, ctx: WebContext, env: Environment) -> None:
    plotly_js = _plotly_js()

    @app.get("/static/plotly.min.js", include_in_schema=False)
    def plotly() -> FileResponse:
        return FileResponse(plotly_js, media_type="application/javascript")

    @app.get("/", response_model=None, tags=["pages"])
    def board(request: Request) -> Response:
        """The board: ranked trends with sparklines. JSON twin: ``/?format=json``."""
        if _wants_json(request):
            return JSONResponse(_board_payload(ctx))
        trends = ctx.trends()
        sparks = {}
        for t in trends:
            if not t.slots:
                continue
            _, values, scores = ctx.store.hot.series(t.slots[0])
            sparks[t.id] = sparkline(values[-120:], scores[-120:], ctx.threshold)
        page = env.get_template("board.html").render(
            trends=trends,
            sparks=sparks,
            series_count=len(ctx.store.names),
            generated_text=_fmt_time(ctx.clock()),
            refresh_ms=ctx.refresh_ms,
        )
        return HTMLResponse(page)

    @app.get("/series/{name:path}", response_model=None, tags=["pages"])
    def series_page(name: str, request: Request) -> Response:
        """One series, interactive: anomalies shaded, deploys as markers. Twin: ``?format=json``."""
        if _wants_json(request):
            return JSONResponse(_series_payload(ctx, name, request))
        data = ctx.store.read(name, _time_arg(request, "from"), _time_arg(request, "until"))
        query = dict(request.query_params) | {"format": "json"}
        start = float(data.ts[0]) if len(data.ts) else 0.0
        page = env.get_template("series.html").render(
            name=name,
            twin_url=str(request.url.replace(query=None).include_query_params(**query)),
            points=len(data.ts),
            resolution=data.resolution,
            events=len(ctx.store.events(start, ctx.clock())),
        )
        return HTMLResponse(page)

    @app.get("/search", response_model=None, tags=["pages"])
    def search(request: Request, match: str = "*") -> Response:
        """Find series by glob. Twin: ``/api/v1/series?match=...``."""
        names = ctx.store.match(match, limit=500)
        if _wants_json(request):
            return JSONResponse({"series": names})
        return HTMLResponse(env.get_template("search.html").render(match=match, names=names))

    @app.get("/events", response_model=None, tags=["pages"])
    def events_page(request: Request) -> Response:
        """Deploys and other events, newest first. Twin: ``?format=json``."""
        now = ctx.clock()
        events = ctx.store.events(now - 7 * 86400, now)
        if _wants_json(request):
            return JSONResponse({"events": [event_json(e) for e in events]})
        rows = [{**event_json(e), "when_text": _fmt_time(e.ts)} for e in events]
        return HTMLResponse(env.get_template("events.html").render(events=rows))
