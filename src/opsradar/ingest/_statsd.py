"""The StatsD listener: UDP (and optionally TCP) in, one flushed PointBatch per interval out.

Threads: one reads UDP, one serves TCP, one flushes. Receivers parse each drained batch
into the current window under a lock held only while parsing; the flush thread swaps the
window (O(1)) under that lock and does the flush math and ``sink.put`` outside it, so
receiving never waits for flushing.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence

import numpy as np

from opsradar.core import ConfigError, PointBatch, PointSink, SelfMetrics
from opsradar.ingest._net import LineFraming, TcpServer, UdpReader
from opsradar.ingest._statsd_flush import FlushConfig, FlushState, flush_points
from opsradar.ingest._statsd_parse import (
    MAX_SET_MEMBERS,
    MAX_TIMER_SAMPLES,
    FeedResult,
    StatsdParser,
)

log = logging.getLogger("opsradar.ingest")
PROTOCOL = "statsd"
MAX_TCP_LINE = 64 * 1024


class StatsdServer:
    """StatsD over UDP (``port``; ``None`` for none) and, if ``tcp_port`` is given, over TCP.

    ``flush_interval`` seconds apart (and once more at ``stop()``) the aggregates are
    flushed to ``sink`` as one ``PointBatch(protocol="statsd")`` stamped with ``clock()``.
    ``histogram`` is Etsy's ``config.histogram``: ``(("render", (0.01, 0.1, math.inf)),)``;
    ``delete_idle_stats`` is Etsy's ``deleteIdleStats`` (idle keys are not reported).
    ``self_metrics`` adds statsd's own counters (``statsd.packets_received`` …) and
    ``stats.statsd.numStats``. With ``auto_flush=False`` only ``flush()`` and ``stop()``
    flush (the caller drives the interval; rates still divide by ``flush_interval``).
    ``max_timer_samples`` / ``max_set_members`` cap one key's memory per flush: lines past
    a cap are dropped and counted (``timer_cap``, ``set_cap``).
    """

    def __init__(
        self,
        host: str,
        port: int | None,
        sink: PointSink,
        metrics: SelfMetrics,
        flush_interval: float = 10.0,
        percentiles: tuple[float, ...] = (90.0,),
        clock: Callable[[], float] = time.time,
        *,
        tcp_port: int | None = None,
        histogram: Sequence[tuple[str, Sequence[float]]] = (),
        delete_idle_stats: bool = False,
        self_metrics: bool = True,
        auto_flush: bool = True,
        max_timer_samples: int = MAX_TIMER_SAMPLES,
        max_set_members: int = MAX_SET_MEMBERS,
    ) -> None:
        self._phase: float | None = None
        if not flush_interval > 0:
            raise ConfigError(f"statsd flush interval must be > 0, got {flush_interval}")
        for pct in percentiles:
            if pct == 0 or abs(pct) > 100:
                raise ConfigError(f"statsd percentile must be in [-100, 0) or (0, 100]: {pct}")
        self._sink = sink
        self._metrics = metrics
        self._clock = clock
        self._config = FlushConfig(
            interval=flush_interval,
            percentiles=tuple(percentiles),
            histogram=tuple((m, tuple(float(x) for x in b)) for m, b in histogram),
            delete_idle=delete_idle_stats,
            self_metrics=self_metrics,
        )
        self._parser = StatsdParser(max_timer_samples, max_set_members)
        self._state = FlushState()
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._stop = threading.Event()
        self._udp = (
            UdpReader(host, port, self._on_datagrams, self._reject) if port is not None else None
        )
        self._tcp = (
            TcpServer(host, tcp_port, self._new_connection, self._reject)
            if tcp_port is not None
            else None
        )
        self._auto_flush = auto_flush
        self._flusher: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The bound UDP port (after ``start()``; 0 without UDP)."""
        return self._udp.port if self._udp is not None else 0

    @property
    def tcp_port(self) -> int:
        """The bound TCP port (after ``start()``; 0 without TCP)."""
        return self._tcp.port if self._tcp is not None else 0

    def start(self) -> None:
        if self._udp is not None:
            self._udp.start("statsd-udp")
        if self._tcp is not None:
            self._tcp.start("statsd-tcp")
        if self._auto_flush:
            self._flusher = threading.Thread(
                target=self._flush_loop, name="statsd-flush", daemon=True
            )
            self._flusher.start()

    def stop(self) -> None:
        """Stop receiving, then flush what was received."""
        if self._udp is not None:
            self._udp.stop()
        if self._tcp is not None:
            self._tcp.stop()
        self._stop.set()
        if self._flusher is not None:
            self._flusher.join()
        self._safe_flush()

    def feed(self, data: bytes, packets: int = 1) -> None:
        """Parse StatsD text as if it had arrived on the wire (used by listeners and tests)."""
        with self._lock:
            result = self._parser.feed(data, packets)
        self._count(result)

    def flush(self) -> None:
        """Flush now: swap the window, compute, hand one batch to the sink."""
        with self._flush_lock:
            ts = self._clock()
            with self._lock:
                window, gauges = self._parser.swap(keep_gauges=not self._config.delete_idle)
            names, values = flush_points(window, gauges, self._state, self._config)
            if names:
                batch = PointBatch(
                    names=names,
                    ts=np.full(len(names), ts, dtype=np.float64),
                    values=np.asarray(values, dtype=np.float64),
                    protocol=PROTOCOL,
                )
                self._sink.put(batch)

    @property
    def flush_phase(self) -> float | None:
        """Wall-clock time of the flush loop's start: flushes fall on it plus whole intervals."""
        return self._phase

    def _flush_loop(self) -> None:
        interval = self._config.interval
        self._phase = time.time()
        deadline = time.monotonic() + interval
        while not self._stop.wait(max(0.0, deadline - time.monotonic())):
            now = time.monotonic()
            deadline += interval
            if deadline <= now:  # a flush overran: skip the missed ticks, as setInterval does
                deadline = now + interval
            self._safe_flush()

    def _safe_flush(self) -> None:
        try:
            self.flush()
        except Exception:
            log.exception("statsd flush failed")
            self._metrics.reject(PROTOCOL, "flush_error")

    def _on_datagrams(self, datagrams: list[bytes]) -> None:
        self.feed(b"\n".join(datagrams), len(datagrams))

    def _new_connection(self) -> LineFraming:
        return LineFraming(lambda data: self.feed(data, 0), self._reject, MAX_TCP_LINE)

    def _count(self, result: FeedResult) -> None:
        if result.accepted:
            self._metrics.received(PROTOCOL, result.accepted)
        for reason, n in result.rejects.items():
            self._metrics.reject(PROTOCOL, reason, n)

    def _reject(self, reason: str, n: int) -> None:
        self._metrics.reject(PROTOCOL, reason, n)
