"""Wire names to canonical series names, with a bounded cache (the same keys repeat)."""

from __future__ import annotations

import re

from opsradar.core import MAX_NAME_LENGTH, InputError, canonical, parse_tagged

_WHITESPACE = re.compile(r"\s+")
_NOT_STATSD = re.compile(r"[^a-zA-Z_\-0-9.]")

#: Cached names per listener before the cache is cleared and rebuilt (memory stays bounded).
CACHE_LIMIT = 500_000


def statsd_key(raw: str) -> str:
    """Sanitise a StatsD key exactly as Etsy's statsd does (``sanitizeKeyName``).

    Whitespace runs become ``_``, ``/`` becomes ``-``, and anything outside
    ``[a-zA-Z_-0-9.]`` is removed.

    >>> statsd_key("api requests/ok!")
    'api_requests-ok'
    """
    return _NOT_STATSD.sub("", _WHITESPACE.sub("_", raw).replace("/", "-"))


def statsd_labels(tags: bytes) -> dict[str, str]:
    """DogStatsD tags ``k:v,flag`` → labels; a tag without a value gets the value ``true``.

    >>> statsd_labels(b"env:prod,canary")
    {'env': 'prod', 'canary': 'true'}
    """
    labels: dict[str, str] = {}
    for tag in tags.decode("utf-8").split(","):
        if not tag:
            continue
        key, colon, value = tag.partition(":")
        labels[key] = value if colon else "true"
    return labels


class NameCache:
    """Maps raw wire names to canonical names, or to the reject reason.

    One per listener thread; never shared between threads.
    """

    def __init__(self, limit: int = CACHE_LIMIT) -> None:
        self._limit = limit
        self._statsd: dict[tuple[bytes, bytes], str | None] = {}
        #: Valid untagged StatsD keys only (the parser's fast path reads it directly).
        self.plain: dict[bytes, str] = {}
        self._graphite: dict[bytes, str | None] = {}
        #: Valid Graphite paths no longer than ``MAX_NAME_LENGTH`` bytes only (the parser's
        #: bulk path reads it directly).
        self.paths: dict[bytes, str] = {}

    def statsd(self, key: bytes, tags: bytes = b"") -> str | None:
        """Canonical name of a StatsD key with DogStatsD tags, or None if invalid."""
        cache = self._statsd
        found = cache.get((key, tags), _MISSING)
        if found is not _MISSING:
            return found  # type: ignore[return-value]
        if len(cache) >= self._limit:
            cache.clear()
            self.plain.clear()
        name: str | None
        try:
            path = statsd_key(key.decode("utf-8"))
            name = canonical(path, statsd_labels(tags) if tags else None)
        except (InputError, UnicodeDecodeError):
            name = None
        cache[(key, tags)] = name
        if name is not None and not tags:
            self.plain[key] = name
        return name

    def graphite(self, raw: bytes) -> str | None:
        """Canonical name of a Graphite path, tagged (``path;k=v``) or not, or None."""
        cache = self._graphite
        found = cache.get(raw, _MISSING)
        if found is not _MISSING:
            return found  # type: ignore[return-value]
        if len(cache) >= self._limit:
            cache.clear()
            self.paths.clear()
        name = graphite_name(raw)
        cache[raw] = name
        if name is not None and len(raw) <= MAX_NAME_LENGTH:
            self.paths[raw] = name
        return name


def graphite_name(raw: bytes) -> str | None:
    """Canonical name of a Graphite path, tagged (``path;k=v``) or not, or None (uncached).

    >>> graphite_name(b"disk.used;host=a;dc=x"), graphite_name(b"a..b")
    ('disk.used;dc=x;host=a', None)
    """
    try:
        text = raw.decode("utf-8")
        return parse_tagged(text) if ";" in text else canonical(text)
    except (InputError, UnicodeDecodeError):
        return None


_MISSING = object()

__all__ = ["MAX_NAME_LENGTH", "NameCache", "graphite_name", "statsd_key", "statsd_labels"]
