"""Senders for the three wire protocols the fleet speaks.

A sender never raises for a network failure: the traffic generator must keep running while
the server starts, restarts or lags. Failures are counted by reason in ``counts`` and
logged once per reason.
"""

from __future__ import annotations

import logging
import socket
from collections import Counter
from types import TracebackType
from typing import Any, Self

import httpx

log = logging.getLogger("opsradar.simulate")


class _Sender:
    def __init__(self, counts: Counter[str] | None = None) -> None:
        self.counts: Counter[str] = counts if counts is not None else Counter()

    def _fail(self, reason: str, exc: Exception, n: int) -> None:
        if not self.counts[reason]:
            log.warning("simulated fleet: %s (%s)", reason, exc)
        self.counts[reason] += n

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        pass


class GraphiteSender(_Sender):
    """Graphite plaintext over one persistent TCP connection, reconnecting after a failure."""

    def __init__(
        self, address: tuple[str, int], timeout: float = 10.0, counts: Counter[str] | None = None
    ) -> None:
        super().__init__(counts)
        self.address = address
        self.timeout = timeout
        self._sock: socket.socket | None = None

    def send_lines(self, lines: list[str]) -> None:
        """Send ``"path value ts\\n"`` lines in one write; on failure drop them and count."""
        if not lines:
            return
        data = "".join(lines).encode()
        try:
            if self._sock is None:
                self._sock = socket.create_connection(self.address, timeout=self.timeout)
            self._sock.sendall(data)
        except OSError as exc:
            self.close()
            self._fail("graphite_lines_dropped", exc, len(lines))
            return
        self.counts["graphite_lines"] += len(lines)

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None


class StatsdSender(_Sender):
    """StatsD datagrams over UDP."""

    def __init__(self, address: tuple[str, int], counts: Counter[str] | None = None) -> None:
        super().__init__(counts)
        self.address = address
        family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self._sock = socket.socket(family, socket.SOCK_DGRAM)

    def send(self, datagrams: list[bytes]) -> None:
        for datagram in datagrams:
            try:
                self._sock.sendto(datagram, self.address)
            except OSError as exc:
                self._fail("statsd_datagrams_dropped", exc, 1)
            else:
                self.counts["statsd_datagrams"] += 1

    def close(self) -> None:
        self._sock.close()


class EventPoster(_Sender):
    """Deploy events as JSON to ``{http_base}/api/v1/events``."""

    def __init__(
        self, http_base: str, timeout: float = 5.0, counts: Counter[str] | None = None
    ) -> None:
        super().__init__(counts)
        self.url = f"{http_base.rstrip('/')}/api/v1/events"
        self._client = httpx.Client(timeout=timeout)

    def post(self, events: list[dict[str, Any]]) -> None:
        for event in events:
            try:
                response = self._client.post(self.url, json=event)
                response.raise_for_status()
            except httpx.HTTPError as exc:
                self._fail("events_failed", exc, 1)
            else:
                self.counts["events"] += 1

    def close(self) -> None:
        self._client.close()
