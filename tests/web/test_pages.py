"""Trend, feedback, deploy, explore and status pages and their JSON twins, in-process over ASGI
with the real server objects (DuckDB in a temp dir)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from opsradar.core import load_config
from opsradar.server import Server

OFF = {"statsd_port": -1, "graphite_port": -1, "http_port": 0}
OFF |= {"statsd_tcp_port": -1, "graphite_udp_port": -1, "pickle_port": -1}


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    srv = Server(load_config({"data_dir": str(tmp_path), **OFF}, {}))
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def client(server: Server) -> Iterator[TestClient]:
    with TestClient(server.app()) as c:
        yield c


def _spikes(client: TestClient, server: Server, names: list[str], jump: float = 50.0) -> None:
    """Calm history, then a jump at the end of each series; waits for the board to show it."""
    now = time.time()
    rng = np.random.default_rng(1)
    points = []
    for k, name in enumerate(names):
        values = 10 + rng.normal(0, 1, 300)
        values[-3:] += jump * (k + 1)
        points += [
            {"name": name, "value": float(v), "ts": now - (300 - i) * 10}
            for i, v in enumerate(values)
        ]
    client.post(
        "/api/v1/events",
        json={"what": "deploy web#5", "tags": ["deploy", "service=web"], "when": now - 60},
    )
    assert client.post("/api/v1/points", json={"points": points}).status_code == 202
    server.pipeline.drain()
    server.board.ranker.invalidate()


def _trends(client: TestClient) -> list[dict]:  # type: ignore[type-arg]
    return client.get("/api/v1/trends").json()["trends"]


def test_feedback_reorders_the_board_at_once_with_undo_and_an_audit_log(
    client: TestClient, server: Server
) -> None:
    _spikes(client, server, ["app.web.a", "app.search.b"])
    top = _trends(client)[0]
    page = client.get(top["url"])
    assert page.status_code == 200 and top["explanation"] in page.text
    assert client.get(top["url"], params={"format": "json"}).json()["id"] == top["id"]
    posted = client.post(
        "/api/v1/feedback",
        json={"trend": top["id"], "verdict": "expected", "scope": "family", "for": "1h"},
        headers={"X-Opsradar-User": "alice"},
    )
    assert posted.status_code == 201, posted.text
    rule = posted.json()
    assert rule["user"] == "alice" and rule["active"] and rule["until"] is not None
    after = _trends(client)
    assert after[0]["id"] != top["id"]
    assert after[-1]["muted"]["by"] == "alice" and after[-1]["muted"]["feedback_id"] == rule["id"]
    undone = client.post(f"/api/v1/feedback/{rule['id']}/undo", json={"user": "bob"})
    assert undone.json()["undone"]["user"] == "bob"
    assert _trends(client)[0]["id"] == top["id"]
    log = client.get("/feedback", params={"format": "json"}).json()["feedback"]
    assert [(r["user"], r["undone"]["user"]) for r in log] == [("alice", "bob")]
    assert "alice" in client.get("/feedback").text
    again = client.post(f"/api/v1/feedback/{rule['id']}/undo", json={})
    assert again.status_code == 400 and "already undone" in again.json()["error"]["message"]


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"verdict": "expected", "series": "app.web.a", "for": "2h"}, "'for'"),
        ({"verdict": "maybe", "series": "app.web.a"}, "'verdict'"),
        ({"verdict": "expected", "series": "app.web.a", "scope": "galaxy"}, "'scope'"),
        ({"verdict": "expected"}, "'trend'"),
        ({"verdict": "expected", "series": "app.web.a", "user": ""}, "'user'"),
        ({"verdict": "expected", "trend": "0000dead"}, "no trend"),
        ({"verdict": "expected", "series": "no.such"}, "no series"),
    ],
)
def test_malformed_feedback_gets_a_4xx_naming_the_problem(
    client: TestClient,
    server: Server,
    body: dict,
    needle: str,  # type: ignore[type-arg]
) -> None:
    server.store.resolve(["app.web.a"])
    r = client.post("/api/v1/feedback", json=body)
    assert 400 <= r.status_code < 500 and needle in r.json()["error"]["message"], r.text


def test_graphite_events_api_and_deploy_impact(client: TestClient, server: Server) -> None:
    r = client.post(
        "/events/", json={"what": "deploy web#6", "tags": "deploy service=web", "data": "x"}
    )
    assert r.status_code == 200
    assert client.post("/events/", content=b'{"tags": "x"}').status_code == 400
    listed = client.get("/events/get_data", params={"tags": "deploy"}).json()
    assert [e["what"] for e in listed] == ["deploy web#6"] and listed[0]["tags"] == [
        "deploy",
        "service=web",
    ]
    assert client.get("/events/get_data", params={"tags": "deploy nope"}).json() == []
    event_id = listed[0]["id"]
    _spikes(client, server, ["app.web.a", "app.search.b"])
    impact = client.get(f"/events/{event_id}", params={"format": "json"}).json()
    assert impact["scope"] == ["web"] and impact["series_in_scope"] == 1
    assert client.get(f"/api/v1/events/{event_id}/impact").json()["event"]["id"] == event_id
    assert "deploy web#6" in client.get(f"/events/{event_id}").text
    assert f'href="/events/{event_id}"' in client.get("/events").text


def test_every_trend_names_its_deploy_with_a_link(client: TestClient, server: Server) -> None:
    _spikes(client, server, ["app.web.a"])
    top = _trends(client)[0]
    assert top["deploy"]["what"] == "deploy web#5" and top["deploy"]["url"].startswith("/events/")
    assert top["deploy"]["url"] in client.get("/").text


@pytest.mark.parametrize(
    "path", ["/trends/0000dead", "/events/999999", "/series/no.such", "/feedback/x"]
)
def test_unknown_things_are_404_pages_and_json_errors(client: TestClient, path: str) -> None:
    page = client.get(path)
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    twin = client.get(path, params={"format": "json"})
    assert twin.status_code == 404 and twin.json()["error"]["status"] == 404


@pytest.mark.parametrize("path", ["/", "/events", "/search", "/feedback", "/status", "/moved"])
def test_every_page_has_a_json_twin(client: TestClient, path: str) -> None:
    assert client.get(path).headers["content-type"].startswith("text/html")
    assert isinstance(client.get(path, params={"format": "json"}).json(), dict)


def test_search_by_glob_and_regex(client: TestClient, server: Server) -> None:
    server.store.resolve(["app.web.errors", "app.web.latency", "db.errors"])
    glob = client.get("/search", params={"match": "app.*", "format": "json"}).json()["series"]
    assert glob == ["app.web.errors", "app.web.latency"]
    rx = client.get("/search", params={"match": r"errors$", "regex": "true", "format": "json"})
    assert rx.json()["series"] == ["app.web.errors", "db.errors"]
    bad = client.get("/search", params={"match": "(", "regex": "true"})
    assert bad.status_code in (400, 404)


def test_what_moved_with_a_series(client: TestClient, server: Server) -> None:
    _spikes(client, server, ["app.web.a", "app.search.b"], jump=5.0)
    now = time.time()
    moved = client.get(
        "/moved", params={"series": "app.web.a", "from": now - 40, "until": now, "format": "json"}
    )
    names = [c["name"] for c in moved.json()["changes"]]
    assert names[:2] == ["app.search.b", "app.web.a"]
    assert client.get("/moved", params={"from": now, "until": now - 5}).status_code == 400
    assert client.get("/moved", params={"series": "no.such"}).status_code == 404


def test_status_page_reports_the_tools_own_health(client: TestClient) -> None:
    status = client.get("/status", params={"format": "json"}).json()
    assert {"series", "rejected", "queue_depth", "board_compute_s"} <= set(status)
    assert {"pending_points", "disk_bytes", "series_refused", "store_error"} <= set(status)
    assert "queue depth" in client.get("/status").text


def test_the_board_marks_what_is_new_since_the_last_visit(
    client: TestClient, server: Server
) -> None:
    first = client.get("/")  # the first visit sets a viewer cookie
    assert "opsradar_viewer" in first.cookies or "opsradar_viewer" in client.cookies
    _spikes(client, server, ["app.web.a"])
    twin = client.get("/", params={"format": "json"}).json()["trends"]
    assert twin[0]["since_last_visit"] is None  # still the same visit
    marks = server.board.ranker.marks(server.board.trends(), "someone-else")
    assert marks == {}


def test_a_recovery_is_shown_as_one_on_the_board_and_its_page(
    client: TestClient, server: Server
) -> None:
    """A block of high values, then a return to the usual level (the detector calls the
    return a recovery): the board labels it so, and the trend page measures its size from
    the level the series held, not from "the usual level for this time of day". A minute
    apart, the half-hour block's own episode ends while it lasts and the return is its
    own; ten seconds apart, the five-minute block and its return are one event."""
    now = time.time()
    values = 10 + np.random.default_rng(1).normal(0, 1, 3000)
    values[2900:2930] += 90.0
    points = [
        {"name": "app.web.requests", "value": float(v), "ts": now - (3000 - i) * 60}
        for i, v in enumerate(values)
    ]
    assert client.post("/api/v1/points", json={"points": points}).status_code == 202
    server.pipeline.drain()
    server.board.ranker.invalidate()
    back = [t for t in _trends(client) if t["kind"] == "recovery"]
    assert len(back) == 1, [t["kind"] for t in _trends(client)]
    assert "back to " in back[0]["explanation"]
    assert "usual level" not in back[0]["explanation"]
    assert '<span class="kind recovery">recovery</span>' in client.get("/").text
    page = client.get(back[0]["url"]).text
    assert "σ back from the level it held" in page
