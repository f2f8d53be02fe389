"""Prometheus text exposition: the parser on prometheus_client's own output and on edge
cases, and the scraper against a real HTTP server serving a real registry."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    MetricsHandler,
    Summary,
    generate_latest,
)

from opsradar.core import ConfigError, SelfMetrics
from opsradar.ingest import PrometheusScraper, RecordingSink, parse_exposition

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _registry() -> CollectorRegistry:
    r = CollectorRegistry()
    Counter("jobs", "Jobs done.", ["queue"], registry=r).labels("mail").inc(3)
    Gauge("temp_celsius", "Temperature.", registry=r).set(21.5)
    h = Histogram("req_seconds", "Latency.", buckets=(0.1, 1.0), registry=r)
    for v in (0.05, 0.5, 5.0):
        h.observe(v)
    Summary("size_bytes", "Sizes.", registry=r).observe(512)
    return r


def test_prometheus_client_output() -> None:
    parsed = parse_exposition(generate_latest(_registry()).decode(), now=1700000000.0)
    got = dict(zip(parsed.names, parsed.values, strict=True))
    assert got["jobs_total;queue=mail"] == 3
    assert got["temp_celsius"] == 21.5
    assert got["req_seconds_bucket;le=0.1"] == 1
    assert got["req_seconds_bucket;le=1.0"] == 2
    assert got["req_seconds_bucket;le=+Inf"] == 3
    assert got["req_seconds_count"] == 3 and got["req_seconds_sum"] == 5.55
    assert got["size_bytes_count"] == 1 and got["size_bytes_sum"] == 512
    assert "jobs_created;queue=mail" in got
    assert parsed.types == {
        "jobs_total": "counter",
        "temp_celsius": "gauge",
        "req_seconds": "histogram",
        "size_bytes": "summary",
        "jobs_created": "gauge",
        "req_seconds_created": "gauge",
        "size_bytes_created": "gauge",
    }
    assert parsed.help["temp_celsius"] == "Temperature."
    assert set(parsed.ts) == {1700000000.0} and parsed.rejects == {}


def test_escaping_timestamps_and_odd_spacing() -> None:
    text = (
        "# HELP m A \\\\ backslash\\nand newline\n"
        "# a plain comment\n"
        'm{path="C:\\\\dir",quote="say\\"hi\\"",brace="}",} 1 1700000000500\n'
        'm { a = "1" , b="2" } 2\n'
        "m{} -3e2\n"
        'late 4 1700000009000 # {trace_id="abc"} 1\n'
        "# EOF\n"
        "after_eof 1\n"
    )
    parsed = parse_exposition(text, now=5.0)
    assert list(zip(parsed.names, parsed.ts, parsed.values, strict=True)) == [
        ('m;brace=};path=C:\\dir;quote=say"hi"', 1700000000.5, 1.0),
        ("m;a=1;b=2", 5.0, 2.0),
        ("m", 5.0, -300.0),
        ("late", 1700000009.0, 4.0),
    ]
    assert parsed.help == {"m": "A \\ backslash\nand newline"}
    assert parsed.rejects == {}


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("1bad 1", "bad_line"),
        ('m{a="1" b="2"} 1', "bad_line"),
        ('m{a="1"', "bad_line"),
        ("m", "bad_line"),
        ("m 1 2 3", "bad_line"),
        ("m{a=1} 1", "bad_line"),
        ("m one", "bad_value"),
        ("m 1_000", "bad_value"),
        ("m NaN", "bad_value"),
        ("m -Inf", "bad_value"),
        ("m 1 soon", "bad_timestamp"),
        ("m 1 -5", "bad_timestamp"),
        ('m{v="has space"} 1', "bad_name"),
        ("# TYPE m sometype", "bad_line"),
    ],
)
def test_bad_lines_counted_good_kept(line: str, reason: str) -> None:
    parsed = parse_exposition(f"ok 1\n{line}\nok2 2\n", now=5.0)
    assert parsed.names == ["ok", "ok2"]
    assert parsed.rejects == {reason: 1}


def test_openmetrics_timestamps_are_seconds() -> None:
    parsed = parse_exposition("m 1 1700000000.25\n", now=5.0, openmetrics=True)
    assert list(parsed.ts) == [1700000000.25]


@FUZZ
@given(st.text(max_size=300))
def test_fuzz_never_raises(text: str) -> None:
    parsed = parse_exposition(text, now=5.0, extra={"instance": "x:1"})
    assert len(parsed.names) == len(parsed.ts) == len(parsed.values)


@pytest.fixture
def exporter() -> Iterator[str]:
    """prometheus_client's own handler on a real HTTP server."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), MetricsHandler.factory(_registry()))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/metrics"
    httpd.shutdown()
    httpd.server_close()


def test_scraper_against_a_real_exporter(exporter: str) -> None:
    sink, metrics = RecordingSink(), SelfMetrics()
    instance = exporter.split("/")[2]
    dead = "http://127.0.0.1:9/metrics"  # discard port: connection refused
    scraper = PrometheusScraper([exporter, dead], 0.2, sink, metrics, clock=lambda: 1e9)
    scraper.scrape_once()
    got = sink.values()
    assert got[f"temp_celsius;instance={instance}"] == 21.5
    assert got[f"req_seconds_bucket;instance={instance};le=+Inf"] == 3
    assert got[f"up;instance={instance}"] == 1.0
    assert got["up;instance=127.0.0.1:9"] == 0.0
    assert f"scrape_duration_seconds;instance={instance}" in got
    assert {p.ts for p in sink.points()} == {1e9}
    assert metrics.rejected_by_reason() == {"prometheus/scrape_failed": 1}
    assert {b.protocol for b in sink.batches} == {"prometheus"}


def test_scraper_thread_scrapes_every_interval(exporter: str, wire: object) -> None:
    sink = RecordingSink()
    scraper = PrometheusScraper([exporter], 0.05, sink, SelfMetrics())
    scraper.start()
    try:
        wire.wait_until(lambda: len(sink.batches) >= 3)  # type: ignore[attr-defined]
    finally:
        scraper.stop()


def test_scraper_http_errors_and_injected_client() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/broken":
            return httpx.Response(500)
        return httpx.Response(200, text="a 1\n", headers={"content-type": "text/plain"})

    sink, metrics = RecordingSink(), SelfMetrics()
    client = httpx.Client(transport=httpx.MockTransport(handler))
    scraper = PrometheusScraper(["http://h:1/ok", "http://h:1/broken"], 1, sink, metrics, client)
    scraper.scrape_once()
    assert sink.values()["a;instance=h:1"] == 1.0
    assert metrics.rejected_by_reason() == {"prometheus/scrape_failed": 1}


def test_bad_targets_fail_at_construction() -> None:
    with pytest.raises(ConfigError, match="not an http"):
        PrometheusScraper(["ftp://x"], 1, RecordingSink(), SelfMetrics())
    with pytest.raises(ConfigError, match="interval"):
        PrometheusScraper([], 0, RecordingSink(), SelfMetrics())
