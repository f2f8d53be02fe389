"""Times as clients write them: unix seconds, or ISO 8601 (naive means UTC)."""

from __future__ import annotations

from datetime import UTC, datetime


def parse_timestamp(text: str) -> float:
    """Unix seconds, or an ISO 8601 date-time (naive means UTC); ValueError otherwise.

    >>> parse_timestamp("1700000000"), parse_timestamp("2026-01-01T00:00:00Z")
    (1700000000.0, 1767225600.0)
    >>> parse_timestamp("2026-01-01 00:00:00")
    1767225600.0
    """
    try:
        return float(text)
    except ValueError:
        pass
    dt = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.timestamp()
