"""Simulated fleet for ``opsradar demo``: hosts, services, deploys and injected incidents.

``Fleet`` generates every value as a pure function of its seed and the time, backfills
history as Graphite lines, and feeds a running server over its real wire protocols
(Graphite TCP, StatsD UDP, deploy events over HTTP). Imports only ``opsradar.core``.
"""

from opsradar.simulate._deploys import DEPLOY_PERIOD
from opsradar.simulate._fleet import DEFAULT_SERVICES, Fleet, run_demo_traffic
from opsradar.simulate._incidents import Incident
from opsradar.simulate._model import HOST_METRICS, MetricSpec
from opsradar.simulate._statsd import MAX_DATAGRAM
from opsradar.simulate._wire import EventPoster, GraphiteSender, StatsdSender

__all__ = [
    "DEFAULT_SERVICES",
    "DEPLOY_PERIOD",
    "HOST_METRICS",
    "MAX_DATAGRAM",
    "EventPoster",
    "Fleet",
    "GraphiteSender",
    "Incident",
    "MetricSpec",
    "StatsdSender",
    "run_demo_traffic",
]
