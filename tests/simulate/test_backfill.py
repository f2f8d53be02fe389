import itertools

from opsradar.simulate import Fleet
from opsradar.simulate._incidents import STOP_BEFORE_END

NOW = 1_700_000_000.0


def test_backfill_can_thin_old_history_to_every_nth_step() -> None:
    batches: list[list[str]] = []
    fleet = Fleet(hosts=2)
    full = fleet.backfill(batches.append, NOW, hours=1.0)
    stamps = [float(ln.split()[2]) for b in batches for ln in b if "web-001.cpu.user " in ln]
    assert len(stamps) == 360 and stamps[-1] == NOW
    batches.clear()
    third = Fleet(hosts=2).backfill(batches.append, NOW, hours=1.0, every=3)
    stamps = [float(ln.split()[2]) for b in batches for ln in b if "web-001.cpu.user " in ln]
    assert third == full // 3 and len(stamps) == 120 and stamps[-1] == NOW
    assert {b - a for a, b in itertools.pairwise(stamps)} == {30.0}


def test_the_stopped_host_misses_the_last_points_of_the_backfill() -> None:
    batches: list[list[str]] = []
    fleet = Fleet(hosts=200)
    fleet.backfill(batches.append, NOW, hours=0.5)
    stamps = [float(ln.split()[2]) for b in batches for ln in b if "auth-023.cpu.user " in ln]
    others = [float(ln.split()[2]) for b in batches for ln in b if "auth-022.cpu.user " in ln]
    assert others[-1] == NOW and stamps == others[:-STOP_BEFORE_END]
    fleet.plan_incidents(NOW + 5)
    stopped = next(i for i in fleet.incidents if i.kind == "stopped")
    assert (
        stopped.start_ts == NOW - (STOP_BEFORE_END - 1) * 10
        and stopped.series_glob == "hosts.auth-023.*"
    )
