"""Fixtures for ingest tests: a recording sink, fresh self-metrics, and wire helpers.

Helpers are reached through fixtures (``wire``) so the tests work in any pytest import mode.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable

import pytest

from opsradar.core import SelfMetrics
from opsradar.ingest import RecordingSink


class Wire:
    """Helpers for talking to listeners over real sockets and reading the counters."""

    @staticmethod
    def wait_until(check: Callable[[], bool], timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while not check():
            if time.monotonic() > deadline:
                raise AssertionError("condition not met in time")
            time.sleep(0.005)

    @staticmethod
    def rejected(metrics: SelfMetrics) -> dict[str, float]:
        return metrics.rejected_by_reason()

    @staticmethod
    def received(metrics: SelfMetrics, protocol: str) -> float:
        value = metrics.registry.get_sample_value(
            "opsradar_points_received_total", {"protocol": protocol}
        )
        return value or 0.0

    @staticmethod
    def send_udp(port: int, *datagrams: bytes) -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            for d in datagrams:
                s.sendto(d, ("127.0.0.1", port))

    @staticmethod
    def tcp(port: int) -> socket.socket:
        return socket.create_connection(("127.0.0.1", port))


@pytest.fixture
def sink() -> RecordingSink:
    return RecordingSink()


@pytest.fixture
def metrics() -> SelfMetrics:
    return SelfMetrics()


@pytest.fixture
def wire() -> Wire:
    return Wire()
