"""The compiled StatsD counter pass: taken for plain counters, and never changes a value."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from opsradar.ingest._statsd_parse import FeedResult, StatsdParser

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _python_only() -> StatsdParser:
    """The reference: a parser whose compiled index never holds a key (all lines in Python)."""
    return StatsdParser(fast_limit=0)


def _snapshot(parser: StatsdParser) -> tuple[object, ...]:
    w = parser.window
    counters = {k: v.hex() for k, v in w.counters.items()}  # bit for bit (-0.0 too)
    return (counters, w.timers, w.timer_counts, w.sets, parser.gauges, w.lines, w.bad_lines)


def _feed_all(parser: StatsdParser, datagrams: list[bytes]) -> list[tuple[int, dict[str, int]]]:
    out = []
    for d in datagrams:
        r: FeedResult = parser.feed(d)
        out.append((r.accepted, r.rejects))
    return out


def test_plain_counters_of_known_keys_take_the_compiled_path() -> None:
    parser = StatsdParser()
    data = b"\n".join(f"k{i % 7}:{i}|c".encode() for i in range(100))
    expected = {f"k{j}": float(sum(i for i in range(100) if i % 7 == j)) for j in range(7)}
    parser.feed(data)  # first sight: Python registers the keys (Python's for this window)
    parser.feed(data)
    assert parser.fast_lines == 0
    assert parser.swap()[0].counters == {k: 2 * v for k, v in expected.items()}
    result = parser.feed(data)
    assert parser.fast_lines == 100 and result.accepted == 100
    parser.feed(data)
    window, _ = parser.swap()
    assert parser.fast_lines == 200
    assert window.counters == {k: 2 * v for k, v in expected.items()}
    assert window.lines == 200 and window.bad_lines == 0


def test_other_lines_go_through_python_in_order() -> None:
    parser = StatsdParser()
    parser.feed(b"a:1|c\nb:1|c")
    parser.swap()
    data = b"a:1|c\nt:5|ms\ng:3|g\n\nb:2|c\nnew:1|c\na:2|c\nbad\nb:1|c|#x:y"
    result = parser.feed(data)
    assert parser.fast_lines == 3  # a:1, b:2; "new" stops a pass, the next sums a:2
    assert result.accepted == 7 and result.rejects == {"missing_fields": 1}
    window, _ = parser.swap()
    assert window.counters == {"a": 3, "b": 2, "new": 1, "b;x=y": 1}
    assert window.timers == {"t": [5]} and parser.gauges == {"g": 3}
    assert window.lines == 8 and window.bad_lines == 1


def test_a_key_mixing_fast_and_slow_lines_sums_in_arrival_order() -> None:
    """Summing the compiled lines and the Python lines apart would round differently."""
    # Python's: "|#" (empty tags) stops the compiled pass, "c\r" demotes the key
    lines = [b"k:1|c", b"k:0.2|c|#", b"k:1e16|c", b"k:3|c\r", b"k:-1e16|c", b"k:0.3|c|@0.5"]
    exact = 0.0
    for x in (1.0, 0.2, 1e16, 3.0, -1e16, 0.3 * (1 / 0.5)):
        exact += x
    apart = (1.0 + 1e16 - 1e16 + 0.3 * (1 / 0.5)) + (0.2 + 3.0)
    assert apart != exact  # the test can tell the two apart
    for split in ([lines], [[x] for x in lines], [lines[:3], lines[3:]]):
        parser = StatsdParser()
        parser.feed(b"k:0|c")
        parser.swap()
        for part in split:
            parser.feed(b"\n".join(part))
        window, _ = parser.swap()
        assert window.counters["k"].hex() == exact.hex()
        assert parser.fast_lines >= 1


def test_the_index_stays_bounded() -> None:
    parser, reference = StatsdParser(fast_limit=10), _python_only()
    for round_ in range(5):
        for first in range(0, 60, 6):
            data = b"\n".join(f"k{i}:{round_}|c".encode() for i in range(first, first + 6))
            for p in (parser, reference):
                p.feed(data)
                p.feed(data)
            assert len(parser._fast) <= 10
            assert len(parser._fast.names) <= 10
        assert _snapshot(parser) == _snapshot(reference)
        parser.swap()
        reference.swap()
    assert parser.fast_lines == 0  # 60 keys cycling through an index of 10: never known
    few = b"\n".join(f"k{i}:1|c".encode() for i in range(6))
    for _ in range(3):
        for p in (parser, reference):
            p.feed(few)
        assert parser.swap()[0].counters == reference.swap()[0].counters
    # window 1: the full index is cleared; 2: the keys are registered; 3: summed compiled
    assert parser.fast_lines == 6 and len(parser._fast) <= 10


KEYS = [b"a", b"b", b"a/b", b"a-b", b"a b", b"x.y"]
VALUES = st.sampled_from(
    [b"1", b"0", b"-0", b"2.5", b"0.1", b"1e16", b"-1e16", b"3", b"1e300", b"9007199254740993",
     b"1_0", b"x", b"", b"nan", b".5", b"+7", b"1e-5"]
)  # fmt: skip
SUFFIXES = st.sampled_from(
    [b"|c", b"|c", b"|c", b"|c|@0.1", b"|c|@1", b"|ms", b"|g", b"|s", b"|h", b"|c|#", b"|c|#e:1",
     b"|c:2|c", b"|x", b"|c\r", b"|c|@0", b"|ms|@0.5", b"|c ", b"", b"|c|@0.5|@2", b"|c|@-1",
     b"|c|@1e-30", b"|c|@", b"|c|@0.3", b"|c|@1_0", b"|c|x"]
)  # fmt: skip
LINES = st.one_of(
    st.builds(lambda k, v, s: k + b":" + v + s, st.sampled_from(KEYS), VALUES, SUFFIXES),
    # a_b and a\tb: keys never warmed whose name is that of the known "a b"
    st.sampled_from([b"", b"junk", b":1|c", b"a:1|c|@0.5|#t:1", b"a_b:0.1|c", b"a\tb:3|c|@0.5"]),
)


@FUZZ
@given(
    st.lists(st.lists(LINES, max_size=15), max_size=8),
    st.lists(st.integers(0, 7), max_size=3),
    st.integers(0, 8),
)
def test_compiled_parser_equals_the_python_parser(
    datagrams: list[list[bytes]], swaps: list[int], limit: int
) -> None:
    """Random mixtures, datagram by datagram, windows swapped in between: every counter bit
    for bit, every other aggregate, every count and reject reason as the Python path."""
    fast, slow = StatsdParser(fast_limit=limit or 500), _python_only()
    warm = b"\n".join(k + b":1|c" for k in KEYS)
    assert _feed_all(fast, [warm]) == _feed_all(slow, [warm])
    for i, lines in enumerate(datagrams):
        data = [b"\n".join(lines)]
        assert _feed_all(fast, data) == _feed_all(slow, data)
        if i in swaps:
            (wf, gf), (ws, gs) = fast.swap(), slow.swap()
            assert {k: v.hex() for k, v in wf.counters.items()} == {
                k: v.hex() for k, v in ws.counters.items()
            }
            assert (wf.timers, wf.sets, wf.lines, wf.bad_lines, wf.packets, gf) == (
                ws.timers, ws.sets, ws.lines, ws.bad_lines, ws.packets, gs
            )  # fmt: skip
    assert _snapshot(fast) == _snapshot(slow)


def test_sampled_counters_take_the_compiled_path_too() -> None:
    parser, reference = StatsdParser(), _python_only()
    data = b"k:3|c|@0.1\nk:0.7|c|@0.3\nj:1|c|@0.5\nk:1|c"
    for p in (parser, reference):
        p.feed(data)
        p.swap()
        p.feed(data)
    assert parser.fast_lines == 4
    assert _snapshot(parser) == _snapshot(reference)
    assert parser.window.counters["k"] == (3 * (1 / 0.1) + 0.7 * (1 / 0.3)) + 1
