"""The web app in-process over ASGI, with the real store (DuckDB in a temp dir) and pipeline."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from opsradar.core import load_config
from opsradar.server import Server


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    config = load_config(
        {"data_dir": str(tmp_path), "statsd_port": -1, "graphite_port": -1, "http_port": 0}
        | {"statsd_tcp_port": -1, "graphite_udp_port": -1, "pickle_port": -1},
        {},
    )
    srv = Server(config)
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def client(server: Server) -> Iterator[TestClient]:
    with TestClient(server.app()) as c:
        yield c


def test_points_then_series_read_back(client: TestClient, server: Server) -> None:
    t0 = float(int(time.time()) - 100)  # recent: inside raw retention
    body = {"points": [{"name": "a.b", "value": float(i), "ts": t0 + i} for i in range(5)]}
    assert client.post("/api/v1/points", json=body).json() == {"accepted": 5}
    server.pipeline.drain()
    data = client.get("/api/v1/series/a.b", params={"from": t0 - 10, "until": t0 + 10}).json()
    assert data["name"] == "a.b" and data["resolution"] == "raw"
    assert data["points"] == [[t0 + i, float(i)] for i in range(5)]
    assert client.get("/api/v1/series", params={"match": "a.*"}).json() == {"series": ["a.b"]}


@pytest.mark.parametrize(
    ("path", "body", "needle"),
    [
        ("/api/v1/points", b"{not json", "JSON"),
        ("/api/v1/points", b'{"points": [{"name": "a", "value": "x"}]}', "value"),
        ("/api/v1/events", b'{"tags": ["deploy"]}', "what"),
        ("/api/v1/events", b'{"what": "x", "when": "yesterday"}', "when"),
        ("/api/v1/events", b"[1, 2]", "object"),
    ],
)
def test_malformed_requests_get_4xx_naming_the_problem(
    client: TestClient, path: str, body: bytes, needle: str
) -> None:
    response = client.post(path, content=body, headers={"content-type": "application/json"})
    assert 400 <= response.status_code < 500
    assert needle in response.json()["error"]["message"]


def test_unknown_series_is_404_in_json_and_html(client: TestClient) -> None:
    response = client.get("/api/v1/series/nope.never")
    assert response.status_code == 404 and "nope.never" in response.json()["error"]["message"]
    page = client.get("/series/nope.never")
    assert page.status_code == 404 and "text/html" in page.headers["content-type"]


def test_events_round_trip_with_iso_time(client: TestClient) -> None:
    posted = client.post(
        "/api/v1/events",
        json={"what": "deploy web#9", "tags": "deploy,service=web", "when": "2026-01-01T00:00:00Z"},
    )
    assert posted.status_code == 201
    assert posted.json()["when"] == 1767225600.0
    events = client.get("/api/v1/events", params={"from": 0, "until": 2e9}).json()["events"]
    assert events[0]["tags"] == ["deploy", "service=web"]


def test_pages_escape_untrusted_names(client: TestClient, server: Server) -> None:
    client.post("/api/v1/points", json={"points": [{"name": "x.y", "value": 1.0}]})
    client.post("/api/v1/events", json={"what": "<script>alert(1)</script>", "tags": []})
    server.pipeline.drain()
    page = client.get("/events").text
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page


def test_openapi_documents_the_read_api(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("/api/v1/series", "/api/v1/series/{name}", "/api/v1/trends", "/api/v1/points"):
        assert path in paths


def test_board_has_a_json_twin(client: TestClient) -> None:
    assert "trends" in client.get("/", params={"format": "json"}).json()
    assert client.get("/").headers["content-type"].startswith("text/html")
    assert client.get("/metrics").text.startswith("# HELP")


def test_times_out_of_range_are_rejected_not_crashed(client: TestClient) -> None:
    for bad in ("-62135595901", "1e300", "nan", "soon"):
        response = client.get("/api/v1/events", params={"until": bad})
        assert response.status_code == 400, bad
        assert "until" in response.json()["error"]["message"]


def test_delete_a_series_over_http(client: TestClient, server: Server) -> None:
    client.post("/api/v1/points", json={"points": [{"name": "old.metric", "value": 1.0}]})
    server.pipeline.drain()
    assert client.delete("/api/v1/series/old.metric").json() == {"deleted": "old.metric"}
    assert client.get("/api/v1/series/old.metric").status_code == 404
    assert client.delete("/api/v1/series/old.metric").status_code == 404
