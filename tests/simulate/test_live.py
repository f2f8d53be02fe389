"""``run`` against real sockets on 127.0.0.1: a TCP listener, a UDP socket, an HTTP server."""

import itertools
import re
import socket
import threading
import time

import pytest

from opsradar.simulate import MAX_DATAGRAM, Fleet, run_demo_traffic
from opsradar.simulate._incidents import DEPLOY_AFTER

from .conftest import HttpSink, TcpSink, UdpSink

GRAPHITE_LINE = re.compile(r"^(hosts|stats)\.[A-Za-z0-9_.-]+ -?\d+(\.\d+)? \d+(\.\d+)?$")
STATSD_LINE = re.compile(r"^[a-z_]+\.(requests|errors|latency):[0-9.]+\|(c|ms)(\|@0\.1)?$")


def _run(
    fleet: Fleet, sinks: tuple[TcpSink, UdpSink, HttpSink], seconds: float, **kw: float
) -> float:
    """Run the fleet for ``seconds``; return how long it took to stop once asked."""
    tcp, udp, http = sinks
    stop = threading.Event()
    thread = threading.Thread(
        target=fleet.run, args=(tcp.address, udp.address, http.base, stop), kwargs=kw
    )
    thread.start()
    time.sleep(seconds)
    asked = time.monotonic()
    stop.set()
    thread.join(5)
    assert not thread.is_alive()
    return time.monotonic() - asked


def test_run_speaks_all_three_protocols(
    tcp_sink: TcpSink, udp_sink: UdpSink, http_sink: HttpSink
) -> None:
    fleet = Fleet(hosts=12, interval=0.5)
    fleet.plan_incidents(time.time() - DEPLOY_AFTER + 0.3)  # its deploy is posted 0.3 s in
    stopped_in = _run(fleet, (tcp_sink, udp_sink, http_sink), 1.6)
    assert stopped_in < 0.5

    lines = tcp_sink.lines()
    assert tcp_sink.connections == 1
    assert len(lines) >= 3 * 110 and all(GRAPHITE_LINE.match(line) for line in lines)
    assert fleet.counts["graphite_lines"] == len(lines)

    datagrams = udp_sink.datagrams()
    assert datagrams and all(len(d) <= MAX_DATAGRAM for d in datagrams)
    statsd = [line for d in datagrams for line in d.decode().split("\n")]
    assert all(STATSD_LINE.match(line) for line in statsd)
    assert {"|c|@0.1", "|ms|@0.1"} <= {line[line.index("|") :] for line in statsd}
    # several metrics per datagram: each of a window's parts is packed, not sent a line at
    # a time (how many fit depends on the hour: the fleet's traffic follows the day)
    assert len(statsd) >= 3 * len(datagrams)

    assert [path for path, _ in http_sink.posted] == ["/api/v1/events"]
    event = http_sink.posted[0][1]
    assert set(event) == {"what", "tags", "when", "data"}
    assert event["what"].startswith("deploy checkout#")


def test_speed_compresses_simulated_time(
    tcp_sink: TcpSink, udp_sink: UdpSink, http_sink: HttpSink
) -> None:
    fleet = Fleet(hosts=2)
    start = time.time()
    _run(fleet, (tcp_sink, udp_sink, http_sink), 1.0, speed=30.0)
    stamps = sorted({float(line.split()[2]) for line in tcp_sink.lines()})
    assert len(stamps) >= 3
    assert stamps[-1] - start > 15  # ~30 simulated seconds passed in one second


def test_demo_traffic_backfills_then_continues(
    tcp_sink: TcpSink, udp_sink: UdpSink, http_sink: HttpSink
) -> None:
    stop = threading.Event()
    fleet = Fleet(hosts=5, interval=1.0)
    thread = threading.Thread(
        target=run_demo_traffic,
        args=(tcp_sink.address, udp_sink.address, http_sink.base, stop),
        kwargs={"fleet": fleet, "hours": 1.0},
    )
    thread.start()

    def web_stamps() -> list[float]:
        return sorted(
            float(line.split()[2])
            for line in tcp_sink.lines()
            if line.startswith("hosts.web-001.cpu.user ")
        )

    deadline = time.monotonic() + 30  # a loaded machine may take a while over the backfill
    while len(web_stamps()) < 3600 and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(1.5)
    stop.set()
    thread.join(5)
    time.sleep(0.2)
    web = web_stamps()
    assert len(web) >= 3600
    assert all(b - a == 1.0 for a, b in itertools.pairwise(web))  # no gap, no repeat
    assert len(http_sink.posted) >= 1  # a past deploy (one every ~40 min)
    assert any(line.startswith("stats.timers.") for line in tcp_sink.lines())


def test_a_missing_server_is_counted_not_fatal(udp_sink: UdpSink) -> None:
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    address = closed.getsockname()
    closed.close()  # nothing listens there
    fleet = Fleet(hosts=2, interval=0.5)
    fleet.plan_incidents(time.time() - DEPLOY_AFTER + 0.1)
    stop = threading.Event()
    thread = threading.Thread(
        target=fleet.run, args=(address, udp_sink.address, "http://127.0.0.1:9", stop)
    )
    thread.start()
    time.sleep(0.8)
    stop.set()
    thread.join(5)
    assert not thread.is_alive()
    assert fleet.counts["graphite_lines_dropped"] > 0
    assert fleet.counts["events_failed"] == 1
    assert fleet.counts["statsd_datagrams"] > 0


@pytest.mark.parametrize("seconds", [0.0, 0.3])
def test_stop_is_prompt(
    tcp_sink: TcpSink, udp_sink: UdpSink, http_sink: HttpSink, seconds: float
) -> None:
    assert _run(Fleet(hosts=2), (tcp_sink, udp_sink, http_sink), seconds) < 1.5
