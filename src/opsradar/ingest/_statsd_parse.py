"""StatsD lines → aggregates, in bulk. The hot loop of the StatsD listener.

A line is ``key:value|type[|@rate][|#tag:v,...]``; several lines per datagram, newline
separated. Types: ``c`` counter, ``ms`` timer (DogStatsD ``h`` and ``d`` are timers too),
``g`` gauge (``+``/``-`` prefix = delta), ``s`` set. Etsy's multi-value form
``key:1|c:2|c`` is accepted when the line has no DogStatsD tags.

Differences from Etsy's statsd, on purpose: an unknown type is rejected (``bad_type``)
where Etsy counts it as a counter; ``nan``, ``inf``, hex and ``1_0`` values are rejected
(``bad_value``); a sample rate must be in (0, ∞) (``bad_sample_rate``). Memory per key and
flush is capped: past ``max_timer_samples`` samples of one timer, or ``max_set_members``
members of one set, a line is dropped and counted (``timer_cap``, ``set_cap``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from opsradar.core import MAX_NAME_LENGTH
from opsradar.ingest._names import CACHE_LIMIT, NameCache
from opsradar.ingest._statsd_fast import DEMOTED, MAX_PASSES, UNTOUCHED, CounterIndex

_TIMER_TYPES = frozenset((b"ms", b"h", b"d"))
_SIGNS = frozenset(b"+-")
_FAST = {b"c": 0, b"ms": 1, b"g": 2}
_NAN = float("nan")
#: Default caps per key and flush (Etsy's statsd has none and grows without bound).
MAX_TIMER_SAMPLES = 50_000
MAX_SET_MEMBERS = 50_000


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


def _scale(rate: bytes) -> float:
    """``@0.1`` → 10.0 (1 / rate, as statsd multiplies); -1.0 if the slow path must decide."""
    if rate[:1] != b"@" or 124 in rate or 95 in rate:
        return -1.0
    try:
        value = float(rate[1:])
    except ValueError:
        return -1.0
    return 1 / value if 0 < value < math.inf else -1.0


class StatsdParser:
    """Parses StatsD text into a ``Window`` and a gauges dict (gauges outlive windows).

    Not thread-safe: the caller holds its lock around ``feed`` and swaps windows.

    Plain counter lines of keys seen before are summed in compiled code (``CounterIndex``,
    at most ``fast_limit`` raw keys); their sums reach ``Window.counters`` at ``swap`` (or
    when ``window`` is read), with the same value the Python loop would have computed.
    """

    def __init__(
        self,
        max_timer_samples: int = MAX_TIMER_SAMPLES,
        max_set_members: int = MAX_SET_MEMBERS,
        fast_limit: int = CACHE_LIMIT,
    ) -> None:
        self.max_timer_samples = max_timer_samples
        self.max_set_members = max_set_members
        self._window = Window()
        self.gauges: dict[str, float] = {}
        self._names = NameCache()
        self._fast = CounterIndex(fast_limit)

    @property
    def window(self) -> Window:
        """The current window, every counter sum in it (compiled sums are moved in)."""
        if self._fast.live:
            self._fast.move(self._window.counters, DEMOTED)
        return self._window

    @property
    def fast_lines(self) -> int:
        """Lines summed in compiled code so far."""
        return self._fast.summed

    def feed(self, data: bytes, packets: int = 1) -> FeedResult:
        """Parse every line of ``data`` into the current window.

        First the compiled pass (``CounterIndex.run``) sums plain counters of known keys;
        the lines it leaves go through ``_lines``, in order. A line that stops the pass goes
        through ``_lines`` and the pass resumes after it, while passes keep summing lines.
        """
        result = FeedResult()
        rejects = result.rejects
        window = self._window
        fast = self._fast
        summed = lines = accepted = 0
        at, n = 0, len(data)
        if fast.key_slot:
            for passes in range(MAX_PASSES):
                got, stop, rest = fast.run(data, at, window.counters)
                summed += got
                if rest:
                    more, ok = self._lines(rest, rejects)
                    lines, accepted = lines + more, accepted + ok
                at = stop
                if stop == n or not (got or passes == 0):  # done, or passes no longer pay
                    break
                end = data.find(b"\n", stop)
                at = n if end < 0 else end + 1
                more, ok = self._lines(data[stop:at], rejects)
                lines, accepted = lines + more, accepted + ok
                if at >= n:
                    break
        if at < n:
            more, ok = self._lines(data[at:] if at else data, rejects)
            lines, accepted = lines + more, accepted + ok
        if fast.pending:
            fast.register(window.counters)
        lines += summed
        accepted += summed
        window.packets += packets
        window.lines += lines
        window.bad_lines += lines - accepted
        result.accepted = accepted
        return result

    def _lines(self, data: bytes, rejects: dict[str, int]) -> tuple[int, int]:
        """Parse ``data`` line by line: ``(lines, accepted)``; rejects counted by reason.

        The loop handles the common line (``key:value|type``, no rate, no tags, one value)
        inline; anything else goes through ``_line``. Both paths aggregate identically.
        """
        window = self._window
        index = self._fast
        key_slot = index.key_slot
        counters, timers, timer_counts = window.counters, window.timers, window.timer_counts
        gauges = self.gauges
        names = self._names.plain
        max_timer = self.max_timer_samples
        accepted = lines = 0
        for line in data.split(b"\n"):
            if not line:
                continue
            lines += 1
            key, _, rest = line.partition(b":")
            raw, _, kind = rest.partition(b"|")
            name = names.get(key)
            scale = 1.0
            if 124 in kind:  # "|": a sample rate, tags or junk follow the type
                kind, _, rate = kind.partition(b"|")
                scale = _scale(rate)
            fast = _FAST.get(kind)
            # 95 is "_": float() would accept 1_000, statsd does not
            value = _NAN
            if name is not None and fast is not None and scale > 0 and 95 not in raw:
                try:  # noqa: SIM105 - contextlib.suppress costs too much in this loop
                    value = float(raw)
                except ValueError:  # empty, multi-value (1:2) or garbage: the slow path says
                    pass
            reason = None
            if value - value != 0 or name is None:  # not the common case: the slow path
                reason = self._line(line)
            elif fast == 0:
                slot = key_slot.get(key)
                if slot is None or index.state[slot] != DEMOTED:  # first sight in this window
                    index.touch(key, name, slot, counters)
                counters[name] = counters.get(name, 0.0) + value * scale
            elif fast == 1 and value >= 0:
                values = timers.get(name)
                if values is None:
                    timers[name] = [value]
                    timer_counts[name] = scale
                elif len(values) < max_timer:
                    values.append(value)
                    timer_counts[name] += scale
                else:
                    reason = "timer_cap"
            elif fast == 2 and raw[0] not in _SIGNS and scale == 1.0:
                gauges[name] = value
            else:
                reason = self._line(line)
            if reason is None:
                accepted += 1
            else:
                rejects[reason] = rejects.get(reason, 0) + 1
        return lines, accepted

    def _line(self, line: bytes) -> str | None:
        """Aggregate one line of any form; return the first reject reason, or None."""
        key, sep, rest = line.partition(b":")
        if not sep or not rest:
            return "missing_fields"
        if len(key) > MAX_NAME_LENGTH:
            return "too_long"
        tags = b""
        if b"|#" in rest:  # DogStatsD tags, as statsd 0.9 reads them: after the first |#
            rest, _, after = rest.partition(b"|#")
            tags, bar, extra = after.partition(b"|")
            if bar:
                rest += b"|" + extra
        if b":" not in rest:
            return self._value(key, tags, rest)
        reasons = [self._value(key, tags, part) for part in rest.split(b":")]  # key:1|c:2|c
        return next((r for r in reasons if r is not None), None)

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
        window = self._window
        if kind == b"s":
            members = window.sets.get(name)
            if members is None:
                members = window.sets[name] = set()
            elif len(members) >= self.max_set_members and (raw or b"0") not in members:
                return "set_cap"
            members.add(raw or b"0")
            return None
        try:
            value = float(raw)
        except ValueError:
            return "bad_value"
        if value - value != 0 or b"_" in raw:
            return "bad_value"
        if kind == b"c":
            index = self._fast
            slot = index.slot_of_name.get(name) if tags else index.key_slot.get(key)
            if slot is not None and index.state[slot] != DEMOTED:
                index.demote(slot, window.counters)
            elif slot is None and not tags:
                index.touch(key, name, None, window.counters)
            window.counters[name] = window.counters.get(name, 0.0) + value * (1 / rate)
        elif kind in _TIMER_TYPES:
            if value < 0 and kind == b"ms":  # statsd 0.9 rejects negative timings
                return "bad_value"
            values = window.timers.get(name)
            if values is None:
                values = window.timers[name] = []
                window.timer_counts[name] = 0.0
            elif len(values) >= self.max_timer_samples:
                return "timer_cap"
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
        window, self._window = self._window, Window()
        self._fast.move(window.counters, UNTOUCHED)
        if keep_gauges:
            return window, dict(self.gauges)
        gauges, self.gauges = self.gauges, {}
        return window, gauges
