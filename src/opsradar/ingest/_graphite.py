"""Graphite plaintext: ``path value timestamp\\n`` over TCP (and UDP), as carbon reads it.

Like carbon: a timestamp of ``-1`` means "now"; the path may be tagged (``path;k=v``).
Unlike carbon, a NaN value is counted as ``bad_value`` rather than skipped silently.

A buffer is parsed in bulk when it is clean — every line exactly ``path value timestamp``
separated by single spaces, plain decimal numbers, known good paths — with one ``split()``
of the whole buffer, a check of where its spaces and newlines fall (numpy), and the numbers
converted in one go. Anything else in the buffer (a bad line, a tab, a blank line, a value
out of range) sends the whole buffer down the line-by-line path, which counts rejects by
reason; both paths give the same points.
"""

from __future__ import annotations

import time
from array import array
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from opsradar.core import MAX_NAME_LENGTH, FloatArray, PointBatch, PointSink, SelfMetrics
from opsradar.ingest._graphite_scan import scan
from opsradar.ingest._names import NameCache, graphite_name
from opsradar.ingest._net import LineFraming, TcpServer, UdpReader
from opsradar.ingest._path_index import PathIndex

PROTOCOL = "graphite"
#: Longest line accepted: a maximal name plus room for a value and a timestamp.
MAX_LINE = MAX_NAME_LENGTH + 512


#: Bytes a plain decimal number may hold (no ``_``, ``inf`` or ``nan``: those lines take the
#: line-by-line path, which rejects them by reason).
_DECIMAL = b"0123456789.eE+-"
#: Whitespace other than space and newline (``bytes.split`` splits on these too).
_OTHER_SPACE = (b"\t", b"\r", b"\x0b", b"\x0c")


def _column(data: FloatArray | None = None) -> array[float]:
    """A column of C doubles: appends like a list, and the bulk path fills it in one copy."""
    out = array("d")
    if data is not None:
        out.frombytes(data.data.cast("B"))
    return out


@dataclass(slots=True)
class Parsed:
    """Points parsed from one buffer, plus rejects by reason."""

    names: list[str] = field(default_factory=list)
    ts: array[float] = field(default_factory=_column)
    values: array[float] = field(default_factory=_column)
    rejects: dict[str, int] = field(default_factory=dict)

    def points(self) -> list[tuple[str, float, float]]:
        """``(name, ts, value)`` of every point, in order (whichever path parsed them)."""
        return list(zip(self.names, self.ts, self.values, strict=True))

    def reject(self, reason: str) -> None:
        self.rejects[reason] = self.rejects.get(reason, 0) + 1

    def batch(self, protocol: str) -> PointBatch:
        return PointBatch(
            names=self.names,
            ts=np.array(self.ts, dtype=np.float64),  # a copy, through the buffer protocol
            values=np.array(self.values, dtype=np.float64),
            protocol=protocol,
        )


class GraphiteParser:
    """Parses plaintext lines in bulk. One per listener thread (its name cache is not shared)."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._names = NameCache()
        self._index = PathIndex()

    def parse(self, data: bytes) -> Parsed:
        now = self._clock()
        fast = self.parse_bulk(data, now)
        return fast if fast is not None else self.parse_lines(data, now)

    def parse_bulk(self, data: bytes, now: float) -> Parsed | None:
        """The whole buffer at once, or None when any of it needs the line-by-line path."""
        if not data.endswith(b"\n"):
            data += b"\n"
        scanned = scan(data, now)  # compiled: checks every line and converts the numbers
        if scanned is not None:
            names = self._indexed(data, scanned.paths)
            if names is None:  # not all in the index: by bytes, through the name cache
                names = self._paths(data.split()[0::3])
            if names is None:
                return None
            return Parsed(names, _column(scanned.ts), _column(scanned.values))
        # Not for the compiled scan (a long or odd number, ...): split in Python, then check.
        if any(c in data for c in _OTHER_SPACE):
            return None
        tokens = data.split()
        raw = np.frombuffer(data, dtype=np.uint8)
        newlines = np.flatnonzero(raw == 10)
        spaces = np.flatnonzero(raw == 32)
        lines = len(newlines)
        # Exactly two spaces inside each line and three non-empty fields per line.
        if len(tokens) != 3 * lines or len(spaces) != 2 * lines or lines == 0:
            return None
        if (spaces[1::2] > newlines).any() or (spaces[2::2] < newlines[:-1]).any():
            return None
        raw_values, raw_ts = tokens[1::3], tokens[2::3]
        if b"".join(raw_values).translate(None, _DECIMAL) or b"".join(raw_ts).translate(
            None, _DECIMAL
        ):
            return None
        try:
            values, ts = list(map(float, raw_values)), list(map(float, raw_ts))
        except ValueError:
            return None
        if not np.isfinite(values).all():
            return None
        times = np.array(ts)
        now_ = times == -1
        if not (now_ | ((times > 0) & (times < 1e11))).all():
            return None
        times[now_] = now
        names = self._paths(tokens[0::3])
        if names is None:
            return None
        return Parsed(names, _column(times), array("d", values))

    def _indexed(self, data: bytes, paths: np.ndarray) -> list[str] | None:
        """Names of the scanned lines through the path index (new paths are added to it), or
        None when a path is bad or the index cannot take it."""
        buf = np.frombuffer(data, np.uint8)
        ids, missing = self._index.find(buf, paths)
        if missing:
            fresh: dict[bytes, str] = {}
            rows = []
            lines = np.flatnonzero(ids < 0)
            starts, ends = paths[lines, 0].tolist(), paths[lines, 1].tolist()  # ints, no lists
            for i, start, end in zip(lines.tolist(), starts, ends, strict=True):
                raw = data[start:end]
                if raw in fresh:
                    continue
                name = graphite_name(raw) if end - start <= MAX_NAME_LENGTH else None
                if name is None:
                    return None
                fresh[raw] = name
                rows.append(i)
            if not self._index.add(buf, paths[rows], list(fresh.values())):
                return None
            ids, missing = self._index.find(buf, paths)
            if missing:
                return None
        return list(map(self._index.names.__getitem__, ids.tolist()))

    def _paths(self, raw: list[bytes]) -> list[str] | None:
        known = self._names.paths
        try:
            return list(map(known.__getitem__, raw))
        except KeyError:
            pass
        for path in set(raw).difference(known):
            if len(path) > MAX_NAME_LENGTH or self._names.graphite(path) is None:
                return None
        try:
            return list(map(known.__getitem__, raw))
        except KeyError:  # the cache was cleared (a buffer of more names than it holds)
            return None

    def parse_lines(self, data: bytes, now: float) -> Parsed:
        """Line by line: every bad line is counted by reason and the rest are kept."""
        out = Parsed()
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


def warm() -> None:
    """Compile (or load) the bulk path's kernels before the first read: the scan and the path
    index, with enough names to grow its table."""
    GraphiteParser().parse(b"".join(b"w%d 1 1\n" % i for i in range(600)))


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
        warm()
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
        warm()
        self._udp.start("graphite-udp")

    def stop(self) -> None:
        self._udp.stop()

    def _on_datagrams(self, datagrams: list[bytes]) -> None:
        self._rx.handle(b"\n".join(datagrams))
