import pytest

from opsradar.core import Event
from opsradar.detect import Episode
from opsradar.rank import EpisodeHistory, build_trends, family, nearest_deploy, size_help
from opsradar.store import FeedbackRule

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


def test_one_series_wavering_across_the_alarm_level_is_one_trend() -> None:
    """The same series and kind again soon after its last episode ended (the return from
    a block, alarmed by the value channels and ten minutes later by the likelihood
    stage) is one trend; the same kind half an hour later, or another kind, is not."""
    names = ["app.web.requests"]
    first = _ep(0, NOW - 2000, kind="recovery")  # ends at NOW - 1700
    again = _ep(0, NOW - 1100, kind="recovery")
    (t,) = build_trends([first, again], names, [], NOW)
    assert t.series == ("app.web.requests",)
    assert "on 2 series" not in t.sentence
    later = _ep(0, first.last + 1900, kind="recovery")
    assert len(build_trends([first, later], names, [], NOW)) == 2
    other = _ep(0, NOW - 1100, kind="spike")
    assert len(build_trends([first, other], names, [], NOW)) == 2


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


def test_a_recovery_reads_as_a_return_not_as_a_drop_below_usual() -> None:
    """An alarm at the end of an excursion carries the level the series held as expected:
    the sentence says where it came back from, not "down to 0.11x its usual level"."""
    ep = Episode(0, NOW - 300, NOW - 120, 1.0, 0.2, 98.8, 11.2, 1.0, 4, "recovery", False)
    (t,) = build_trends([ep], ["hosts.web-001.requests"], [], NOW)
    assert "back to 11.2 from 98.8" in t.sentence
    assert "recovery" in t.sentence and "usual level" not in t.sentence


def test_a_value_past_its_usual_range_names_the_edge_it_left() -> None:
    """An out_of_range episode carries the edge of the usual range as expected (a heap
    that stopped being collected): "above its usual range (up to 2,250), now 3,400" - not
    "1.5x its usual level", which would call the usual maximum the usual level."""
    ep = Episode(0, NOW - 900, NOW - 60, 1.0, 0.3, 2250.0, 3400.0, 20.0, 9, "out_of_range", True)
    (t,) = build_trends([ep], ["hosts.api-3.heap_mb"], [], NOW)
    assert "above its usual range (up to 2,250), now 3,400" in t.sentence
    assert "usual level" not in t.sentence and "out of range" in t.sentence
    low = Episode(0, NOW - 900, NOW - 60, 1.0, 0.3, 5.0, 0.0, 1.0, 9, "out_of_range", True)
    (t,) = build_trends([low], ["hosts.api-3.threads"], [], NOW)
    assert "below its usual range (down to 5), now 0" in t.sentence
    assert "beyond the edge of its usual range" in size_help(t)


@pytest.mark.parametrize(
    ("kind", "says"),
    [("unusual_run", "unusual for a stretch of points"), ("new_pattern", "has not before")],
)
def test_a_stretch_or_a_pattern_is_not_told_as_a_spike(kind: str, says: str) -> None:
    """Alarms of the likelihood and novelty stages, where no single value is far off, say
    what they saw - no "3.1x its usual level" for a value 0.4 spreads from its expectation."""
    ep = Episode(0, NOW - 300, NOW - 120, 0.9, 0.2, 4.2, 3.8, 1.0, 4, kind, False)
    (t,) = build_trends([ep], ["hosts.web-001.requests"], [], NOW)
    assert says in t.sentence and "now 3.8 against an expected 4.2 (" in t.sentence
    assert "usual level" not in t.sentence and kind.replace("_", " ") in t.sentence


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


def test_series_of_one_service_starting_together_are_one_trend() -> None:
    names = ["stats.timers.checkout.latency.mean", "hosts.checkout-001.cpu.user", "hosts.web-001.x"]
    episodes = [_ep(0, NOW - 300), _ep(1, NOW - 280, 0.8, "spike"), _ep(2, NOW - 290)]
    trends = build_trends(episodes, names, [], NOW)
    assert sorted(len(t.series) for t in trends) == [1, 2]
    apart = [_ep(0, NOW - 300), _ep(1, NOW - 200, 0.8, "spike")]
    assert len(build_trends(apart, names, [], NOW)) == 2


def test_a_metric_across_many_hosts_reads_as_hosts() -> None:
    names = [f"hosts.web-{i:03d}.cpu.user" for i in range(47)]
    trends = build_trends([_ep(i, NOW - 700 + i) for i in range(47)], names, [], NOW)
    assert len(trends) == 1
    assert "cpu.user on web-" in trends[0].sentence and " on 47 hosts" in trends[0].sentence
    assert trends[0].hosts == 47


def test_the_most_telling_statistic_leads_a_timer_family() -> None:
    stats = ("sum_squares_90", "count", "upper_90")
    names = [f"stats.timers.checkout.latency.{s}" for s in stats]
    trends = build_trends([_ep(i, NOW - 300, 0.99) for i in range(3)], names, [], NOW)
    assert trends[0].series[0].endswith("upper_90")
    assert trends[0].sentence.startswith("p90 latency of checkout 3.0× its usual level")


def test_rarity_lowers_a_series_that_often_misbehaves() -> None:
    names = ["app.flappy", "app.calm"]
    history = EpisodeHistory()
    history.add([("app.flappy", NOW - k * 3600, "spike") for k in range(1, 9)])
    trends = build_trends([_ep(0, NOW - 60), _ep(1, NOW - 60)], names, [], NOW, history=history)
    by_name = {t.series[0]: t for t in trends}
    assert by_name["app.calm"].severity.rarity == 1.0
    assert by_name["app.flappy"].severity.rarity == pytest.approx(1 / 3)
    assert trends[0].series == ("app.calm",)
    assert "first time this week" in by_name["app.calm"].sentence
    assert "9th time this week" in by_name["app.flappy"].sentence
    assert "flat at" not in by_name["app.flappy"].sentence


def _rule(
    scope: str, targets: tuple[str, ...], until: float | None = None, **kw: object
) -> FeedbackRule:
    return FeedbackRule(1, NOW - 10, "alice", "expected", scope, targets, until, **kw)  # type: ignore[arg-type]


def test_feedback_sets_a_trend_aside_at_once_and_undo_brings_it_back() -> None:
    names = ["stats.timers.checkout.latency.mean", "hosts.web-001.cpu.user"]
    episodes = [_ep(0, NOW - 300, 0.99), _ep(1, NOW - 300, 0.6, "spike")]
    before = build_trends(episodes, names, [], NOW)
    assert before[0].series[0] == names[0]
    for rule in (_rule("series", (names[0],)), _rule("family", ("stats.timers.checkout.latency",))):
        after = build_trends(episodes, names, [], NOW, rules=[rule])
        assert after[0].series[0] == names[1]
        muted = after[-1]
        assert muted.mute is not None and muted.mute.by == "alice" and muted.mute.rule_id == 1
        assert muted.severity.feedback < 0.1 and muted.id != before[0].id
    undone = _rule("series", (names[0],), undone_ts=NOW - 5, undone_by="bob")
    expired = _rule("series", (names[0],), until=NOW - 1)
    for rule in (undone, expired):
        assert [t.id for t in build_trends(episodes, names, [], NOW, rules=[rule])] == [
            t.id for t in before
        ]


def test_a_declared_change_neither_ranks_high_nor_lingers() -> None:
    names = ["stats.counters.web.cache.hits.count", "hosts.web-001.cpu.user"]
    deploy = Event(
        NOW - 400, "deploy web#1", ("deploy", "service=web"), "", 3, (("cache.hits", "up"),)
    )
    up = _ep(0, NOW - 300, 0.99)  # observed 300 > expected 100
    trends = build_trends([up, _ep(1, NOW - 200, 0.5, "spike")], names, [deploy], NOW)
    assert trends[0].series == (names[1],)
    assert trends[1].mute is not None and trends[1].mute.reason == "declared"
    assert "declared by deploy web#1" in trends[1].mute.text
    down = up._replace(observed=10.0)
    assert build_trends([down], names, [deploy], NOW)[0].mute is None
    ended = up._replace(open=False)
    assert build_trends([ended], names, [deploy], NOW) == []


def test_new_series_are_trends_tied_to_their_deploy() -> None:
    names = ["stats.counters.checkout.errors_5xx.count"]
    new = Episode(0, NOW - 120, NOW - 120, 0.9, 0.9, 0.0, 4.0, 1.0, 3, "new", True)
    deploy = Event(NOW - 200, "deploy checkout#7", ("deploy", "service=checkout"), "", 9)
    (trend,) = build_trends([new], names, [deploy], NOW)
    assert trend.kind == "new" and trend.deploy is not None and trend.deploy.id == 9
    assert trend.sentence.startswith(f"{names[0]} first appeared 2 min ago")
    assert "started 80 s after deploy checkout#7" in trend.sentence


def test_a_stop_is_not_grouped_with_a_blip_of_the_same_metric_elsewhere() -> None:
    names = ["hosts.auth-023.cpu.user", "hosts.auth-007.cpu.user"]
    stopped = Episode(0, NOW - 600, NOW, 1.0, 1.0, 5.0, 5.0, 1.0, 0, "stopped", True)
    blip = _ep(1, NOW - 590, 0.6, "spike")
    trends = build_trends([stopped, blip], names, [], NOW)
    assert sorted(t.kind for t in trends) == ["spike", "stopped"]
    assert all(len(t.series) == 1 for t in trends)


def test_blips_of_one_metric_minutes_apart_on_other_hosts_are_not_one_change() -> None:
    names = [f"hosts.api-{i:03d}.disk.used_pct" for i in range(4)]
    together = [_ep(i, NOW - 600 + 20 * i) for i in range(3)]  # one change reaching 3 hosts
    later = _ep(3, NOW - 600 + 300, 0.6, "spike")  # another host, five minutes on
    trends = build_trends([*together, later], names, [], NOW)
    assert sorted(len(t.series) for t in trends) == [1, 3]
