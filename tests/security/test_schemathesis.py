"""schemathesis against the app's own OpenAPI schema: every operation, generated inputs,
the real store and pipeline behind it. No input may produce a 5xx."""

from __future__ import annotations

import tempfile
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from opsradar.core import load_config
from opsradar.server import Server

_DATA = Path(tempfile.mkdtemp(prefix="opsradar-schemathesis-"))
_SERVER = Server(
    load_config(
        {
            "data_dir": str(_DATA),
            "statsd_port": -1,
            "graphite_port": -1,
            "statsd_tcp_port": -1,
            "graphite_udp_port": -1,
            "pickle_port": -1,
        },
        {},
    )
)
_SERVER.store.open()
_SERVER.pipeline.start()
schema = schemathesis.openapi.from_asgi("/openapi.json", _SERVER.app())


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_generated_request_gets_a_server_error(case: schemathesis.Case) -> None:
    case.call_and_validate(checks=[not_a_server_error])
