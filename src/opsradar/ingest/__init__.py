"""ingest: wire formats in, ``PointBatch`` out to a sink it is given.

Listeners (each ``.start()`` binds — port 0 picks a free one — ``.port`` is the bound port,
``.stop()`` joins its threads):

- ``StatsdServer`` — StatsD over UDP (and TCP with ``tcp_port``), Etsy's flush semantics.
- ``GraphiteServer`` / ``GraphiteUdpServer`` — Graphite plaintext over TCP / UDP.
- ``GraphitePickleServer`` — Graphite's pickle protocol (carbon-relay), restricted unpickler.
- ``PrometheusScraper`` — scrapes Prometheus exporters (text exposition format) on a thread.

Parsers: ``parse_points_json`` for ``POST /api/v1/points``, ``parse_remote_write`` for
Prometheus remote write (``POST /api/v1/write``), ``parse_exposition`` for the Prometheus
text format. Test double: ``RecordingSink``.

Bad input on a wire protocol is dropped and counted with ``SelfMetrics.reject(protocol,
reason)``; accepted values with ``SelfMetrics.received(protocol, n)``.
"""

from opsradar.ingest._graphite import GraphiteServer, GraphiteUdpServer
from opsradar.ingest._http import parse_points_json
from opsradar.ingest._pickle import GraphitePickleServer
from opsradar.ingest._promtext import Exposition, parse_exposition
from opsradar.ingest._remote_write import parse_remote_write
from opsradar.ingest._scrape import PrometheusScraper
from opsradar.ingest._statsd import StatsdServer
from opsradar.ingest._testing import RecordingSink

__all__ = [
    "Exposition",
    "GraphitePickleServer",
    "GraphiteServer",
    "GraphiteUdpServer",
    "PrometheusScraper",
    "RecordingSink",
    "StatsdServer",
    "parse_exposition",
    "parse_points_json",
    "parse_remote_write",
]
