"""The board in a real Chromium (Debian's, driven by Playwright) against `opsradar demo`:
open the board, click the top trend, see its chart with the deploy marker, mark it expected,
see it leave the top. Untrusted names and event text never run as script.

``OPSRADAR_SCREENSHOTS=docs/screenshots`` also saves the board, a trend and a deploy impact page.
"""

from __future__ import annotations

import fnmatch
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
from playwright.sync_api import Browser, Page
from tests.e2e.conftest import READY, Running, start_server
from tests.web.test_browser import _offline

from opsradar.simulate import Fleet

SHOTS = os.environ.get("OPSRADAR_SCREENSHOTS")
PORT_FLAGS = ["--http-port", "0", "--statsd-port", "0", "--graphite-port", "0"]
PORT_FLAGS += ["--statsd-tcp-port", "-1", "--graphite-udp-port", "-1", "--pickle-port", "-1"]


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[str]:
    cmd = [sys.executable, "-m", "opsradar.cli", "demo", "--data-dir", str(tmp_path), *PORT_FLAGS]
    cmd += ["--hosts", "40", "--backfill-hours", "2"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
    )
    assert proc.stdout is not None
    base, seen = None, []
    deadline = time.monotonic() + 60
    while base is None and time.monotonic() < deadline:
        line = proc.stdout.readline()
        seen.append(line)
        match = READY.search(line)
        if match:
            base = "http://127.0.0.1:" + dict(p.split("=") for p in match.group(2).split())["http"]
    try:
        assert base is not None, "demo did not start:\n" + "".join(seen)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _incident_on_top(base: str) -> None:
    """Wait until the board's top trend is one of the demo's injected incidents (the first
    seconds after the backfill show transient silences that clear by themselves)."""
    fleet = Fleet(seed=1, hosts=40)
    fleet.plan_incidents(time.time())
    globs = [i.series_glob for i in fleet.incidents]
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        trends = httpx.get(f"{base}/api/v1/trends", timeout=60).json()["trends"]
        if (
            trends
            and trends[0]["deploy"]
            and any(fnmatch.fnmatch(s, g) for s in trends[0]["series"] for g in globs)
        ):
            return
        time.sleep(1)
    raise AssertionError("no injected incident on top of the board within 90 s")


def _shot(page: Page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / name), full_page=True)


def test_click_the_top_trend_see_its_deploy_mark_it_expected_and_it_leaves_the_top(
    browser: Browser, demo: str
) -> None:
    _incident_on_top(demo)
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.route("**/*", _offline)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(demo + "/")
    first = page.locator("#trends tr.trend").first
    top = httpx.get(f"{demo}/trends/{first.get_attribute('data-trend')}?format=json").json()
    assert top["deploy"] is not None, top
    _shot(page, "board.png")
    first.locator("a.trend-link").click()
    page.wait_for_url(f"**/trends/{top['id']}")
    page.wait_for_selector("#chart[data-ready='1']", timeout=15000)
    shapes = page.evaluate("document.getElementById('chart').layout.shapes")
    markers = [s for s in shapes if s["type"] == "line"]
    when = [s["x0"].timestamp() for s in markers]  # Playwright hands JS Dates back as datetimes
    assert any(abs(t - top["deploy"]["when"]) < 1 for t in when), "the deploy is on the chart"
    assert top["deploy"]["what"] in page.inner_text("#sentence")
    _shot(page, "trend.png")
    page.select_option("#fb-verdict", "expected")
    page.fill("#fb-user", "alice")
    page.click("#fb-send")
    page.wait_for_url(demo + "/")
    page.wait_for_selector("#trends tr.trend")
    assert page.locator("#trends tr.trend").first.get_attribute("data-trend") != top["id"]
    assert "marked expected by alice" in page.inner_text("#muted")
    log = httpx.get(f"{demo}/api/v1/feedback", timeout=10).json()["feedback"]
    assert log[0]["user"] == "alice" and log[0]["trend"] == top["id"]
    page.goto(demo + top["deploy"]["url"])
    page.wait_for_selector("#changes")
    assert page.locator("#changes tbody tr").count() >= 1
    _shot(page, "deploy.png")
    assert not errors


EVIL = [
    "<script>window.pwned=1</script>",
    "<svg/onload=window.pwned=1>",
    "\"'><img/src/onerror=window.pwned=1>",
]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Running]:
    running = start_server(tmp_path / "data")
    yield running
    running.stop()


def test_untrusted_names_and_event_text_never_run(browser: Browser, server: Running) -> None:
    now = time.time()
    rng = np.random.default_rng(2)
    points = []
    for k, bad in enumerate(EVIL):
        values = 10 + rng.normal(0, 1, 200)
        values[-3:] += 80
        name = {"name": f"app.evil{k}", "labels": {"tag": bad}}
        points += [
            {**name, "value": float(v), "ts": now - (200 - i) * 10} for i, v in enumerate(values)
        ]
    with server.client() as http:
        assert http.post("/api/v1/points", json={"points": points}).status_code == 202
        for bad in EVIL:
            http.post(
                "/api/v1/events",
                json={
                    "what": f"deploy {bad}",
                    "tags": ["deploy", "service=app"],
                    "when": now - 100,
                    "data": bad,
                },
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # a loaded machine may take a while
            trends = http.get("/api/v1/trends").json()["trends"]
            names = http.get("/api/v1/series", params={"match": "app.evil*"}).json()["series"]
            if trends and len(names) == len(EVIL):
                break
            time.sleep(0.5)
        events = http.get("/api/v1/events").json()["events"]
    assert trends and len(names) == len(EVIL)
    page = browser.new_page()
    page.route("**/*", _offline)
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    from urllib.parse import quote

    urls = ["/", trends[0]["url"], "/events", events[0]["url"], "/search?match=app.*", "/feedback"]
    urls += [f"/series/{quote(n, safe='')}" for n in names]
    urls += [f"/moved?from={now - 60:.0f}&until={now:.0f}"]
    for url in urls:
        page.goto(server.base + url)
        page.wait_for_load_state("load")
        if "/series/" in url or "/trends/" in url:
            page.wait_for_selector("#chart[data-ready='1']", timeout=15000)
        assert page.evaluate("window.pwned") is None, url
        assert "<script>window.pwned=1</script>" in page.inner_text("body") or url in (
            "/feedback",
        ), url
    assert not dialogs
