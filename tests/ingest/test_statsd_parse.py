"""StatsD line parsing: good lines aggregated, bad lines rejected by reason."""

from __future__ import annotations

import pytest

from opsradar.ingest._statsd_parse import StatsdParser


def test_multi_metric_datagram() -> None:
    parser = StatsdParser()
    result = parser.feed(b"gorets:1|c\nglork:320|ms\ngaugor:333|g\nuniques:765|s\n")
    assert result.accepted == 4 and result.rejects == {}
    w = parser.window
    assert w.counters == {"gorets": 1}
    assert w.timers == {"glork": [320]}
    assert parser.gauges == {"gaugor": 333}
    assert w.sets == {"uniques": {b"765"}}


def test_etsy_key_sanitising() -> None:
    parser = StatsdParser()
    parser.feed(b"my key/path!:1|c")
    assert parser.window.counters == {"my_key-path": 1}


def test_etsy_multi_value_line() -> None:
    parser = StatsdParser()
    parser.feed(b"a:1|c:2|c:5|ms")
    assert parser.window.counters == {"a": 3} and parser.window.timers == {"a": [5]}


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (b"novalue", "missing_fields"),
        (b"k:", "missing_fields"),
        (b"k:1", "missing_fields"),
        (b"k:x|c", "bad_value"),
        (b"k:nan|c", "bad_value"),
        (b"k:inf|ms", "bad_value"),
        (b"k:1_0|c", "bad_value"),
        (b"k:|g", "bad_value"),
        (b"k:1|zz", "bad_type"),
        (b"k:1|c|@x", "bad_sample_rate"),
        (b"k:1|c|@0", "bad_sample_rate"),
        (b"k:1|c|@-1", "bad_sample_rate"),
        (b"k:1|c|what", "bad_field"),
        (b"!!!:1|c", "bad_name"),
        (b"a..b:1|c", "bad_name"),
        (b"\xff\xfe:1|c", "bad_name"),
        (b"k:1|c|#bad;tag:x", "bad_name"),
        (b"k" * 600 + b":1|c", "too_long"),
    ],
)
def test_bad_line_rejected_neighbours_kept(line: bytes, reason: str) -> None:
    parser = StatsdParser()
    result = parser.feed(b"before:1|c\n" + line + b"\nafter:2|c")
    assert result.rejects == {reason: 1}
    assert result.accepted == 2
    assert parser.window.counters == {"before": 1, "after": 2}
    assert parser.window.bad_lines == 1


def test_gauge_set_to_negative_needs_zero_first() -> None:
    parser = StatsdParser()
    parser.feed(b"g:0|g\ng:-10|g")
    assert parser.gauges == {"g": -10}


def test_crlf_and_blank_lines() -> None:
    parser = StatsdParser()
    result = parser.feed(b"a:1|c\r\n\n\nb:2|ms\r\n")
    assert result.accepted == 2 and parser.window.lines == 2
    assert parser.window.counters == {"a": 1} and parser.window.timers == {"b": [2]}
