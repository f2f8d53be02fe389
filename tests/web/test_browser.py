"""Pages in a real Chromium (Debian's, driven by Playwright), served by the real server process,
with every request outside 127.0.0.1 refused: charts must work air-gapped."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
from playwright.sync_api import Browser, Route
from tests.e2e.conftest import Running, start_server


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Running]:
    running = start_server(tmp_path / "data")
    yield running
    running.stop()


def _offline(route: Route) -> None:
    if route.request.url.startswith("http://127.0.0.1"):
        route.continue_()
    else:
        route.abort()


def test_series_chart_renders_offline_with_deploy_marker_and_escaped_text(
    browser: Browser, server: Running
) -> None:
    now = time.time()
    rng = np.random.default_rng(1)
    values = 10 + rng.normal(0, 1, 300)
    values[-2:] += 30
    name = "app.req.latency"
    server.graphite([f"{name} {v:.3f} {now - (300 - i) * 10:.0f}" for i, v in enumerate(values)])
    evil = '<img src=x onerror="window.pwned=1">deploy'
    httpx.post(
        f"{server.base}/api/v1/events", json={"what": evil, "tags": ["deploy"], "when": now - 500}
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if len(httpx.get(f"{server.base}/api/v1/series/{name}").json().get("points", [])) == 300:
            break
        time.sleep(0.2)
    page = browser.new_page()
    page.route("**/*", _offline)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{server.base}/series/{name}")
    page.wait_for_selector("#chart[data-ready='1']", timeout=15000)
    assert page.locator("#chart .main-svg").count() > 0
    layout_shapes = page.evaluate("document.getElementById('chart').layout.shapes")
    lines = [s for s in layout_shapes if s["type"] == "line"]
    rects = [s for s in layout_shapes if s["type"] == "rect"]
    assert len(lines) == 1, "the deploy marker is drawn"
    assert rects, "the spike is shaded as an anomaly"
    assert page.evaluate("window.pwned") is None
    assert not errors
    board = browser.new_page()
    board.route("**/*", _offline)
    board.goto(f"{server.base}/events")
    assert board.evaluate("window.pwned") is None
    assert "onerror" in board.inner_text("main")
