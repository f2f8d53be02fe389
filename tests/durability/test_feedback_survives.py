"""Feedback, like history and events, is back after the process is SIGKILLed."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import numpy as np
from tests.e2e.conftest import start_server


def test_feedback_and_events_survive_sigkill(tmp_path: Path) -> None:
    data = tmp_path / "data"
    server = start_server(data)
    rng = np.random.default_rng(5)
    now = time.time()
    values = 20 + rng.normal(0, 1, 300)
    values[-3:] += 40
    server.graphite(
        [f"app.api.errors {v:.3f} {now - (300 - i) * 10:.0f}" for i, v in enumerate(values)]
    )
    with server.client() as http:
        http.post(
            "/api/v1/events", json={"what": "deploy api#7", "tags": ["deploy", "service=api"]}
        )
        deadline = time.monotonic() + 30
        while not (trends := http.get("/api/v1/trends").json()["trends"]):
            assert time.monotonic() < deadline, "no trend"
            time.sleep(0.2)
        posted = http.post(
            "/api/v1/feedback",
            json={"trend": trends[0]["id"], "verdict": "expected", "for": "1w", "user": "carol"},
        )
        assert posted.status_code == 201, posted.text
    assert server.stop(signal.SIGKILL) == -signal.SIGKILL
    again = start_server(data)
    try:
        with again.client() as http:
            log = http.get("/api/v1/feedback").json()["feedback"]
            assert [(r["user"], r["verdict"], r["active"]) for r in log] == [
                ("carol", "expected", True)
            ]
            events = http.get("/api/v1/events").json()["events"]
            assert [e["what"] for e in events] == ["deploy api#7"]
    finally:
        again.stop()
