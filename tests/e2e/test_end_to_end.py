"""The whole path on the real process: wire protocols in, trends and charts out, restart."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from tests.e2e.conftest import Running, start_server, wait_for

STEP = 10.0


def _history(
    now: float, n_series: int = 12, n_points: int = 400, seed: int = 3
) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        f"hosts.web-{i:03d}.cpu.user": 40
        + 5 * np.sin(np.arange(n_points) / 40 + i)
        + rng.normal(0, 1, n_points)
        for i in range(n_series)
    }


def _lines(series: dict[str, np.ndarray], start: float) -> list[str]:
    return [
        f"{name} {value:.4f} {start + k * STEP:.0f}"
        for name, values in series.items()
        for k, value in enumerate(values)
    ]


def test_spike_over_real_sockets_ranks_first(server: Running) -> None:
    now = time.time()
    n = 400
    series = _history(now, n_points=n)
    spiked = "hosts.web-007.cpu.user"
    series[spiked][-3:] += 60.0  # a spike of ~12 σ in the last three points
    start = now - n * STEP
    server.graphite([*_lines(series, start), "bad line here", "x.y notanumber 1", "ok.series 1 x"])
    for _ in range(6):  # StatsD over UDP: counters with a sample rate, a timer, a gauge delta
        server.statsd("e2e.hits:2|c|@0.5\ne2e.lat:100|ms\ne2e.lat:300|ms\ne2e.level:+5|g\nbad:|q")
        time.sleep(0.2)
    with server.client() as http:
        http.post(
            "/api/v1/events",
            json={
                "what": "deploy web#1",
                "tags": ["deploy", "service=web"],
                "when": start + (n - 10) * STEP,
            },
        )

        def top_trend():
            trends = http.get("/api/v1/trends").json()["trends"]
            return trends if trends and trends[0]["series"][0] == spiked else None

        trends = wait_for(top_trend)
        top = trends[0]
        assert top["severity"] > 0 and top["explanation"]
        assert top["deploy"] is not None, top
        assert top["deploy"]["what"] == "deploy web#1"
        assert set(top["severity_parts"]) >= {"size", "duration", "breadth", "recency"}
        hits = "stats.counters.e2e.hits.count"

        def all_hits_counted():
            found = http.get("/api/v1/series", params={"match": "stats.counters.e2e.*"}).json()
            if hits not in found["series"]:
                return None
            points = http.get(f"/api/v1/series/{hits}").json()["points"]
            return sum(v for _, v in points) == 6 * 2 / 0.5

        assert wait_for(all_hits_counted), (
            "every sampled counter increment arrives, scaled by 1/rate"
        )
        timers = http.get("/api/v1/series", params={"match": "stats.timers.e2e.lat.*"}).json()[
            "series"
        ]
        assert {"stats.timers.e2e.lat.mean", "stats.timers.e2e.lat.upper_90"} <= set(timers)
        metrics = http.get("/metrics").text
        assert 'opsradar_points_received_total{protocol="graphite"}' in metrics
        assert 'opsradar_lines_rejected_total{protocol="graphite"' in metrics
        assert 'opsradar_lines_rejected_total{protocol="statsd"' in metrics
        assert "opsradar_detector_latency_seconds" in metrics
        page = http.get(f"/series/{spiked}")
        assert page.status_code == 200 and "/static/plotly.min.js" in page.text
        assert http.get("/static/plotly.min.js").status_code == 200
        chart = http.get(f"/series/{spiked}", params={"format": "json"}).json()
        assert chart["anomalies"] and chart["events"][0]["what"] == "deploy web#1"
        board = http.get("/")
        assert board.status_code == 200 and spiked in board.text


def test_history_events_and_scores_survive_a_restart(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = start_server(data)
    now = time.time()
    series = _history(now, n_series=3, n_points=200)
    first.graphite(_lines(series, now - 200 * STEP))
    with first.client() as http:
        http.post("/api/v1/events", json={"what": "deploy api#2", "tags": "deploy service=api"})
        name = "hosts.web-001.cpu.user"
        before = wait_for(
            lambda: (
                (p := http.get(f"/api/v1/series/{name}").json().get("points"))
                and len(p) == 200
                and p
            )
        )
    assert first.stop() == 0
    second = start_server(data)
    try:
        with second.client() as http:
            after = http.get(f"/api/v1/series/{name}").json()
            assert after["points"] == before
            assert after["resolution"] == "raw"
            events = http.get("/api/v1/events").json()["events"]
            assert [e["what"] for e in events] == ["deploy api#2"]
            assert http.get("/api/v1/series", params={"match": "hosts.*"}).json()[
                "series"
            ] == sorted(series)
    finally:
        second.stop()
