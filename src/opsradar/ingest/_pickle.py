"""Graphite's pickle protocol (TCP 2004), as carbon-relay sends it.

Each message is a 4-byte big-endian length, then a pickle of
``[(path, (timestamp, value)), ...]``. The unpickler is restricted: it resolves no
globals at all, so only lists, tuples, dicts, strings, bytes, numbers, booleans and None
can be built — a pickle that names a class or function (``os.system``…) is rejected
(``bad_pickle``) without running anything.
"""

from __future__ import annotations

import io
import pickle
import struct
import time
from collections.abc import Callable

from opsradar.core import PointSink, SelfMetrics
from opsradar.ingest._graphite import PROTOCOL, Parsed
from opsradar.ingest._names import NameCache
from opsradar.ingest._net import Reject, TcpServer

#: Largest message accepted; carbon-relay sends at most 500 points per message.
MAX_MESSAGE = 4 * 1024 * 1024
_HEADER = struct.Struct("!L")


class _NoGlobals(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> object:
        raise pickle.UnpicklingError(f"global {module[:40]}.{name[:40]} is not allowed")


def safe_loads(data: bytes) -> object:
    """Unpickle plain data only; raise ``pickle.UnpicklingError`` on anything else.

    >>> safe_loads(pickle.dumps([("a.b", (1700000000, 1.5))]))
    [('a.b', (1700000000, 1.5))]
    """
    try:
        return _NoGlobals(io.BytesIO(data), encoding="utf-8").load()
    except pickle.UnpicklingError:
        raise
    except Exception as exc:  # truncated or corrupt pickles raise many types
        raise pickle.UnpicklingError(f"corrupt pickle: {type(exc).__name__}") from exc


class PickleParser:
    """Turns one unpickled message into points; bad entries are counted, the rest kept."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._names = NameCache()

    def parse(self, message: bytes) -> Parsed:
        out = Parsed()
        try:
            doc = safe_loads(message)
        except pickle.UnpicklingError:
            out.reject("bad_pickle")
            return out
        if not isinstance(doc, list | tuple):
            out.reject("bad_pickle")
            return out
        now = self._clock()
        for item in doc:
            reason = self._item(item, now, out)
            if reason is not None:
                out.reject(reason)
        return out

    def _item(self, item: object, now: float, out: Parsed) -> str | None:
        path: object
        ts: object
        value: object
        try:
            path, (ts, value) = item  # type: ignore[misc]
        except (TypeError, ValueError):
            return "missing_fields"
        if isinstance(path, str):
            path = path.encode("utf-8", "surrogatepass")
        if not isinstance(path, bytes):
            return "bad_name"
        if not isinstance(value, int | float) or not _is_number(value) or value - value != 0:
            return "bad_value"
        if not isinstance(ts, int | float) or not _is_number(ts):
            return "bad_timestamp"
        stamp = float(ts)
        if stamp == -1:
            stamp = now
        elif not 0 < stamp < 1e11:
            return "bad_timestamp"
        name = self._names.graphite(path)
        if name is None:
            return "bad_name"
        out.names.append(name)
        out.ts.append(stamp)
        out.values.append(float(value))
        return None


def _is_number(x: int | float) -> bool:
    return not isinstance(x, bool) and abs(x) < 1e300


class PickleFraming:
    """Splits a TCP stream into length-prefixed messages; an oversized one is skipped."""

    def __init__(self, handle: Callable[[bytes], None], reject: Reject) -> None:
        self._handle = handle
        self._reject = reject
        self._buf = bytearray()
        self._skip = 0

    def feed(self, data: bytes) -> None:
        if self._skip:
            dropped = min(self._skip, len(data))
            self._skip -= dropped
            data = data[dropped:]
        self._buf += data
        buf = self._buf
        pos = 0
        while len(buf) - pos >= _HEADER.size:
            (size,) = _HEADER.unpack_from(buf, pos)
            if size > MAX_MESSAGE:
                self._reject("too_long", 1)
                available = len(buf) - pos - _HEADER.size
                self._skip = max(0, size - available)
                pos = min(len(buf), pos + _HEADER.size + size)
                continue
            end = pos + _HEADER.size + size
            if end > len(buf):
                break
            self._handle(bytes(buf[pos + _HEADER.size : end]))
            pos = end
        del buf[:pos]

    def close(self) -> None:
        if self._buf:
            self._reject("truncated", 1)
        self._buf.clear()


class GraphitePickleServer:
    """Graphite pickle protocol over TCP; each message becomes one ``PointBatch``."""

    def __init__(
        self,
        host: str,
        port: int,
        sink: PointSink,
        metrics: SelfMetrics,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._sink = sink
        self._metrics = metrics
        self._parser = PickleParser(clock)
        self._tcp = TcpServer(host, port, self._new_connection, self._reject)

    @property
    def port(self) -> int:
        return self._tcp.port

    def start(self) -> None:
        self._tcp.start("graphite-pickle")

    def stop(self) -> None:
        self._tcp.stop()

    def _new_connection(self) -> PickleFraming:
        return PickleFraming(self._handle, self._reject)

    def _handle(self, message: bytes) -> None:
        parsed = self._parser.parse(message)
        if parsed.names:
            self._sink.put(parsed.batch(PROTOCOL))
            self._metrics.received(PROTOCOL, len(parsed.names))
        for reason, n in parsed.rejects.items():
            self._metrics.reject(PROTOCOL, reason, n)

    def _reject(self, reason: str, n: int) -> None:
        self._metrics.reject(PROTOCOL, reason, n)
