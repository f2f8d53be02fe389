"""Scraping Prometheus exporters: fetch the text exposition format every interval.

Like Prometheus, each sample gets an ``instance`` label (the target's ``host:port``) unless
it has one, and each scrape adds ``up`` (1 or 0) and ``scrape_duration_seconds`` for the
target, so an exporter that stops answering is a series that moves. A failed scrape is
counted (``scrape_failed``) and the loop goes on.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from urllib.parse import urlsplit

import httpx

from opsradar.core import ConfigError, PointSink, SelfMetrics, canonical
from opsradar.ingest._promtext import Exposition, parse_exposition

log = logging.getLogger("opsradar.ingest")
PROTOCOL = "prometheus"
ACCEPT = "text/plain;version=0.0.4;q=1,*/*;q=0.1"
#: Largest exposition body read from one target.
MAX_BODY = 64 * 1024 * 1024


class PrometheusScraper:
    """Scrapes ``targets`` (exposition URLs) every ``interval`` seconds on one thread.

    ``client`` is the ``httpx.Client`` used (pass one with a ``MockTransport`` in tests);
    by default one with a timeout of ``min(interval, 10)`` seconds. ``scrape_once()``
    scrapes every target now, without the thread.
    """

    def __init__(
        self,
        targets: Sequence[str],
        interval: float,
        sink: PointSink,
        metrics: SelfMetrics,
        client: httpx.Client | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not interval > 0:
            raise ConfigError(f"scrape interval must be > 0, got {interval}")
        self.targets = [_check(t) for t in targets]
        self.interval = interval
        self._sink = sink
        self._metrics = metrics
        self._own_client = client is None
        self._client = client or httpx.Client(timeout=min(interval, 10.0))
        self._clock = clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="prometheus-scrape", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if self._own_client:
            self._client.close()

    def scrape_once(self) -> None:
        for target in self.targets:
            if self._stop.is_set() and self._thread is not None:
                return
            try:
                self._scrape(target)
            except Exception:  # one target's failure must not stop the others
                log.exception("scrape of %s failed", target)
                self._metrics.reject(PROTOCOL, "internal_error")

    def _run(self) -> None:
        deadline = time.monotonic()
        while not self._stop.wait(max(0.0, deadline - time.monotonic())):
            deadline = max(deadline + self.interval, time.monotonic())
            self.scrape_once()

    def _scrape(self, target: str) -> None:
        instance = urlsplit(target).netloc
        started = time.perf_counter()
        now = self._clock()
        parsed = self._fetch(target, now, instance)
        out = parsed if parsed is not None else Exposition()
        took = time.perf_counter() - started
        for path, value in (("up", float(parsed is not None)), ("scrape_duration_seconds", took)):
            out.names.append(canonical(path, {"instance": instance}))
            out.ts.append(now)
            out.values.append(value)
        self._sink.put(out.batch(PROTOCOL))
        self._metrics.received(PROTOCOL, len(out.names))
        for reason, n in out.rejects.items():
            self._metrics.reject(PROTOCOL, reason, n)

    def _fetch(self, target: str, now: float, instance: str) -> Exposition | None:
        try:
            response = self._client.get(target, headers={"Accept": ACCEPT})
        except httpx.HTTPError as exc:
            log.warning("scrape of %s failed: %s", target, exc)
            self._metrics.reject(PROTOCOL, "scrape_failed")
            return None
        if response.status_code != 200 or len(response.content) > MAX_BODY:
            log.warning("scrape of %s: HTTP %d", target, response.status_code)
            self._metrics.reject(PROTOCOL, "scrape_failed")
            return None
        openmetrics = "openmetrics" in response.headers.get("content-type", "")
        return parse_exposition(response.text, now, {"instance": instance}, openmetrics=openmetrics)


def _check(target: str) -> str:
    parts = urlsplit(target)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"scrape target {target!r} is not an http(s) URL")
    return target
