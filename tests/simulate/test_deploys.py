import itertools

from opsradar.simulate import DEPLOY_PERIOD, Fleet

NOW = 1_700_000_000.0


def test_about_nine_deploys_in_six_hours() -> None:
    events = Fleet().events_between(NOW - 6 * 3600, NOW)
    assert 8 <= len(events) <= 10
    whens = [e["when"] for e in events]
    assert whens == sorted(whens)
    gaps = [b - a for a, b in itertools.pairwise(whens)]
    assert min(gaps) > 0.5 * DEPLOY_PERIOD and max(gaps) < 1.5 * DEPLOY_PERIOD
    for event in events:
        assert set(event) == {"what", "tags", "when", "data"}
        assert event["what"].startswith("deploy ") and "#" in event["what"]
        service = event["what"].split()[1].split("#")[0]
        assert event["tags"] == ["deploy", f"service={service}"]


def test_windows_split_anywhere_list_the_same_deploys() -> None:
    fleet = Fleet(seed=3)
    whole = fleet.events_between(NOW, NOW + 86400)
    halves = fleet.events_between(NOW, NOW + 40_000) + fleet.events_between(
        NOW + 40_000, NOW + 86400
    )
    assert whole == halves
    assert whole == Fleet(seed=3).events_between(NOW, NOW + 86400)
    assert whole != Fleet(seed=4).events_between(NOW, NOW + 86400)


def test_backfill_hands_past_deploys_to_send_events() -> None:
    got: list[dict[str, object]] = []
    fleet = Fleet(hosts=2)
    fleet.backfill(lambda lines: None, NOW, hours=2.0, send_events=got.extend)
    assert got == fleet.events_between(NOW - 7200, NOW) and len(got) >= 2
