"""StatsD lines → aggregates, in bulk. The hot loop of the StatsD listener.

A line is ``key:value|type[|@rate][|#tag:v,...]``; several lines per datagram, newline
separated. Types: ``c`` counter, ``ms`` timer (DogStatsD ``h`` and ``d`` are timers too),
``g`` gauge (``+``/``-`` prefix = delta), ``s`` set. Etsy's multi-value form
``key:1|c:2|c`` is accepted when the line has no DogStatsD tags.

Differences from Etsy's statsd, on purpose: an unknown type is rejected (``bad_type``)
where Etsy counts it as a counter; ``nan``, ``inf``, hex and ``1_0`` values are rejected
(``bad_value``); a sample rate must be in (0, ∞) (``bad_sample_rate``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from opsradar.core import MAX_NAME_LENGTH
from opsradar.ingest._names import NameCache

_TIMER_TYPES = frozenset((b"ms", b"h", b"d"))


@dataclass(slots=True)
class Window:
    """What arrived since the last flush, keyed by canonical name (``key;k=v``)."""

    counters: dict[str, float] = field(default_factory=dict)
    timers: dict[str, list[float]] = field(default_factory=dict)
    timer_counts: dict[str, float] = field(default_factory=dict)
    sets: dict[str, set[bytes]] = field(default_factory=dict)
    packets: int = 0
    lines: int = 0
    bad_lines: int = 0


@dataclass(slots=True)
class FeedResult:
    """Outcome of one bulk parse: values accepted and rejects by reason."""

    accepted: int = 0
    rejects: dict[str, int] = field(default_factory=dict)


class StatsdParser:
    """Parses StatsD text into a ``Window`` and a gauges dict (gauges outlive windows).

    Not thread-safe: the caller holds its lock around ``feed`` and swaps windows.
    """

    def __init__(self) -> None:
        self.window = Window()
        self.gauges: dict[str, float] = {}
        self._names = NameCache()

    def feed(self, data: bytes, packets: int = 1) -> FeedResult:
        """Parse every line of ``data`` into the current window."""
        result = FeedResult()
        window = self.window
        window.packets += packets
        for line in data.split(b"\n"):
            if not line:
                continue
            window.lines += 1
            reason = self._line(line)
            if reason is None:
                result.accepted += 1
            else:
                window.bad_lines += 1
                result.rejects[reason] = result.rejects.get(reason, 0) + 1
        return result

    def _line(self, line: bytes) -> str | None:
        """Aggregate one line; return the reject reason, or None if it was kept."""
        key, sep, rest = line.partition(b":")
        if not sep or not rest:
            return "missing_fields"
        if len(key) > MAX_NAME_LENGTH:
            return "too_long"
        if b"|#" not in rest:
            if b":" in rest:  # Etsy's key:1|c:2|c; each part counted on its own
                reasons = [self._value(key, b"", part) for part in rest.split(b":")]
                return next((r for r in reasons if r is not None), None)
            return self._value(key, b"", rest)
        fields = rest.split(b"|")
        tags = b""
        keep: list[bytes] = []
        for item in fields:
            if item[:1] == b"#":
                tags = item[1:]
            else:
                keep.append(item)
        return self._value(key, tags, b"|".join(keep))

    def _value(self, key: bytes, tags: bytes, spec: bytes) -> str | None:
        fields = spec.split(b"|")
        if len(fields) < 2:
            return "missing_fields"
        raw = fields[0]
        kind = fields[1].strip()
        rate = 1.0
        if len(fields) > 2:
            for extra in fields[2:]:
                if extra[:1] != b"@":
                    return "bad_field"
                try:
                    rate = float(extra[1:])
                except ValueError:
                    return "bad_sample_rate"
                if not rate > 0 or rate - rate != 0 or b"_" in extra:
                    return "bad_sample_rate"
        name = self._names.statsd(key, tags)
        if name is None:
            return "bad_name"
        window = self.window
        if kind == b"s":
            members = window.sets.get(name)
            if members is None:
                members = window.sets[name] = set()
            members.add(raw or b"0")
            return None
        try:
            value = float(raw)
        except ValueError:
            return "bad_value"
        if value - value != 0 or b"_" in raw:
            return "bad_value"
        if kind == b"c":
            window.counters[name] = window.counters.get(name, 0.0) + value * (1 / rate)
        elif kind in _TIMER_TYPES:
            values = window.timers.get(name)
            if values is None:
                values = window.timers[name] = []
                window.timer_counts[name] = 0.0
            values.append(value)
            window.timer_counts[name] += 1 / rate
        elif kind == b"g":
            gauges = self.gauges
            if raw[:1] in (b"+", b"-") and name in gauges:
                gauges[name] += value
            else:
                gauges[name] = value
        else:
            return "bad_type"
        return None

    def swap(self, keep_gauges: bool = True) -> tuple[Window, dict[str, float]]:
        """Start a new window; return the old one and the gauges to flush."""
        window, self.window = self.window, Window()
        if keep_gauges:
            return window, dict(self.gauges)
        gauges, self.gauges = self.gauges, {}
        return window, gauges
