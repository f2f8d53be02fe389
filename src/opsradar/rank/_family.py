"""Families: which series belong to one thing that moves together.

* a StatsD timer's or counter's statistics: ``stats.timers.checkout.latency.{mean,upper_90,...}``
* the same metric across numbered hosts of one service: ``hosts.web-017.cpu.user``

>>> family("stats.timers.checkout.latency.upper_90")
'stats.timers.checkout.latency'
>>> family("hosts.web-017.cpu.user")
'hosts.web-*.cpu.user'
>>> family("app.db3.queries;dc=ams;host=db3")
'app.db*.queries'
"""

from __future__ import annotations

import functools
import re

_NUMBERED = re.compile(r"^([A-Za-z][A-Za-z0-9_]*?[-_]?)\d+$")
_STATSD_FAMILIES = ("stats.timers.", "stats.counters.", "stats.sets.")


@functools.lru_cache(maxsize=1 << 18)  # names repeat on every refresh
def family(name: str) -> str:
    path = name.partition(";")[0]
    if path.startswith(_STATSD_FAMILIES) and path.count(".") >= 3:
        path = path.rsplit(".", 1)[0]
    parts = [_NUMBERED.sub(r"\1*", part) for part in path.split(".")]
    return ".".join(parts)


@functools.lru_cache(maxsize=1 << 18)  # names repeat on every refresh
def entity(name: str) -> str | None:
    """The numbered thing a series belongs to (a host, a shard), if its path names one.

    >>> entity("hosts.auth-023.disk.io_ops")
    'hosts.auth-023'
    >>> entity("stats.timers.checkout.latency.mean") is None
    True
    """
    parts = name.partition(";")[0].split(".")
    for i, part in enumerate(parts[:-1]):
        if _NUMBERED.match(part):
            return ".".join(parts[: i + 1])
    return None


@functools.lru_cache(maxsize=1 << 18)
def scope_words(name: str) -> frozenset[str]:
    """Words of a series name that a deploy's ``service=...`` tag can match.

    >>> sorted(scope_words("hosts.checkout-004.cpu.user;dc=ams"))
    ['ams', 'checkout', 'cpu', 'dc', 'hosts', 'user']
    """
    words = re.split(r"[.;=_\-/:]+", name)
    return frozenset(w for w in words if w and not w.isdigit())


_STATSD_KIND = re.compile(r"^stats\.(?:timers|counters|gauges|sets)\.([A-Za-z0-9_\-]+)\.")
_STAT_WORDS = {
    "mean": "mean",
    "median": "median",
    "upper": "max",
    "lower": "min",
    "count": "count",
    "count_ps": "rate",
    "rate": "rate",
    "std": "spread",
    "sum": "sum",
}


@functools.lru_cache(maxsize=1 << 18)  # names repeat on every refresh
def service(name: str) -> str | None:
    """The service a series belongs to: its host's name without the number, a StatsD
    namespace, or a ``service=`` label.

    >>> service("hosts.checkout-004.cpu.user"), service("stats.timers.web.latency.mean")
    ('checkout', 'web')
    >>> service("app.queue;service=billing"), service("misc.thing") is None
    ('billing', True)
    """
    path, _, rest = name.partition(";")
    for item in rest.split(";") if rest else ():
        if item.startswith("service="):
            return item[8:]
    m = _STATSD_KIND.match(path)
    if m:
        return m.group(1)
    ent = entity(name)
    if ent is not None:
        word = ent.rsplit(".", 1)[-1]
        return _NUMBERED.sub(r"\1", word).rstrip("-_") or None
    return None


def describe(name: str) -> str:
    """A short human phrase for a series name.

    >>> describe("stats.timers.checkout.latency.upper_90")
    'p90 latency of checkout'
    >>> describe("hosts.web-017.cpu.user")
    'cpu.user on web-017'
    >>> describe("stats.counters.web.errors.rate")
    'rate of web errors'
    """
    path = name.partition(";")[0]
    parts = path.split(".")
    if path.startswith(_STATSD_FAMILIES) and len(parts) >= 4:
        svc, metric, stat = parts[2], ".".join(parts[3:-1]), parts[-1]
        pct = re.fullmatch(r"(upper|mean|sum|count)_(\d+)", stat)
        if pct:
            label = "p" + pct.group(2) if pct.group(1) == "upper" else stat.replace("_", " ")
        else:
            label = _STAT_WORDS.get(stat, stat)
        if parts[1] == "counters":
            return f"{label} of {svc} {metric}".strip()
        return f"{label} {metric} of {svc}".strip()
    ent = entity(name)
    if ent is not None and path.startswith(ent + "."):
        return f"{path[len(ent) + 1 :]} on {ent.rsplit('.', 1)[-1]}"
    return path


_TELLING = re.compile(r"^(mean|median|upper(_\d+)?|p\d+|rate|errors?)$")
_HELPER = re.compile(r"^(sum|sum_squares|std|lower|count_ps|(count|mean|sum|sum_squares)_\d+)$")


@functools.lru_cache(maxsize=1 << 18)  # names repeat on every refresh
def telling(name: str) -> int:
    """How telling a series is to a person, for ordering a trend's series (lower first):
    a timer's mean, median or p90 before its count, before its sums and squares.

    >>> [telling(f"stats.timers.a.lat.{s}") for s in ("upper_90", "count", "sum_squares_90")]
    [0, 1, 2]
    """
    last = name.partition(";")[0].rsplit(".", 1)[-1]
    if _TELLING.match(last):
        return 0
    return 2 if _HELPER.match(last) else 1
