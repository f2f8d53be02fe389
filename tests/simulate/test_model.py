import numpy as np

from opsradar.simulate import HOST_METRICS, Fleet

DAY_STEPS = np.arange(170_000_000, 170_000_000 + 8640, 30, dtype=np.int64)  # a day, 5-min steps


def test_layout_has_ten_metrics_per_host_spread_over_services() -> None:
    fleet = Fleet()
    assert len(fleet.layout.hosts) == 200
    assert len(fleet.layout.names) == 2000
    assert "web-017" in fleet.layout.hosts
    assert {h.rsplit("-", 1)[0] for h in fleet.layout.hosts} == set(fleet.services)
    assert fleet.layout.names[:2] == ("hosts.web-001.cpu.user", "hosts.web-001.cpu.system")
    assert len(HOST_METRICS) == 10


def test_same_seed_same_data_other_seed_other_data() -> None:
    steps = np.arange(170_000_000, 170_000_020, dtype=np.int64)
    a, b, c = Fleet(seed=7, hosts=20), Fleet(seed=7, hosts=20), Fleet(seed=8, hosts=20)
    assert a.host_lines(steps) == b.host_lines(steps)
    assert a.statsd_lines(steps) == b.statsd_lines(steps)
    assert a.host_lines(steps) != c.host_lines(steps)


def test_a_step_has_the_same_values_however_it_is_generated() -> None:
    fleet = Fleet(hosts=10)
    steps = np.arange(170_000_000, 170_000_010, dtype=np.int64)
    together = fleet.host_lines(steps)
    one_by_one = [line for s in steps for line in fleet.host_lines(np.array([s]))]
    assert together == one_by_one


def test_normal_series_follow_the_day_with_bounded_noise() -> None:
    fleet = Fleet(hosts=12)
    ts, values, sent = fleet.host_frame(DAY_STEPS)
    assert sent.all()
    row = fleet.layout.row("web-001", "cpu.user")
    hour = (ts % 86400) / 3600
    afternoon = values[row, (hour > 12) & (hour < 15)].mean()
    night = values[row, (hour > 0) & (hour < 3)].mean()
    assert afternoon > 1.5 * night
    relative = values / fleet.hosts.level(ts) - 1.0
    assert np.all(np.abs(relative) <= 3 * fleet.hosts.noise[:, None] + 1e-9)
    assert 0.8 < relative[row].std() / fleet.hosts.noise[row] < 1.2


def test_values_stay_within_physical_limits() -> None:
    fleet = Fleet(hosts=30)
    _, values, _ = fleet.host_frame(DAY_STEPS)
    assert values.min() >= 0
    pct = [i for i, n in enumerate(fleet.layout.names) if n.endswith(("pct", "cpu.user"))]
    assert values[pct].max() <= 100


def test_graphite_lines_are_well_formed() -> None:
    fleet = Fleet(hosts=3)
    lines = fleet.host_lines(np.array([170_000_000, 170_000_001]))
    assert len(lines) == 60
    for line in lines:
        name, value, ts = line.rstrip("\n").split(" ")
        assert line.endswith("\n") and name.startswith("hosts.")
        assert float(value) >= 0 and ts in ("1700000000", "1700000010")
