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

import re

_NUMBERED = re.compile(r"^([A-Za-z][A-Za-z0-9_]*?[-_]?)\d+$")
_STATSD_FAMILIES = ("stats.timers.", "stats.counters.", "stats.sets.")


def family(name: str) -> str:
    path = name.partition(";")[0]
    if path.startswith(_STATSD_FAMILIES) and path.count(".") >= 3:
        path = path.rsplit(".", 1)[0]
    parts = [_NUMBERED.sub(r"\1*", part) for part in path.split(".")]
    return ".".join(parts)


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


def scope_words(name: str) -> set[str]:
    """Words of a series name that a deploy's ``service=...`` tag can match.

    >>> sorted(scope_words("hosts.checkout-004.cpu.user;dc=ams"))
    ['ams', 'checkout', 'cpu', 'dc', 'hosts', 'user']
    """
    words = re.split(r"[.;=_\-/:]+", name)
    return {w for w in words if w and not w.isdigit() and not re.fullmatch(r"\d+", w)}
