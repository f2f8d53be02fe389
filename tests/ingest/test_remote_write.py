"""Prometheus remote write: real protobuf + snappy bodies, encoded here by hand from the
``prometheus/prompb`` schema, decoded by ``parse_remote_write``."""

from __future__ import annotations

import contextlib
import math
import struct

import cramjam
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from opsradar.core import InputError, SelfMetrics
from opsradar.ingest import parse_remote_write

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
STALE_NAN = struct.unpack("<d", struct.pack("<Q", 0x7FF0000000000002))[0]

Series = tuple[dict[str, str], list[tuple[int, float]]]


def varint(n: int) -> bytes:
    n &= (1 << 64) - 1  # int64 is encoded as its two's complement
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def field(number: int, payload: bytes) -> bytes:
    """A length-delimited field (wire type 2)."""
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def sample(ts_ms: int, value: float) -> bytes:
    return varint(1 << 3 | 1) + struct.pack("<d", value) + varint(2 << 3) + varint(ts_ms)


def write_request(series: list[Series]) -> bytes:
    out = b""
    for labels, samples in series:
        body = b"".join(
            field(1, field(1, k.encode()) + field(2, v.encode())) for k, v in labels.items()
        )
        body += b"".join(field(2, sample(t, v)) for t, v in samples)
        out += field(1, body)
    return out


def snappy(raw: bytes) -> bytes:
    return bytes(cramjam.snappy.compress_raw(raw))


def test_labels_become_canonical_names() -> None:
    body = write_request(
        [
            (
                {"__name__": "http_requests_total", "job": "api", "code": "200"},
                [(1700000000123, 5)],
            ),
            ({"__name__": "up", "instance": "h:9100"}, [(1700000000000, 1), (1700000015000, 0)]),
        ]
    )
    batch = parse_remote_write(snappy(body))
    assert batch.protocol == "prometheus"
    assert batch.names == [
        "http_requests_total;code=200;job=api",
        "up;instance=h:9100",
        "up;instance=h:9100",
    ]
    assert batch.ts.tolist() == [1700000000.123, 1700000000.0, 1700000015.0]
    assert batch.values.tolist() == [5.0, 1.0, 0.0]


def test_golden_bytes() -> None:
    """Bytes written out from the schema, independent of the encoder above."""
    raw = bytes.fromhex(
        "0a29"  # WriteRequest.timeseries, 41 bytes
        "0a0e" "0a085f5f6e616d655f5f" "1202" "7570"  # Label __name__=up
        "0a07" "0a0161" "12027878"  # Label a=xx
        "120c" "09" "000000000000f83f" "10" "e807"  # Sample 1.5 @ 1000 ms
        "1a00"  # metadata-like unknown field 3 of TimeSeries (exemplars): skipped
    )  # fmt: skip
    assert parse_remote_write(snappy(raw)).points()[0] == ("up;a=xx", 1.0, 1.5)


def test_unknown_fields_and_metadata_are_skipped() -> None:
    meta = field(3, field(4, b"help text"))  # WriteRequest.metadata
    fixed32 = varint(9 << 3 | 5) + b"\0\0\0\0"
    varint_field = varint(10 << 3) + varint(300)
    body = meta + fixed32 + varint_field + write_request([({"__name__": "a"}, [(1000, 1)])])
    assert parse_remote_write(snappy(body)).names == ["a"]


def test_bad_series_and_samples_dropped_and_counted() -> None:
    metrics = SelfMetrics()
    body = write_request(
        [
            ({"__name__": "ok", "empty": ""}, [(1000, 1.0), (2000, STALE_NAN), (3000, math.inf)]),
            ({"job": "no_name"}, [(1000, 1.0)]),
            ({"__name__": "spaces", "v": "go1.21 linux"}, [(1000, 1.0), (2000, 2.0)]),
            ({"__name__": "t"}, [(-5, 1.0), (0, 1.0)]),
        ]
    )
    batch = parse_remote_write(snappy(body), metrics)
    assert batch.points() == [("ok", 1.0, 1.0)]
    assert metrics.rejected_by_reason() == {
        "prometheus/bad_value": 2,
        "prometheus/bad_name": 3,
        "prometheus/bad_timestamp": 2,
    }


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"not snappy at all", "snappy"),
        (snappy(b"\x0a\x05abc"), "truncated"),
        (snappy(b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"), "varint"),
        (snappy(b"\x08\x01"), "not a message"),
        (snappy(field(1, field(2, varint(1 << 3) + varint(5)))), "double"),
        (snappy(b"\x0b"), "wire type"),
    ],
)
def test_malformed_bodies_raise_input_error(body: bytes, message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_remote_write(body)


def test_decompressed_size_is_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    from opsradar.ingest import _remote_write

    monkeypatch.setattr(_remote_write, "MAX_DECODED", 100)
    with pytest.raises(InputError, match="larger than"):
        parse_remote_write(snappy(b"\0" * 101))


NAMES = st.sampled_from(["up", "node_cpu_seconds_total", "a:b_c", "x"])
LABELS = st.dictionaries(
    st.sampled_from(["job", "instance", "le", "mode"]),
    st.text("ab1.:+", min_size=1, max_size=5),
    max_size=3,
)
SAMPLES = st.lists(
    st.tuples(st.integers(1, 10**13), st.floats(allow_nan=False, allow_infinity=False)),
    max_size=4,
)


@FUZZ
@given(st.lists(st.tuples(NAMES, LABELS, SAMPLES), max_size=5))
def test_fuzz_round_trip(series: list[tuple[str, dict[str, str], list[tuple[int, float]]]]) -> None:
    body = write_request([({"__name__": n, **labels}, s) for n, labels, s in series])
    batch = parse_remote_write(snappy(body))
    expected = [
        (";".join([n, *(f"{k}={v}" for k, v in sorted(labels.items()))]), t / 1000, v)
        for n, labels, samples in series
        for t, v in samples
    ]
    assert batch.points() == expected


@FUZZ
@given(st.binary(max_size=300), st.booleans())
def test_fuzz_garbage_only_raises_input_error(raw: bytes, compress: bool) -> None:
    try:
        batch = parse_remote_write(snappy(raw) if compress else raw, SelfMetrics())
    except InputError:
        return
    assert len(batch.names) == len(batch.ts) == len(batch.values)


@FUZZ
@given(st.binary(max_size=200), st.integers(0, 200))
def test_fuzz_corrupted_valid_body(noise: bytes, at: int) -> None:
    good = write_request([({"__name__": "a", "job": "x"}, [(1000, 1.0), (2000, 2.0)])])
    raw = good[:at] + noise + good[at:]
    with contextlib.suppress(InputError):
        parse_remote_write(snappy(raw), SelfMetrics())
