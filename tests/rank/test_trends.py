from opsradar.core import Event
from opsradar.detect import Episode
from opsradar.rank import build_trends, family, nearest_deploy

NOW = 100_000.0


def _ep(slot: int, start: float, peak: float = 0.9, kind: str = "level_shift") -> Episode:
    return Episode(slot, start, start + 300, peak, peak, 100.0, 300.0, 10.0, 30, kind, True)


def test_families_group_timer_stats_and_numbered_hosts() -> None:
    assert family("stats.timers.checkout.latency.mean") == "stats.timers.checkout.latency"
    assert family("stats.timers.checkout.latency.upper_90") == "stats.timers.checkout.latency"
    assert family("hosts.web-001.cpu.user") == family("hosts.web-042.cpu.user")
    assert family("hosts.web-001.cpu.user") != family("hosts.api-001.cpu.user")


def test_one_trend_per_family_with_the_most_telling_series_first() -> None:
    names = [
        "stats.timers.checkout.latency.mean",
        "stats.timers.checkout.latency.upper_90",
        "hosts.web-017.cpu.user",
    ]
    episodes = [_ep(0, NOW - 600, 0.8), _ep(1, NOW - 590, 0.95), _ep(2, NOW - 100, 0.7, "spike")]
    trends = build_trends(episodes, names, [], NOW)
    assert len(trends) == 2
    top = trends[0]
    assert top.series == (
        "stats.timers.checkout.latency.upper_90",
        "stats.timers.checkout.latency.mean",
    )
    assert top.severity.breadth > trends[1].severity.breadth
    assert "3.0× its usual level" in top.sentence
    assert "on 2 series" in top.sentence


def test_episodes_far_apart_in_one_family_are_separate_trends() -> None:
    names = ["hosts.web-001.cpu.user", "hosts.web-002.cpu.user"]
    trends = build_trends([_ep(0, NOW - 5000), _ep(1, NOW - 100)], names, [], NOW)
    assert len(trends) == 2


def test_ordering_is_stable_for_unchanged_data() -> None:
    names = [f"hosts.h{i}x.m{i}" for i in range(30)]
    episodes = [_ep(i, NOW - 60, 0.9) for i in range(30)]
    first = [t.id for t in build_trends(episodes, names, [], NOW)]
    for _ in range(5):
        assert [t.id for t in build_trends(list(reversed(episodes)), names, [], NOW)] == first


def test_recency_decays_old_trends_below_new_ones() -> None:
    names = ["a.x", "b.y"]
    trends = build_trends([_ep(0, NOW - 20000, 0.99), _ep(1, NOW - 120, 0.8)], names, [], NOW)
    assert trends[0].series == ("b.y",)


def test_nearest_deploy_prefers_the_one_in_scope() -> None:
    events = [
        Event(NOW - 400, "deploy checkout#88", ("deploy", "service=checkout"), "", 1),
        Event(NOW - 200, "deploy search#12", ("deploy", "service=search"), "", 2),
        Event(NOW - 100, "config push", ("config",), "", 3),
    ]
    ref = nearest_deploy(NOW - 50, ["stats.timers.checkout.latency.mean"], events)
    assert ref is not None and ref.what == "deploy checkout#88" and ref.gap == 350
    ref = nearest_deploy(NOW - 50, ["hosts.db-001.disk.used"], events)
    assert ref is not None and ref.what == "deploy search#12"
    assert nearest_deploy(NOW - 1000, ["x"], events) is None


def test_trend_names_its_deploy_in_the_sentence() -> None:
    events = [Event(NOW - 720, "deploy checkout#8812", ("deploy", "service=checkout"), "", 7)]
    trends = build_trends([_ep(0, NOW - 600)], ["stats.timers.checkout.latency.mean"], events, NOW)
    assert trends[0].deploy is not None
    assert "started 2 min after deploy checkout#8812" in trends[0].sentence


def test_a_host_that_stops_is_one_trend_not_one_per_metric() -> None:
    names = [f"hosts.auth-023.{m}" for m in ("cpu.user", "cpu.system", "mem.used", "disk.io")]
    names.append("hosts.web-001.cpu.user")
    episodes = [
        Episode(i, NOW - 300 + i, NOW, 1.0, 1.0, 5.0, 5.0, 1.0, 0, "stopped", True)
        for i in range(4)
    ]
    episodes.append(_ep(4, NOW - 300, 0.9, "spike"))
    trends = build_trends(episodes, names, [], NOW)
    stopped = [t for t in trends if t.kind == "stopped"]
    assert len(stopped) == 1 and len(stopped[0].series) == 4
    assert stopped[0].family == "hosts.auth-023.*"
    assert stopped[0].sentence.startswith(
        "hosts.auth-023.* stopped reporting 5 min ago on 4 series"
    )
    assert len(trends) == 2


def test_a_short_silence_is_not_yet_a_stopped_trend() -> None:
    late = Episode(0, NOW - 50, NOW, 1.0, 1.0, 5.0, 5.0, 1.0, 0, "stopped", True)
    assert build_trends([late], ["hosts.db-001.cpu"], [], NOW) == []
    gone = late._replace(start=NOW - 600)
    assert len(build_trends([gone], ["hosts.db-001.cpu"], [], NOW)) == 1
