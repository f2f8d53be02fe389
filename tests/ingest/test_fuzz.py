"""Every parser fuzzed: random and adversarial input never raises, every line is either
kept or counted by reason, and good lines around a bad one are kept exactly."""

from __future__ import annotations

import contextlib
import json
import math
import pickle
import random
import socket

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from opsradar.core import InputError, SelfMetrics
from opsradar.ingest import GraphiteServer, RecordingSink, StatsdServer, parse_points_json
from opsradar.ingest._graphite import GraphiteParser
from opsradar.ingest._graphite_scan import scan
from opsradar.ingest._names import NameCache
from opsradar.ingest._path_index import PathIndex
from opsradar.ingest._pickle import PickleFraming, PickleParser
from opsradar.ingest._statsd_parse import StatsdParser

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_WORDS = st.text("abcxyz019_", min_size=1, max_size=6)
KEYS = st.lists(_WORDS, min_size=1, max_size=3).map(lambda parts: "k" + ".".join(parts))
NUMBERS = st.floats(min_value=-1e9, max_value=1e9, allow_nan=False).map(lambda f: round(f, 3))
RATES = st.sampled_from([1.0, 0.5, 0.25, 0.1])
TAGS = st.dictionaries(
    st.sampled_from(["env", "host", "dc"]), st.sampled_from(["a", "b", "prod"]), max_size=2
)


@st.composite
def statsd_lines(draw: st.DrawFn) -> bytes:
    """A valid StatsD line."""
    key, kind = draw(KEYS), draw(st.sampled_from(["c", "ms", "g", "s", "h"]))
    value = abs(draw(NUMBERS)) if kind in ("ms", "h") else draw(NUMBERS)
    text = f"{key}:{value!r}|{kind}"
    if kind == "s":
        text = f"{key}:{draw(st.integers(0, 20))}|s"
    if kind in ("c", "ms", "h") and draw(st.booleans()):
        text += f"|@{draw(RATES)}"
    tags = draw(TAGS)
    if tags:
        text += "|#" + ",".join(f"{k}:{v}" for k, v in tags.items())
    return text.encode()


ADVERSARIAL = st.sampled_from(
    [
        b":", b"::", b"|", b"||", b"k:|", b"k:1|", b"k:1||", b"k:1|c|@", b"k:1|c|@1|@",
        b"k:1e999|c", b"k:-inf|g", b"k:0x10|c", b"k:1|c|@1e-400", b"k:\x00|ms", b"\x00:1|c",
        b"k:1|c|#:", b"k:1|c|#a:b;c", b"k:1|ms|@nan", b"k" * 5000 + b":1|c", b"\xff\xfe\xfd",
        b"k:+|g", b"k:-|g", b"k:1|x:y|c", b"\r", b" ", b"k:1|c|@0.5|#env:a|x",
    ]
)  # fmt: skip
ANY_LINE = st.one_of(
    ADVERSARIAL,
    st.sampled_from(
        [b"k:1|c|#", b"k:1:2|ms", b"k:1|c:x|c", b"k:9" * 100 + b"|c", b"k:1|c\r", b"k:1|ms:2"]
    ),
    st.binary(max_size=80).map(lambda b: b.replace(b"\n", b"")),
    st.text(max_size=40).map(lambda t: t.replace("\n", "").encode()),
    statsd_lines(),
)


def _state(parser: StatsdParser) -> tuple[object, ...]:
    w = parser.window
    return (w.counters, w.timers, w.timer_counts, w.sets, parser.gauges)


@FUZZ
@given(st.binary(max_size=2000))
def test_statsd_random_bytes(data: bytes) -> None:
    parser = StatsdParser()
    result = parser.feed(data)
    assert result.accepted + sum(result.rejects.values()) == parser.window.lines
    assert parser.window.lines == sum(1 for line in data.split(b"\n") if line)
    assert all(r.isidentifier() and r.islower() for r in result.rejects)


@FUZZ
@given(st.lists(ANY_LINE, max_size=12))
def test_statsd_lines_are_independent(lines: list[bytes]) -> None:
    """A datagram aggregates exactly as its lines fed one by one: nothing leaks across."""
    together, apart = StatsdParser(), StatsdParser()
    total = together.feed(b"\n".join(lines))
    accepted, rejects = 0, 0
    for line in lines:
        r = apart.feed(line)
        accepted, rejects = accepted + r.accepted, rejects + sum(r.rejects.values())
    assert _state(together) == _state(apart)
    assert (total.accepted, sum(total.rejects.values())) == (accepted, rejects)


@FUZZ
@given(st.lists(statsd_lines(), max_size=10), st.lists(ADVERSARIAL, min_size=1, max_size=5))
def test_statsd_good_lines_around_bad_kept_exactly(good: list[bytes], bad: list[bytes]) -> None:
    mixed = _interleave(good, bad)
    clean, noisy = StatsdParser(), StatsdParser()
    clean.feed(b"\n".join(good))
    result = noisy.feed(b"\n".join(mixed))
    assert _state(clean) == _state(noisy)
    assert result.accepted == len(good)
    assert sum(result.rejects.values()) == len(bad)


def _interleave(good: list[bytes], bad: list[bytes]) -> list[bytes]:
    out: list[bytes] = []
    for i in range(max(len(good), len(bad))):
        out += bad[i : i + 1] + good[i : i + 1]
    return out


@FUZZ
@given(st.lists(statsd_lines(), min_size=1, max_size=20))
def test_statsd_counters_match_a_reference(lines: list[bytes]) -> None:
    parser = StatsdParser()
    parser.feed(b"\n".join(lines))
    expected: dict[str, float] = {}
    for line in lines:
        key, _, rest = line.partition(b":")
        fields = rest.split(b"|")
        if fields[1] != b"c":
            continue
        rate = next((float(f[1:]) for f in fields[2:] if f.startswith(b"@")), 1.0)
        tags = next((f[1:].decode() for f in fields[2:] if f.startswith(b"#")), "")
        labels = ";".join(
            sorted(f"{t.split(':')[0]}={t.split(':')[1]}" for t in tags.split(",") if t)
        )
        name = key.decode() + (";" + labels if labels else "")
        expected[name] = expected.get(name, 0.0) + float(fields[0]) * (1 / rate)
    assert parser.window.counters.keys() == expected.keys()
    for name, value in expected.items():
        assert math.isclose(parser.window.counters[name], value, rel_tol=1e-12, abs_tol=1e-9)


GRAPHITE_LINES = st.builds(
    lambda k, v, t: f"{k} {v!r} {t}".encode(), KEYS, NUMBERS, st.integers(1, 2_000_000_000)
)
GRAPHITE_BAD = st.sampled_from(
    [b"a", b"a 1", b"a 1 2 3", b"a x 1", b"a 1 x", b"a nan 1", b"a 1 inf", b"a 1 0", b"..a 1 1",
     b"a;b 1 1", b"a;=b 1 1", b"\xff 1 1", b"a" * 2000 + b" 1 1", b"a 1_0 1", b"a 1 -2"]
)  # fmt: skip


@FUZZ
@given(st.binary(max_size=2000))
def test_graphite_random_bytes(data: bytes) -> None:
    parsed = GraphiteParser(clock=lambda: 1.0).parse(data)
    lines = sum(1 for line in data.split(b"\n") if line.split())
    assert len(parsed.names) + sum(parsed.rejects.values()) == lines


@FUZZ
@given(st.lists(GRAPHITE_LINES, max_size=10), st.lists(GRAPHITE_BAD, min_size=1, max_size=5))
def test_graphite_good_lines_around_bad_kept_exactly(good: list[bytes], bad: list[bytes]) -> None:
    mixed = _interleave(good, bad)
    clean = GraphiteParser(clock=lambda: 1.0).parse(b"\n".join(good))
    noisy = GraphiteParser(clock=lambda: 1.0).parse(b"\n".join(mixed))
    assert noisy.points() == clean.points()
    assert sum(noisy.rejects.values()) == len(bad)


GRAPHITE_ODD = st.sampled_from(
    [b"", b"  ", b"a\t1 1", b"a 1 1\r", b" a 1 1", b"a  1 1", b"a 1 1 ", b"a 1e3 1", b"a +1 -1",
     b"a -0 1", b"a 1. 1", b"a .5 1e9", b"a 1e 1", b"a 1 1e11", b"a 1 99999999999", b"a 1 -1.0",
     b"a 1e400 1", b"a -1e400 1", b"a;b=c 1 1", b"k\xc3\xa9 1 1", b"a 1 +-1", b"a 1 .", b"a 1 -",
     b"a 1 0.5", b"a.b 1 1", b"a 1 1e-3", b"a\x0b1 1", b"a\x0c1 1", b"a\x001 1 1", b"a 1 -1",
     b"a 9007199254740993 1", b"a 9007199254740992 1", b"a 1e22 1", b"a 1e23 1", b"a 1e-22 1",
     b"a 1e-23 1", b"a 0.000000000000000000001 1", b"a 123456789012345678 1", b"a -0.0 1",
     b"a 1.5 1e10", b"a 1 1700000000.5", b"a 1e0005 1", b"a 1e+5 1", b"a 5. 1", b"a -.5e-3 1",
     b"a 1.2.3 1", b"a 1x 1", b"a 1e5x 1", b"a 0x10 1", b"a 1 1\x00", b"\xff 1 1", b"a 1 0"]
)  # fmt: skip


@FUZZ
@given(
    st.lists(st.one_of(GRAPHITE_LINES, GRAPHITE_BAD, GRAPHITE_ODD), max_size=12),
    st.booleans(),
    st.integers(1, 6),
)
def test_graphite_bulk_path_equals_line_path(lines: list[bytes], newline: bool, cache: int) -> None:
    """The bulk path either declines a buffer or parses exactly what the line path parses,
    whatever the name cache and path index hold; ``parse`` always matches the line path."""
    data = b"\n".join(lines) + (b"\n" if newline else b"")
    slow = GraphiteParser().parse_lines(data, 7.0)
    parser = GraphiteParser(clock=lambda: 7.0)
    parser._names = NameCache(limit=cache)
    parser._index = PathIndex(limit=cache)
    for _ in range(2):  # cold, then warm name cache
        bulk = parser.parse_bulk(data, 7.0)
        if bulk is not None:
            assert bulk.points() == slow.points()
            assert not slow.rejects and not bulk.rejects
        full = parser.parse(data)
        assert (full.points(), full.rejects) == (slow.points(), slow.rejects)


@FUZZ
@given(
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(["{!r}", "{:.3f}", "{:.6g}", "{:.15g}", "{:.17g}", "{:e}", "{:.0f}"]),
)
def test_graphite_scan_converts_numbers_exactly_as_float(x: float, fmt: str) -> None:
    """The compiled scan gives the very double ``float()`` gives, or declines the buffer."""
    text = fmt.format(x).encode()
    got = scan(b"a " + text + b" 5\n", 1.0)
    if got is not None:
        assert got[0].tolist() == [float(text)] and str(got[0][0]) == str(float(text))
        assert got[1].tolist() == [5.0]


@FUZZ
@given(st.lists(GRAPHITE_LINES, min_size=1, max_size=20), st.booleans())
def test_graphite_clean_buffers_take_the_bulk_path(lines: list[bytes], newline: bool) -> None:
    data = b"\n".join(lines) + (b"\n" if newline else b"")
    bulk = GraphiteParser().parse_bulk(data, 7.0)
    assert bulk is not None
    assert scan(data if newline else data + b"\n", 7.0) is not None  # the compiled path
    assert bulk.points() == GraphiteParser().parse_lines(data, 7.0).points()


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=20,
)
JSON_POINTS = st.fixed_dictionaries(
    {"name": st.one_of(KEYS, st.text(max_size=10)), "value": st.one_of(NUMBERS, JSON_VALUES)},
    optional={"ts": JSON_VALUES, "labels": st.one_of(TAGS, JSON_VALUES)},
)


@FUZZ
@given(st.one_of(st.binary(max_size=300), JSON_VALUES.map(lambda v: json.dumps(v).encode())))
def test_json_random_body(body: bytes) -> None:
    with contextlib.suppress(InputError):
        parse_points_json(body)


@settings(max_examples=80, deadline=None)
@given(st.lists(JSON_POINTS, max_size=5))
def test_json_points_all_or_nothing(points: list[dict[str, object]]) -> None:
    body = json.dumps({"points": points}).encode()
    try:
        batch = parse_points_json(body, clock=lambda: 5.0)
    except InputError as exc:
        assert str(exc).startswith("points[")
    else:
        assert len(batch) == len(points)
        assert [float(v) for v in batch.values] == [float(p["value"]) for p in points]  # type: ignore[arg-type]


def test_listeners_survive_a_fuzz_storm(sink: RecordingSink, metrics: SelfMetrics, wire) -> None:
    """Random bytes on the wire, then one good line each: both listeners still answer."""
    statsd = StatsdServer("127.0.0.1", 0, sink, metrics, flush_interval=3600, tcp_port=0)
    graphite = GraphiteServer("127.0.0.1", 0, sink, metrics)
    statsd.start()
    graphite.start()
    try:
        rng = random.Random(4)
        blobs = [rng.randbytes(rng.randint(1, 1500)) for _ in range(60)]
        wire.send_udp(statsd.port, *blobs)
        for port in (statsd.tcp_port, graphite.port):
            with socket.create_connection(("127.0.0.1", port)) as conn:
                for blob in blobs:
                    conn.sendall(blob)
        wire.send_udp(statsd.port, b"alive:1|c")
        with socket.create_connection(("127.0.0.1", graphite.port)) as conn:
            conn.sendall(b"alive 1 1700000000\n")
        wire.wait_until(lambda: "alive" in sink.values())
    finally:
        graphite.stop()
        statsd.stop()
    assert sink.values()["stats.counters.alive.count"] >= 1
    assert sink.values()["alive"] == 1
    assert "statsd/internal_error" not in metrics.rejected_by_reason()
    assert "graphite/internal_error" not in metrics.rejected_by_reason()


@FUZZ
@given(st.one_of(st.binary(max_size=400), JSON_VALUES.map(lambda v: pickle.dumps(v, protocol=2))))
def test_pickle_random_messages(message: bytes) -> None:
    parsed = PickleParser(clock=lambda: 1.0).parse(message)
    assert len(parsed.names) == len(parsed.values) == len(parsed.ts)


def _rejected_alone(entry: object) -> bool:
    return not PickleParser().parse(pickle.dumps([entry])).names


@FUZZ
@given(
    st.lists(st.tuples(KEYS, st.integers(1, 2_000_000_000), NUMBERS), max_size=8),
    st.lists(
        st.one_of(JSON_VALUES, st.tuples(JSON_VALUES, JSON_VALUES)).filter(_rejected_alone),
        min_size=1,
        max_size=4,
    ),
)
def test_pickle_good_entries_around_bad_kept(
    good: list[tuple[str, int, float]], junk: list[object]
) -> None:
    entries: list[object] = [(k, (t, v)) for k, t, v in good]
    mixed = _interleave(entries, junk)  # type: ignore[arg-type]
    clean = PickleParser().parse(pickle.dumps(entries))
    noisy = PickleParser().parse(pickle.dumps(mixed))
    assert (noisy.names, noisy.ts, noisy.values) == (clean.names, clean.ts, clean.values)
    assert sum(noisy.rejects.values()) == len(junk)


@FUZZ
@given(st.binary(max_size=3000), st.lists(st.integers(1, 600), max_size=10))
def test_pickle_framing_random_stream(stream: bytes, cuts: list[int]) -> None:
    got: list[bytes] = []
    framing = PickleFraming(got.append, lambda reason, n: None)
    pos = 0
    for cut in [*cuts, len(stream)]:
        framing.feed(stream[pos : pos + cut])
        pos += cut
    framing.close()


@FUZZ
@given(st.lists(ANY_LINE, max_size=12))
def test_statsd_fast_path_matches_slow_path(lines: list[bytes]) -> None:
    """The inlined common-case loop aggregates exactly as the general per-line code."""
    fast, slow = StatsdParser(), StatsdParser()
    fast.feed(b"\n".join(lines))
    fast.feed(b"\n".join(lines))  # second pass: names are cached, the fast path is taken
    for line in lines * 2:
        if line:
            slow._line(line)
    assert _state(fast) == _state(slow)
