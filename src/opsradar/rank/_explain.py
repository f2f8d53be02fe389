"""One readable sentence per trend, built from the parts of its severity."""

from __future__ import annotations

from typing import TYPE_CHECKING

from opsradar.rank._family import describe

if TYPE_CHECKING:
    from opsradar.rank._trends import Trend


# kinds of the detector's likelihood and novelty stages: what they saw, not a value's size
STRETCH = {
    "unusual_run": "unusual for a stretch of points",
    "new_pattern": "moving in a way it has not before",
}


def fmt_duration(seconds: float) -> str:
    """
    >>> fmt_duration(42), fmt_duration(720), fmt_duration(9000)
    ('42 s', '12 min', '2.5 h')
    """
    seconds = max(0.0, seconds)
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    if seconds < 3 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def ordinal(n: int) -> str:
    """
    >>> [ordinal(n) for n in (1, 2, 3, 4, 11, 12, 22)]
    ['1st', '2nd', '3rd', '4th', '11th', '12th', '22nd']
    """
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def fmt_value(x: float) -> str:
    """Three significant digits, in the k / M / G a dashboard uses; e-notation only below
    0.0001.

    >>> [fmt_value(v) for v in (0.000123, 5.0, 176.4, 2250.0, 13093.0, 4.2e6, -1.5e9, 7e13)]
    ['0.000123', '5', '176', '2,250', '13.1k', '4.2M', '-1.5G', '70T']
    >>> fmt_value(999.7), fmt_value(999_950.0), fmt_value(123_456.0), fmt_value(3e16)
    ('1,000', '1M', '123k', '30000T')
    >>> fmt_value(0.0), fmt_value(-0.5), fmt_value(1.5e-6)
    ('0', '-0.5', '1.50e-06')
    """
    a = abs(x)
    if a < 1e-4 and a != 0:
        return f"{x:.2e}"
    if abs(float(f"{x:.3g}")) < 1000:
        return f"{x:.3g}"
    if a < 10_000:
        return f"{x:,.0f}"
    for div, unit in ((1e12, "T"), (1e9, "G"), (1e6, "M")):
        v = float(f"{x / div:.3g}")  # rounded first: 999,950 is 1M, not 1e+03k
        if abs(v) >= 1:
            return f"{v:g}{unit}"
    return f"{float(f'{x / 1e3:.3g}'):g}k"


def change_phrase(expected: float, observed: float) -> str:
    """
    >>> change_phrase(100.0, 310.0)
    '3.1× its usual level for this time of day'
    >>> change_phrase(100.0, 120.0)
    '+20% from its usual 100 for this time of day'
    """
    usual = "for this time of day"
    if expected > 0 and observed > 0:
        ratio = observed / expected
        if ratio >= 1.5:
            return f"{ratio:.1f}× its usual level {usual}"
        if ratio <= 0.67:
            return f"down to {ratio:.2f}× its usual level {usual}"
        return f"{(ratio - 1) * 100:+.0f}% from its usual {fmt_value(expected)} {usual}"
    return f"{fmt_value(observed)} against a usual {fmt_value(expected)} {usual}"


def range_phrase(expected: float, observed: float) -> str:
    """For ``out_of_range``: ``expected`` is the edge of the usual range that was left.

    >>> range_phrase(2250.0, 3400.0)
    'above its usual range (up to 2,250), now 3,400'
    >>> range_phrase(5.0, 0.0)
    'below its usual range (down to 5), now 0'
    """
    if observed >= expected:
        return f"above its usual range (up to {fmt_value(expected)}), now {fmt_value(observed)}"
    return f"below its usual range (down to {fmt_value(expected)}), now {fmt_value(observed)}"


def _breadth(t: Trend) -> str:
    n = len(t.series)
    if t.hosts > 1:
        return f" on {t.hosts} hosts" + (f" ({n} series)" if n != t.hosts else "")
    return f" on {n} series" if n > 1 else ""


def _subject(t: Trend) -> str:
    return t.family if len(t.series) > 1 else t.series[0]


def size_help(t: Trend) -> str:
    """What the trend's size is measured from, for its page's severity table."""
    if t.kind == "stopped":
        return "a series that stops counts in full"
    if t.kind == "new":
        return "a new series counts half"
    if t.kind == "recovery":
        return f"{t.deviation:.1f} σ back from the level it held"
    if t.kind in STRETCH:
        return f"{t.deviation:.1f} σ from the expected value"
    if t.kind == "out_of_range":
        return f"{t.deviation:.1f} σ beyond the edge of its usual range"
    return f"{t.deviation:.1f} σ from the usual level for this time of day"


def sentence(t: Trend, now: float) -> str:
    """E.g. ``p90 latency of checkout 3.1× its usual level for this time of day (8.0 σ, level
    shift) for 12 min on 3 series; started 2 min after deploy checkout#8812; ongoing.``"""
    if t.kind == "stopped":
        what = f"{_subject(t)} stopped reporting {fmt_duration(now - t.start)} ago"
    elif t.kind == "new":
        what = f"{_subject(t)} first appeared {fmt_duration(now - t.start)} ago"
    else:
        duration = t.last - t.start
        lasting = f" for {fmt_duration(duration)}" if duration >= 60 else ""
        if t.kind == "variance":
            change = f"swinging widely around its usual {fmt_value(t.expected)}"
        elif t.kind == "flatline":
            change = f"flat at {fmt_value(t.observed)}"
        elif t.kind == "recovery":  # expected: the level it held; observed: where it is now
            change = f"back to {fmt_value(t.observed)} from {fmt_value(t.expected)}"
        elif t.kind == "out_of_range":  # expected: the edge of the range it left
            change = range_phrase(t.expected, t.observed)
        elif t.kind in STRETCH:  # no one value is far off: a stretch or an order of them
            now_at = f"now {fmt_value(t.observed)} against an expected {fmt_value(t.expected)}"
            change = f"{STRETCH[t.kind]}, {now_at}"
        else:
            change = change_phrase(t.expected, t.observed)
        kind = t.kind.replace("_", " ")
        what = f"{describe(t.series[0])} {change} ({t.deviation:.1f} σ, {kind}){lasting}"
    what += _breadth(t)
    if t.deploy is not None:
        scope = "" if t.deploy.in_scope else " (another service)"
        what += f"; started {fmt_duration(t.deploy.gap)} after {t.deploy.what}{scope}"
    if t.prior is not None:
        nth = ordinal(t.prior + 1)
        what += "; first time this week" if t.prior == 0 else f"; {nth} time this week"
    state = "ongoing" if t.open else f"ended {fmt_duration(now - t.last)} ago"
    return f"{what}; {state}."
