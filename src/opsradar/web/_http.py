"""What every route shares: the context the wiring gives the web layer, and request helpers."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
from fastapi import Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from jinja2 import Environment

from opsradar.core import InputError, PointBatch, PointSink, SelfMetrics
from opsradar.rank import Ranker, Trend
from opsradar.store import Store

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
    ranker: Ranker | None = None  # trend pages, feedback, deploy impact, explore
    parse_remote_write: Callable[[bytes], PointBatch] | None = None


def fmt_time(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def error_response(status: int, message: str, html: bool, env: Environment) -> Response:
    if html:
        page = env.get_template("error.html").render(status=status, message=message)
        return HTMLResponse(page, status_code=status)
    return JSONResponse({"error": {"status": status, "message": message}}, status_code=status)


def wants_json(request: Request) -> bool:
    if request.url.path.startswith("/api/") or request.query_params.get("format") == "json":
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


MAX_TIME = 1e11  # year 5138: beyond it, times are not times


def time_arg(request: Request, key: str) -> float | None:
    raw = request.query_params.get(key)
    if raw is None or raw == "":
        return None
    try:
        value = float(raw)
    except ValueError as exc:
        raise InputError(f"'{key}' must be unix seconds, got {raw[:40]!r}") from exc
    if not np.isfinite(value) or not 0 <= value <= MAX_TIME:
        raise InputError(f"'{key}' must be unix seconds between 0 and {MAX_TIME:.0f}")
    return value


async def read_body(request: Request) -> bytes:
    size = request.headers.get("content-length")
    if size is not None and size.isdigit() and int(size) > MAX_BODY:
        raise InputError(f"body larger than {MAX_BODY} bytes")
    body = await request.body()
    if len(body) > MAX_BODY:
        raise InputError(f"body larger than {MAX_BODY} bytes")
    return body


VIEWER_COOKIE = "opsradar_viewer"


def viewer(request: Request) -> tuple[str, bool]:
    """Who is looking (for "since you last looked"): the ``X-Opsradar-User`` header, the
    ``viewer`` query parameter or a cookie; ``(id, True)`` when a cookie should be set."""
    named = request.headers.get("x-opsradar-user") or request.query_params.get("viewer")
    if named:
        return named[:100], False
    cookie = request.cookies.get(VIEWER_COOKIE)
    if cookie and len(cookie) <= 64:
        return cookie, False
    return secrets.token_urlsafe(12), True


def page(env: Environment, template: str, **values: Any) -> HTMLResponse:
    return HTMLResponse(env.get_template(template).render(fmt_time=fmt_time, **values))
