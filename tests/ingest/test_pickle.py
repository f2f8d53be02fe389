"""Graphite pickle protocol: framing, restricted unpickling, a real TCP listener."""

from __future__ import annotations

import os
import pickle
import struct
from pathlib import Path

import pytest

from opsradar.core import SelfMetrics
from opsradar.ingest import GraphitePickleServer, RecordingSink
from opsradar.ingest._pickle import MAX_MESSAGE, PickleFraming, PickleParser


def _frame(payload: bytes) -> bytes:
    return struct.pack("!L", len(payload)) + payload


def _parse(obj: object, protocol: int = 2) -> tuple[list[tuple[str, float, float]], dict[str, int]]:
    parsed = PickleParser(clock=lambda: 7.0).parse(pickle.dumps(obj, protocol=protocol))
    return list(zip(parsed.names, parsed.ts, parsed.values, strict=True)), parsed.rejects


@pytest.mark.parametrize("protocol", [0, 2, pickle.HIGHEST_PROTOCOL])
def test_carbon_relay_message(protocol: int) -> None:
    points, rejects = _parse(
        [("a.b", (1700000000, 1.5)), ("c;host=x", (1700000001.0, 2)), ("d", (-1, 3))], protocol
    )
    assert points == [("a.b", 1700000000, 1.5), ("c;host=x", 1700000001, 2), ("d", 7.0, 3)]
    assert rejects == {}


def test_bad_entries_counted_rest_kept() -> None:
    points, rejects = _parse(
        [
            ("ok.1", (1700000000, 1)),
            ("no.tuple", 5),
            (7, (1700000000, 1)),
            ("v", (1700000000, "x")),
            ("t", ("x", 1)),
            ("n", (1700000000, float("nan"))),
            ("a..b", (1700000000, 1)),
            ("ok.2", [1700000000, 2]),
        ]
    )
    assert [p[0] for p in points] == ["ok.1", "ok.2"]
    assert rejects == {
        "missing_fields": 1,
        "bad_name": 2,
        "bad_value": 2,
        "bad_timestamp": 1,
    }


class _Evil:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, (f"touch {self.marker}",))


def test_malicious_pickle_runs_nothing(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    for payload in (
        pickle.dumps([("a", (1, _Evil(marker)))]),
        pickle.dumps(_Evil(marker), protocol=0),
        b"cos\nsystem\n(S'touch " + str(marker).encode() + b"'\ntR.",
        b"\x80\x04\x95\x00\x00\x00\x00\x00\x00\x00\x00\x8c\x08builtins\x8c\x04eval\x93.",
    ):
        parsed = PickleParser().parse(payload)
        assert parsed.rejects == {"bad_pickle": 1} and parsed.names == []
    assert not marker.exists()
    # the same pickle, loaded without restriction, would have run the command
    pickle.loads(pickle.dumps(_Evil(marker)))
    assert marker.exists()


@pytest.mark.parametrize("payload", [b"", b"\x80", b"garbage", b"(lp0\n", pickle.dumps({"a": 1})])
def test_corrupt_pickles(payload: bytes) -> None:
    assert PickleParser().parse(payload).rejects == {"bad_pickle": 1}


def test_framing_across_reads_and_oversized_skip() -> None:
    got: list[bytes] = []
    rejects: list[str] = []
    framing = PickleFraming(got.append, lambda reason, n: rejects.append(reason))
    stream = _frame(b"one") + struct.pack("!L", MAX_MESSAGE + 1) + b"x" * 10
    framing.feed(stream[:2])
    framing.feed(stream[2:])
    framing.feed(b"x" * (MAX_MESSAGE - 9) + _frame(b"two")[:5])
    framing.feed(_frame(b"two")[5:] + b"\x00")
    framing.close()
    assert got == [b"one", b"two"]
    assert rejects == ["too_long", "truncated"]


def test_listener(sink: RecordingSink, metrics: SelfMetrics, wire) -> None:
    server = GraphitePickleServer("127.0.0.1", 0, sink, metrics)
    server.start()
    try:
        with wire.tcp(server.port) as conn:
            message = _frame(pickle.dumps([("p.a", (1700000000, 1)), ("p.b", (1700000000, 2))]))
            conn.sendall(message[:3])
            conn.sendall(message[3:] + _frame(b"not a pickle"))
            conn.sendall(_frame(pickle.dumps([("p.c", (1700000000, 3))])))
            wire.wait_until(lambda: wire.received(metrics, "graphite") == 3)
    finally:
        server.stop()
    assert sink.values() == {"p.a": 1, "p.b": 2, "p.c": 3}
    assert wire.rejected(metrics) == {"graphite/bad_pickle": 1}
