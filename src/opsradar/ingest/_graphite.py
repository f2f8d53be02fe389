"""Graphite plaintext: ``path value timestamp\\n`` over TCP (and UDP), as carbon reads it.

Like carbon: a timestamp of ``-1`` means "now"; the path may be tagged (``path;k=v``).
Unlike carbon, a NaN value is counted as ``bad_value`` rather than skipped silently.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from opsradar.core import MAX_NAME_LENGTH, PointBatch, PointSink, SelfMetrics
from opsradar.ingest._names import NameCache
from opsradar.ingest._net import LineFraming, TcpServer, UdpReader

PROTOCOL = "graphite"
#: Longest line accepted: a maximal name plus room for a value and a timestamp.
MAX_LINE = MAX_NAME_LENGTH + 512


@dataclass(slots=True)
class Parsed:
    """Points parsed from one buffer, plus rejects by reason."""

    names: list[str] = field(default_factory=list)
    ts: list[float] = field(default_factory=list)
    values: list[float] = field(default_factory=list)
    rejects: dict[str, int] = field(default_factory=dict)

    def reject(self, reason: str) -> None:
        self.rejects[reason] = self.rejects.get(reason, 0) + 1

    def batch(self, protocol: str) -> PointBatch:
        return PointBatch(
            names=self.names,
            ts=np.asarray(self.ts, dtype=np.float64),
            values=np.asarray(self.values, dtype=np.float64),
            protocol=protocol,
        )


class GraphiteParser:
    """Parses plaintext lines in bulk. One per listener thread (its name cache is not shared)."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._names = NameCache()

    def parse(self, data: bytes) -> Parsed:
        out = Parsed()
        now = self._clock()
        for line in data.split(b"\n"):
            parts = line.split()
            if not parts:
                continue
            reason = self._line(parts, now, out)
            if reason is not None:
                out.reject(reason)
        return out

    def _line(self, parts: list[bytes], now: float, out: Parsed) -> str | None:
        if len(parts) != 3:
            return "missing_fields" if len(parts) < 3 else "bad_line"
        raw, raw_value, raw_ts = parts
        if len(raw) > MAX_NAME_LENGTH:
            return "too_long"
        try:
            value = float(raw_value)
        except ValueError:
            return "bad_value"
        if value - value != 0 or b"_" in raw_value:
            return "bad_value"
        try:
            ts = float(raw_ts)
        except ValueError:
            return "bad_timestamp"
        if ts == -1:
            ts = now
        elif not 0 < ts < 1e11 or b"_" in raw_ts:
            return "bad_timestamp"
        name = self._names.graphite(raw)
        if name is None:
            return "bad_name"
        out.names.append(name)
        out.ts.append(ts)
        out.values.append(value)
        return None


class _Receiver:
    """Parses buffers and delivers them; shared by the TCP and UDP servers."""

    def __init__(
        self, sink: PointSink, metrics: SelfMetrics, clock: Callable[[], float], protocol: str
    ) -> None:
        self.sink = sink
        self.metrics = metrics
        self.protocol = protocol
        self.parser = GraphiteParser(clock)

    def handle(self, data: bytes) -> None:
        parsed = self.parser.parse(data)
        if parsed.names:
            self.sink.put(parsed.batch(self.protocol))
            self.metrics.received(self.protocol, len(parsed.names))
        for reason, n in parsed.rejects.items():
            self.metrics.reject(self.protocol, reason, n)

    def reject(self, reason: str, n: int) -> None:
        self.metrics.reject(self.protocol, reason, n)


class GraphiteServer:
    """Graphite plaintext over TCP: one selector thread serves every connection.

    Partial lines wait for the next read; a bad line is counted and dropped, and the
    connection stays open. Each read's complete lines become one ``PointBatch``.
    """

    def __init__(
        self,
        host: str,
        port: int,
        sink: PointSink,
        metrics: SelfMetrics,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._rx = _Receiver(sink, metrics, clock, PROTOCOL)
        self._tcp = TcpServer(host, port, self._new_connection, self._rx.reject)

    @property
    def port(self) -> int:
        return self._tcp.port

    def start(self) -> None:
        self._tcp.start("graphite-tcp")

    def stop(self) -> None:
        self._tcp.stop()

    def _new_connection(self) -> LineFraming:
        return LineFraming(self._rx.handle, self._rx.reject, MAX_LINE)


class GraphiteUdpServer:
    """Graphite plaintext over UDP: each datagram holds whole lines."""

    def __init__(
        self,
        host: str,
        port: int,
        sink: PointSink,
        metrics: SelfMetrics,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._rx = _Receiver(sink, metrics, clock, PROTOCOL)
        self._udp = UdpReader(host, port, self._on_datagrams, self._rx.reject)

    @property
    def port(self) -> int:
        return self._udp.port

    def start(self) -> None:
        self._udp.start("graphite-udp")

    def stop(self) -> None:
        self._udp.stop()

    def _on_datagrams(self, datagrams: list[bytes]) -> None:
        self._rx.handle(b"\n".join(datagrams))
