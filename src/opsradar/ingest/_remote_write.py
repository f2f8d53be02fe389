"""Prometheus remote write 1.0: the body of ``POST /api/v1/write``.

The body is a snappy-compressed (block format) protobuf ``prometheus.WriteRequest``::

    WriteRequest { repeated TimeSeries timeseries = 1; repeated MetricMetadata metadata = 3; }
    TimeSeries   { repeated Label labels = 1; repeated Sample samples = 2; ... }
    Label        { string name = 1; string value = 2; }
    Sample       { double value = 1; int64 timestamp = 2; }   // timestamp in milliseconds

It is decoded by hand (varints and length-delimited fields; unknown fields skipped, as
protobuf requires), so no generated code or protobuf runtime is needed. ``__name__`` is the
series path and the other labels become its labels: ``http_requests_total;code=200``.

A body that is not snappy or not a ``WriteRequest`` raises ``InputError`` (HTTP 400, which
Prometheus does not retry). One bad series or sample is dropped and counted by reason —
``bad_name`` (a name or label value opsradar cannot store), ``bad_value`` (NaN, which
includes Prometheus' staleness markers, or ±Inf), ``bad_timestamp`` — and the rest kept.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

import cramjam
import numpy as np

from opsradar.core import InputError, PointBatch, RejectCounter, canonical

PROTOCOL = "prometheus"
#: Largest decompressed body accepted (the compressed body is capped by the HTTP layer).
MAX_DECODED = 64 * 1024 * 1024
_DOUBLE = struct.Struct("<d")
_VARINT, _FIXED64, _BYTES, _FIXED32 = 0, 1, 2, 5


def parse_remote_write(body: bytes, rejects: RejectCounter | None = None) -> PointBatch:
    """Decode a remote-write body into one ``PointBatch(protocol="prometheus")``.

    >>> sample = b"\\x09" + struct.pack("<d", 2.5) + b"\\x10\\xe8\\x07"        # 2.5 @ 1000 ms
    >>> label = b"\\x0a\\x08__name__\\x12\\x02up"
    >>> series = b"\\x0a" + bytes([len(label)]) + label + b"\\x12" + bytes([len(sample)]) + sample
    >>> body = cramjam.snappy.compress_raw(b"\\x0a" + bytes([len(series)]) + series)
    >>> b = parse_remote_write(bytes(body))
    >>> b.names, b.ts.tolist(), b.values.tolist()
    (['up'], [1.0], [2.5])
    """
    data = _decompress(body)
    names: list[str] = []
    ts: list[float] = []
    values: list[float] = []
    dropped: dict[str, int] = {}
    for field, value in _fields(data):
        if field != 1:
            continue
        if not isinstance(value, bytes):
            raise InputError("WriteRequest.timeseries is not a message")
        labels, samples = _timeseries(value)
        name = _name(labels)
        if name is None:
            _count(dropped, "bad_name", len(samples))
            continue
        for t_ms, v in samples:
            if v - v != 0:
                _count(dropped, "bad_value", 1)
            elif not 0 < t_ms < 1e14:
                _count(dropped, "bad_timestamp", 1)
            else:
                names.append(name)
                ts.append(t_ms / 1000.0)
                values.append(v)
    if rejects is not None:
        for reason, n in dropped.items():
            rejects.reject(PROTOCOL, reason, n)
    return PointBatch(
        names=names,
        ts=np.asarray(ts, dtype=np.float64),
        values=np.asarray(values, dtype=np.float64),
        protocol=PROTOCOL,
    )


def _count(dropped: dict[str, int], reason: str, n: int) -> None:
    if n:
        dropped[reason] = dropped.get(reason, 0) + n


def _decompress(body: bytes) -> bytes:
    try:
        size = cramjam.snappy.decompress_raw_len(body)
    except Exception as exc:  # cramjam raises its own DecompressionError or ValueError
        raise InputError(f"body is not snappy-compressed: {exc}") from exc
    if size > MAX_DECODED:
        raise InputError(f"decompressed body larger than {MAX_DECODED} bytes")
    try:
        return bytes(cramjam.snappy.decompress_raw(body))
    except Exception as exc:
        raise InputError(f"body is not snappy-compressed: {exc}") from exc


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    end = len(buf)
    while pos < end:
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, pos
        shift += 7
        if shift >= 64:
            break
    raise InputError("protobuf: truncated or overlong varint")


def _fields(buf: bytes) -> Iterator[tuple[int, int | bytes | memoryview]]:
    """``(field number, value)`` of each field of one message: an ``int`` for a varint,
    ``bytes`` for a length-delimited field, a ``memoryview`` for a fixed64/fixed32."""
    pos, end = 0, len(buf)
    while pos < end:
        key, pos = _varint(buf, pos)
        field, wire = key >> 3, key & 7
        if field == 0:
            raise InputError("protobuf: field number 0")
        value: int | bytes | memoryview
        if wire == _VARINT:
            value, pos = _varint(buf, pos)
        elif wire in (_FIXED64, _FIXED32):
            size = 8 if wire == _FIXED64 else 4
            value, pos = memoryview(buf[pos : pos + size]), pos + size
        elif wire == _BYTES:
            size, pos = _varint(buf, pos)
            value, pos = buf[pos : pos + size], pos + size
        else:
            raise InputError(f"protobuf: unsupported wire type {wire}")
        if pos > end:
            raise InputError("protobuf: truncated message")
        yield field, value


def _timeseries(buf: bytes) -> tuple[dict[str, str], list[tuple[int, float]]]:
    labels: dict[str, str] = {}
    samples: list[tuple[int, float]] = []
    for field, value in _fields(buf):
        if field == 1 and isinstance(value, bytes):
            key, text = _label(value)
            labels[key] = text
        elif field == 2 and isinstance(value, bytes):
            samples.append(_sample(value))
        elif field in (1, 2):
            raise InputError("TimeSeries: labels and samples must be messages")
    return labels, samples


def _label(buf: bytes) -> tuple[str, str]:
    parts = {1: b"", 2: b""}
    for field, value in _fields(buf):
        if field in parts:
            if not isinstance(value, bytes):
                raise InputError("Label: name and value must be strings")
            parts[field] = value
    try:
        return parts[1].decode("utf-8"), parts[2].decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError("Label: not UTF-8") from exc


def _sample(buf: bytes) -> tuple[int, float]:
    value, t_ms = 0.0, 0
    for field, raw in _fields(buf):
        if field == 1:
            if not isinstance(raw, memoryview) or len(raw) != 8:
                raise InputError("Sample.value must be a double")
            (value,) = _DOUBLE.unpack(raw)
        elif field == 2:
            if not isinstance(raw, int):
                raise InputError("Sample.timestamp must be a varint")
            t_ms = raw - (1 << 64) if raw >= 1 << 63 else raw
    return t_ms, value


def _name(labels: dict[str, str]) -> str | None:
    """``__name__`` plus the non-empty labels, canonical; None if opsradar cannot store it."""
    path = labels.pop("__name__", "")
    try:
        return canonical(path, {k: v for k, v in labels.items() if v})
    except InputError:
        return None
