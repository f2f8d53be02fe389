import numpy as np
import pytest

from opsradar.simulate import Fleet, Incident
from opsradar.simulate._incidents import DRIFT_PER_SECOND, STOP_BEFORE_END

LIVE = 1_700_000_003.0  # live traffic starts here (simulated seconds)
STEPS = np.arange(169_999_990, 170_000_020, dtype=np.int64)  # 100 s before to 200 s after


@pytest.fixture
def planned() -> Fleet:
    fleet = Fleet(hosts=200)
    fleet.backfill(lambda lines: None, now=LIVE - 2, hours=0.01)
    fleet.plan_incidents(LIVE)
    return fleet


def _incident(fleet: Fleet, kind: str) -> Incident:
    return next(i for i in fleet.incidents if i.kind == kind)


def _row(fleet: Fleet, name: str) -> int:
    return fleet.layout.names.index(name)


def test_every_kind_starts_soon_after_live_traffic(planned: Fleet) -> None:
    kinds = {i.kind: i for i in planned.incidents}
    assert set(kinds) == {"spike", "level_shift", "drift", "stopped"}
    for incident in kinds.values():
        assert LIVE - 40 - STOP_BEFORE_END * 10 <= incident.start_ts <= LIVE + 25
        assert incident.series and incident.description
    assert Fleet().incidents == []


def test_spike_is_five_to_ten_times_for_a_few_points(planned: Fleet) -> None:
    spike = _incident(planned, "spike")
    assert spike.series == ("hosts.web-017.cpu.user",)
    ts, values, _ = planned.host_frame(STEPS)
    _, normal, _ = Fleet(hosts=200).host_frame(STEPS)
    row = _row(planned, spike.series[0])
    hit = (ts >= spike.start_ts) & (ts < (spike.end_ts or 0))
    assert hit.sum() == 3
    assert np.all(values[row, hit] / normal[row, hit] >= 4.5)
    assert np.all(values[row, hit] <= 100)
    np.testing.assert_array_equal(values[row, ~hit], normal[row, ~hit])


def test_level_shift_on_checkout_latency_follows_a_checkout_deploy(planned: Fleet) -> None:
    shift = _incident(planned, "level_shift")
    deploys = planned.events_between(LIVE, shift.start_ts)
    assert [e["what"].split("#")[0] for e in deploys] == ["deploy checkout"]
    assert "service=checkout" in deploys[0]["tags"]
    first = int(np.ceil(shift.start_ts / 10))

    def mean_latency(steps: range) -> float:
        lines = planned.statsd_lines(np.array(list(steps)))
        return float(
            np.mean([float(ln.split()[1]) for ln in lines if ln.startswith(shift.series[0] + " ")])
        )

    assert (
        2.5 < mean_latency(range(first, first + 10)) / mean_latency(range(first - 10, first)) < 3.5
    )
    web = [ln for ln in planned.statsd_lines(np.array([first])) if ".web.latency.mean " in ln]
    normal = [ln for ln in Fleet().statsd_lines(np.array([first])) if ".web.latency.mean " in ln]
    assert web == normal


def test_drift_climbs_steadily(planned: Fleet) -> None:
    drift = _incident(planned, "drift")
    ts, values, _ = planned.host_frame(STEPS)
    _, normal, _ = Fleet(hosts=200).host_frame(STEPS)
    row = _row(planned, drift.series[0])
    after = ts >= drift.start_ts
    slope = np.polyfit(ts[after], values[row, after] - normal[row, after], 1)[0]
    assert slope == pytest.approx(DRIFT_PER_SECOND, rel=0.01)
    np.testing.assert_array_equal(values[row, ~after], normal[row, ~after])


def test_stopped_host_sends_nothing_after_it_stops(planned: Fleet) -> None:
    stopped = _incident(planned, "stopped")
    assert stopped.start_ts == LIVE - 3 - (STOP_BEFORE_END - 1) * 10  # silent before live
    host = stopped.series_glob.split(".")[1]
    for step in STEPS:
        lines = [ln for ln in planned.host_lines(np.array([step])) if f".{host}." in ln]
        assert len(lines) == (10 if step * 10 < stopped.start_ts else 0)
