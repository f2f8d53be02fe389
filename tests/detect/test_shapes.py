"""Real failure shapes: each labelled synthetic anomaly is caught, its normal twin is not."""

from __future__ import annotations

import numpy as np
import pytest

from opsradar.detect import Engine, Episode, OpsradarDetector
from opsradar.detect import _kernel as K

from .synth import CASES, T0, noise, sparse_counts

LEARN = 400  # points before which nothing is judged (warm-up and first estimates)
# a leak shows once the heap passes its usual peak: within a collection period
CATCH_WITHIN = {"drift": 1000, "daily": 60, "weekly": 60, "flatline": 30, "leak": 120}
KINDS = {
    "spike": {"spike"},
    "dip": {"dip"},
    "level_shift": {"level_shift", "spike"},
    "variance": {"variance", "spike", "dip", "level_shift"},
    "drift": {"drift", "level_shift"},
    "daily": {"level_shift", "dip", "drift"},
    "weekly": {"dip", "level_shift"},
    "flatline": {"flatline"},
    "counter_reset": {"dip"},
    "irregular": {"spike"},
    "leak": {"out_of_range"},
}
# seasonal cases: a seasonal model is trusted once it has seen two full periods
JUDGE_FROM = {"daily": 3 * 288, "weekly": 2 * 7 * 144 + 144}


def _run(ts: np.ndarray, x: np.ndarray) -> tuple[Engine, np.ndarray]:
    eng = Engine()
    return eng, eng.score(np.zeros(len(x), np.int64), ts, x)


def _episodes_since(eng: Engine, ts: np.ndarray, since: float) -> list[Episode]:
    """Every episode of the series scored over ``ts`` that started at ``since`` or later."""
    return [e for e in eng.episodes(ts[-1], keep=1e12) if e.start >= since]


@pytest.mark.parametrize("name", sorted(CASES))
def test_anomaly_is_caught_early_with_the_right_kind(name: str) -> None:
    ts, x, onset = CASES[name](0, True)
    assert onset is not None
    eng, scores = _run(ts, x)
    window = slice(onset, onset + CATCH_WITHIN.get(name, 10))
    assert scores[window].max() >= 0.5, f"{name}: not caught"
    eps = _episodes_since(eng, ts, ts[onset])
    first = min(eps, key=lambda e: e.start)
    assert first.kind in KINDS[name]
    assert first.scale > 0 and np.isfinite(first.expected)


@pytest.mark.parametrize("name", sorted(CASES))
def test_normal_twin_is_not_flagged(name: str) -> None:
    ts, x, _ = CASES[name](0, False)
    _, scores = _run(ts, x)
    start = max(LEARN, JUDGE_FROM.get(name, 0))
    assert (scores[start:] >= 0.5).sum() == 0, np.flatnonzero(scores[start:] >= 0.5) + start


def test_monday_morning_peak_is_not_an_anomaly() -> None:
    """Weeks 3-5 of a business-hours series: Monday ramps are expected, the outage is not."""
    ts, x, onset = CASES["weekly"](0, True)
    _, scores = _run(ts, x)
    day = ((ts // 86400) + 3) % 7
    hour = (ts % 86400) / 3600
    monday_morning = (day == 0) & (hour >= 7) & (hour < 10)
    monday_morning[: JUDGE_FROM["weekly"]] = False
    assert monday_morning.sum() > 30
    assert scores[monday_morning].max() < 0.5
    assert scores[onset : onset + 60].max() >= 0.5


def test_sparse_counts_long_zero_runs_are_habit() -> None:
    ts, x, _ = sparse_counts(0)
    _, scores = _run(ts, x)
    assert (scores[LEARN:] >= 0.5).mean() < 0.002


def test_stopped_series_is_reported_with_kind_stopped() -> None:
    ts, x, _ = CASES["spike"](0, False)
    eng, _ = _run(ts, x)
    assert eng.stale(ts[-1] + 300.0).tolist() == []
    stopped = [e for e in eng.episodes(ts[-1] + 10 * 300.0) if e.kind == "stopped"]
    assert [(e.slot, e.open, e.start) for e in stopped] == [(0, True, ts[-1])]


def test_a_gap_alone_is_not_an_anomaly() -> None:
    ts, x, _ = CASES["irregular"](1, False)
    _, scores = _run(ts, x)
    after_gaps = [401, 901]
    assert scores[after_gaps].max() < 0.5


def test_runs_of_equal_low_counts_are_habit() -> None:
    """Low counts (a quiet night of a Poisson series) repeat values often: runs of equal
    counts are scored against the series' own repeat rate, not as a stuck gauge."""
    flat = 0
    n_judged = 0
    for seed in range(6):
        rng = np.random.default_rng(seed)
        ts = 1.7e9 + np.arange(8000) * 300.0
        lam = 0.5 + 10.0 * np.clip(np.sin(2 * np.pi * ts / 86400.0), 0.0, None) ** 2
        x = rng.poisson(lam).astype(float)
        eng, _ = _run(ts, x)
        eps = eng.episodes(ts[-1], keep=1e12)
        flat += sum(e.kind == "flatline" and e.start >= ts[LEARN] for e in eps)
        n_judged += len(x) - LEARN
    assert flat / n_judged < 1 / 5000


def _nightly_job(seed: int, days: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """Five-minute noise with a one-point spike at 02:10 every night (a cron job)."""
    ts = T0 + 300.0 * np.arange(days * 288)
    x = 100.0 + np.random.default_rng(seed).normal(0.0, 2.0, len(ts))
    x[(ts % 86400) == 2 * 3600 + 600] += 25.0
    return ts, x


def test_a_nightly_job_at_the_same_hour_stops_alarming() -> None:
    """A spike at the same time every night is the series' habit after the first night;
    the same spike at another hour is still an anomaly."""
    nightly_alarms = 0
    for seed in range(4):
        ts, x = _nightly_job(seed)
        night = np.flatnonzero((ts % 86400) == 2 * 3600 + 600)
        _, scores = _run(ts, x)
        assert scores[night[0]] >= 0.5  # the first night is news
        nightly_alarms += int((scores[night[2:]] >= 0.5).sum())
        ts2, x2 = ts.copy(), x.copy()
        odd = 8 * 288 + 15 * 12  # day 9, 15:00
        x2[odd] += 25.0
        _, scores2 = _run(ts2, x2)
        assert scores2[odd] >= 0.5, "the same spike at another hour must alarm"
    assert nightly_alarms <= 2  # out of 4 series x 8 later nights


def test_one_incident_does_not_hide_the_next_one_at_the_same_hour() -> None:
    """The recurrence memory learns habits, not incidents: a large outage at 14:00 does
    not make a second one at 14:00 the next day look normal."""
    ts = T0 + 300.0 * np.arange(6 * 288)
    x = noise(3, len(ts))
    first = 3 * 288 + 14 * 12
    second = first + 288
    x[first : first + 6] -= 60.0
    x[second : second + 6] -= 60.0
    _, scores = _run(ts, x)
    assert scores[first : first + 6].max() >= 0.5
    assert scores[second : second + 6].max() >= 0.5


def test_an_incident_is_not_discounted_by_its_own_beginning() -> None:
    """The recurrence memory discounts what this half-hour showed on *earlier days*. A
    sustained drop of 2 - 3 spreads builds its evidence over several points; when no
    earlier day was surprising at this hour, its first alarm comes exactly when it would
    with no recurrence memory at all. (When each point taught its half-hour at once, the
    incident's own first points discounted the next ones and the alarm waited for the
    next half-hour: 9 of these 24 came one to five points late.)"""

    def first_alarm(ts: np.ndarray, x: np.ndarray, at: int, **hp: float) -> int:
        eng = Engine(OpsradarDetector(**hp))
        hits = np.flatnonzero(eng.score(np.zeros(len(x), np.int64), ts, x)[at:] >= 0.5)
        return int(hits[0]) if len(hits) else -1

    ts = T0 + 300.0 * np.arange(5 * 288)
    onset = 4 * 288 + 14 * 12  # day 5, 14:00
    for size in (4.0, 5.0, 6.0):
        for seed in range(8):
            x = noise(seed, len(ts))
            x[onset : onset + 36] -= size
            got = first_alarm(ts, x, onset)
            assert 0 <= got < 36, (size, seed)
            assert got == first_alarm(ts, x, onset, recur_base=1e9), (size, seed)


def test_a_saw_tooth_heap_is_not_an_unusual_run() -> None:
    """A heap that grows and is collected every 1 - 22 hours (eight periods, at no fixed
    hour): each collection leaves the fast level above the value for a stretch (drops are
    followed slowly), so the point surprise comes in runs - the series' habit. The
    likelihood stage allows for its input's autocorrelation; taking the points as
    independent, these eight series raised 15 `unusual_run` episodes in 15,000 points."""
    runs = 0
    for seed in range(8):
        rng = np.random.default_rng(seed)
        ts = T0 + 300.0 * np.arange(10 * 288)
        x = 500.0 + 2.0 * (np.arange(len(ts)) % (60 + 30 * seed)) + rng.normal(0, 2.0, len(ts))
        eng, _ = _run(ts, x)
        eps = _episodes_since(eng, ts, ts[1000])
        runs += sum(e.kind == "unusual_run" for e in eps)
    assert runs <= 5


def test_every_context_within_the_grid_has_a_bit_of_its_own() -> None:
    """The novelty table never hides a new context behind an old one's bit: a series
    that visits every (previous two, current) triple of the grid's 8 levels - a de Bruijn
    sequence, each triple once - sets exactly 8 x 8 pair bits and 8 x 8 x 8 triple bits.
    Hashed into the whole 8,192-bit table, these 576 contexts set 570 bits - six new
    contexts read as already seen - and which contexts collided moved NAB by up to 1.0
    with the hash seed alone."""
    levels = K.NV_LEVELS

    def de_bruijn(k: int, n: int) -> list[int]:
        a, seq = [0] * k * n, []

        def db(t: int, p: int) -> None:
            if t > n:
                if n % p == 0:
                    seq.extend(a[1 : p + 1])
            else:
                a[t] = a[t - p]
                db(t + 1, p)
                for j in range(a[t - p] + 1, k):
                    a[t] = j
                    db(t + 1, t)

        db(1, 1)
        return seq

    walk = de_bruijn(levels, 3)
    assert len(walk) == levels**3
    centre = np.arange(levels) + 0.5  # the grid spans [0, 8): level i holds [i, i + 1)
    warm = np.concatenate([[0.0, float(levels)], np.tile(centre, 40)])[: int(K.NV_MIN_N) + 2]
    x = np.concatenate([warm, centre[walk + walk[:2]]])
    ts = T0 + 300.0 * np.arange(len(x))
    eng, _ = _run(ts, x)
    table = eng.state_dict()["detector.novelty"][0]
    assert sum(bin(int(w)).count("1") for w in table) == levels**2 + levels**3


def test_the_return_from_a_block_is_a_recovery_at_any_time_of_day() -> None:
    """A half-hour block 90 spreads high, a point a minute, then the return: whichever
    channel notices the return first - the point channel, or the shift, drift or
    variance channel measuring the fast level that is still catching up - it is told as
    a recovery. Before, the kind was whichever channel led: at some minutes of the
    half-hour (the time-of-day memory discounts differently) the return was a
    "variance" change."""
    for offset in range(0, 1800, 60):
        x = 10.0 + np.random.default_rng(1).normal(0.0, 1.0, 3000)
        x[2900:2930] += 90.0
        ts = T0 + offset + 60.0 * np.arange(3000)
        eng, _ = _run(ts, x)
        after = [e.kind for e in _episodes_since(eng, ts, ts[2930])]
        assert after and after[0] == "recovery", (offset, after)


def test_the_time_of_day_memory_fades_with_time_not_with_points() -> None:
    """An outage at 14:00 on day 1 is remembered by the 14:00 half-hour, fading 0.25 a
    day. A twin of the series that does not report between 13:30 and 14:30 on days 2 -
    14 remembers it exactly as faded on day 15. (It faded by the intervals of the points
    that landed in the half-hour, so the silent twin still held the whole peak - 8, not
    4.5 - and hid a smaller incident at 14:00 two weeks later.)"""
    ts = T0 + 300.0 * np.arange(15 * 288)
    x = noise(2, len(ts))
    outage = (ts >= T0 + 86400 + 14 * 3600) & (ts < T0 + 86400 + 14.5 * 3600)
    x[outage] -= 60.0
    hour, day = (ts % 86400) / 3600, (ts - T0) // 86400
    silent = (hour >= 13.5) & (hour < 14.5) & (day >= 2)
    then = T0 + 15 * 86400 + 14 * 3600
    bucket = K.N_PEAK + int((then % 86400) // 1800)
    fade = 0.25 / K.DAY
    remembered = []
    for keep in (np.ones(len(ts), bool), ~silent):
        det = OpsradarDetector()
        det.score(np.zeros(keep.sum(), np.int64), ts[keep], x[keep])
        seasonal = det.state_dict()["seasonal"]
        remembered.append(K._recent_peak(seasonal, 0, bucket, then, fade))
    assert remembered[0] == pytest.approx(remembered[1])
    assert remembered[0] == pytest.approx(8.0 - 14 * 0.25, abs=0.1)  # the cap, 14 days on


def test_the_warm_up_teaches_the_time_of_day_memory_nothing() -> None:
    """A burst in a series' first points (its warm-up: nothing is scored yet, the tails
    have learned nothing) is not a habit of that hour. It taught its half-hour the capped
    peak, and four days later a spike of 7.5 spreads at the same hour was discounted below
    the alarm level in 6 of these 8 series."""
    ts = T0 + 300.0 * np.arange(5 * 288)
    later = 4 * 288 + 8  # day 5, 00:40
    bucket = K.N_PEAK + int((ts[8] % 86400) // 1800)
    for seed in range(8):
        x = noise(seed, len(ts))
        x[8:11] += 40.0  # 00:40 - 00:50 on the first day, within the 20-point warm-up
        x[later] += 15.0
        det = OpsradarDetector()
        eng = Engine(det)
        eng.score(np.zeros(later, np.int64), ts[:later], x[:later])
        peak = K._recent_peak(det.state_dict()["seasonal"], 0, bucket, ts[later], 0.25 / K.DAY)
        assert peak <= 3.0, seed  # at most the base: no habit at this hour
        scores = eng.score(np.zeros(len(x) - later, np.int64), ts[later:], x[later:])
        assert scores[0] >= 0.5, seed


def test_a_habit_that_moves_across_the_half_hour_boundary_is_still_a_habit() -> None:
    """A nightly job (a one-point spike of 40 spreads) at 02:55 for six nights runs at
    03:05 on the seventh - or the other way round: the next half-hour's memory of it
    counts, a little less, so it is still the series' habit (all 16 alarmed when each
    half-hour knew only its own). The same spike at 15:05 that night still alarms."""
    moved = control = 0
    for first, then in ((2 * 3600 + 3300, 3 * 3600 + 300), (3 * 3600 + 300, 2 * 3600 + 3300)):
        for seed in range(8):
            ts = T0 + 300.0 * np.arange(8 * 288)
            x = 100.0 + np.random.default_rng(seed).normal(0.0, 2.0, len(ts))
            tod, day = ts % 86400, (ts - T0) // 86400
            x[(tod == first) & (day < 6)] += 80.0
            for at, count in ((then, True), (15 * 3600 + 300, False)):
                y = x.copy()
                night = int(np.flatnonzero((tod == at) & (day == 6))[0])
                y[night] += 80.0
                _, scores = _run(ts, y)
                if count:
                    moved += scores[night] >= 0.5
                else:
                    control += scores[night] >= 0.5
    assert moved <= 2
    assert control >= 14


def test_an_alarm_in_the_previous_half_hour_does_not_discount_this_one() -> None:
    """The neighbouring half-hour's memory counts what *earlier days* taught it: an alarm
    at 13:55 today and a spike at 14:10 - the 14:10 score is the one a detector without
    the time-of-day memory gives (with today's 13:55 in the memory, all eight were 0.375,
    below the alarm level)."""
    ts = T0 + 10.0 * np.arange(int(2.7 * 8640))
    first = 8640 + (13 * 3600 + 55 * 60) // 10  # day 2, 13:55
    then = 8640 + (14 * 3600 + 10 * 60) // 10  # 14:10
    for seed in range(8):
        x = 100.0 + np.random.default_rng(seed).normal(0.0, 2.0, len(ts))
        x[first] += 40.0
        x[then] += 16.0
        got = [
            Engine(OpsradarDetector(**hp)).score(np.zeros(len(x), np.int64), ts, x)[then]
            for hp in ({}, {"recur_base": 1e9})
        ]
        assert got[0] == got[1], seed


def _spiky_hourly(seed: int, record: float) -> tuple[np.ndarray, np.ndarray]:
    """Hourly, heavy-tailed spiky series (an ad-exchange price): spikes of several times
    the level are its normal; at point 900, ``record`` times the highest spike so far."""
    rng = np.random.default_rng(seed)
    n = 1200
    ts = T0 + 3600.0 * np.arange(n)
    x = 0.12 + 0.01 * rng.standard_normal(n)
    spikes = rng.random(n) < 0.03
    spikes[840:] = False  # calm before the record (no refractory period running)
    x[spikes] += 0.05 * rng.pareto(3.0, spikes.sum())
    x[900] = 0.12 + record * (x[:900].max() - 0.12)
    return ts, x


def test_a_new_record_far_beyond_the_old_one_is_caught() -> None:
    """On a series whose spikes are its normal a residual alone is only moderately rare;
    a spike twice as high above the level as the highest so far is an anomaly, and
    scored as one."""
    strong = sum(_run(*_spiky_hourly(seed, 2.0))[1][900] >= 0.9 for seed in range(8))
    assert strong >= 7


def test_a_record_forty_percent_beyond_the_old_one_is_an_alarm() -> None:
    """The extreme channel scores 15 (``-log10 p``) per unit of height beyond a 20 %
    margin, so a spike 1.4 times as high as the highest so far is an alarm. At 10 per
    unit, 6 of these 8 were; NAB is flat between 8 and 15 (72.56 - 72.61) and opsbench
    gains +0.45 standard on average over eight seeds (docs/detection.md, method 10)."""
    assert all(_run(*_spiky_hourly(seed, 1.4))[1][900] >= 0.5 for seed in range(8))


def test_the_fast_level_adopts_a_rise_at_once_and_follows_a_drop() -> None:
    """Three outliers in a row above the fast level make it adopt the new level; a drop
    is followed at the clipped rate only (drops mostly come back: a collection, a failed
    scrape), so the return from it is not a spike. Both judges prefer it (kernel comment)."""
    for sign in (1.0, -1.0):
        x = noise(3, 1005)
        x[1000:] += sign * 40.0  # 20 spreads
        det = Engine().detector
        det.score(np.zeros(1005, np.int64), T0 + 300.0 * np.arange(1005), x)
        lag = abs(det._S[0, K.LF] - (100.0 + sign * 40.0))  # the fast level after 5 points
        if sign > 0:
            assert lag < 6.0, lag  # within 3 spreads of the new level
        else:
            assert lag > 20.0, lag  # still on its way down


def test_a_first_zero_in_an_always_positive_series_is_caught() -> None:
    """Request latency (lognormal, a heavy right tail) that reads 0 ms once: barely
    beyond its lowest values in absolute terms, but a positive series at zero for the
    first time (a broken probe, no traffic) - a dip. A count that is often zero, and a
    latency that has been zero before, are not flagged for it."""
    caught = 0
    for seed in range(6):
        rng = np.random.default_rng(seed)
        x = rng.lognormal(3.5, 0.5, 2000)
        x[1500] = 0.0
        eng, scores = _run(T0 + 60.0 * np.arange(2000), x)
        caught += scores[1500] >= 0.5
        (ep,) = [e for e in eng.episodes(T0 + 60.0 * 1999, keep=1e12) if e.start == T0 + 90000]
        assert ep.kind == "dip" and ep.observed == 0.0
    assert caught == 6
    rng = np.random.default_rng(9)
    x = rng.lognormal(3.5, 0.5, 2000)
    x[[200, 900, 1500]] = 0.0  # zero is not new by the third time
    _, scores = _run(T0 + 60.0 * np.arange(2000), x)
    assert scores[1500] < 0.5
    counts = np.random.default_rng(1).poisson(3.0, 2000).astype(float)  # 5 % are zero
    _, scores = _run(T0 + 60.0 * np.arange(2000), counts)
    assert (scores[LEARN:] >= 0.5).sum() == 0
    # a gauge whose usual spread reaches down to zero (a temperature of 1.5 +- 1 degrees
    # that has not yet read 0): zero is not far from its usual level, so it is no event
    near = np.maximum(np.random.default_rng(2).normal(1.5, 1.0, 2000), 0.05)
    near[1500] = 0.0
    _, scores = _run(T0 + 60.0 * np.arange(2000), near)
    assert scores[1500] < 0.5


def test_the_morning_ramp_of_a_young_series_is_not_a_drift() -> None:
    """A series seen for less than a day cannot tell a slow ramp from its daily cycle:
    eight hours of a morning rise (10-second samples, like a new host's load) raise no
    drift alarm."""
    ts = T0 + 3 * 3600.0 + 10.0 * np.arange(8 * 360)
    hour = (ts % 86400) / 3600
    level = 2.0 * (1.0 + 0.4 * np.sin(2 * np.pi * (hour - 7.5) / 24))
    drifts = 0
    for seed in range(4):
        x = level * (1.0 + 0.05 * np.random.default_rng(seed).standard_normal(len(ts)))
        eng, _ = _run(ts, x)
        drifts += sum(e.kind == "drift" for e in eng.episodes(ts[-1], keep=1e12))
    assert drifts == 0


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_the_end_of_an_excursion_is_a_recovery_not_a_dip(sign: float) -> None:
    """A block of high (or low) values that the fast level follows, then a return to the
    usual level. No episode may explain the return as a dip (spike) from the level the
    block held - an on-call reader must not see "dip, expected 99" when the series is
    back at its usual 10: it is part of the block's own episode, or a recovery from that
    level. A plain one-point dip on the same series is still a dip from its usual level."""
    ts = T0 + 300.0 * np.arange(3000)
    x = 10.0 + np.random.default_rng(1).normal(0.0, 1.0, len(ts))
    x[2000:2030] += sign * 90.0
    x[1500] -= 12.0
    eng, _ = _run(ts, x)
    eps = {round((e.start - T0) / 300.0): e for e in eng.episodes(ts[-1], keep=1e12)}
    block = [e for k, e in eps.items() if 2000 <= k < 2100]
    assert block and all(e.kind != "recovery" or e.start > ts[2029] for e in block)
    for e in block:
        if e.kind in ("spike", "dip", "level_shift"):
            assert abs(e.expected - 10.0) < 5.0, e  # measured from the usual level
        else:
            assert e.kind == "recovery", e
            assert abs(e.expected - (10.0 + sign * 90.0)) < 10.0  # the level it held
            assert abs(e.observed - 10.0) < 5.0  # where it is now
    if sign > 0:  # here the block's own episode ends while it lasts: the return is its own
        assert [e.kind for e in block] == ["spike", "recovery"]
    assert eps[1500].kind == "dip" and abs(eps[1500].expected - 10.0) < 2.0


def test_a_new_pattern_of_old_values_is_told_as_one() -> None:
    """Values alternate 0, 10, 0, 10 ... then 0, 0, 10, 10 ...: no value is new or far
    from its expectation, the order is. The novelty stage alarms first, the likelihood
    stage (a run of moderately surprising values) peaks a few points later, and the
    episode says so - a new pattern or an unusual run, not a spike or dip that no value
    channel saw."""
    n = 3000
    x = np.tile([0.0, 10.0], n // 2)
    x[2000:] = np.tile([0.0, 0.0, 10.0, 10.0], n // 4)[2000:]
    x += np.random.default_rng(0).normal(0.0, 0.3, n)
    ts = T0 + 60.0 * np.arange(n)
    eng, scores = _run(ts, x)
    assert scores[2000:2010].max() >= 0.5
    first = min(_episodes_since(eng, ts, ts[2000]), key=lambda e: e.start)
    assert first.kind in {"new_pattern", "unusual_run"}


def test_a_disk_that_fills_again_after_a_clean_up_is_not_new() -> None:
    """A disk fills slowly, is cleaned up, and fills again through the same values. The
    clean-up may alarm; neither fill does. The novelty stage's grid is fixed after the
    first 300 points, so the second fill repeats contexts the first one taught; on a grid
    that widened with every new high, the second fill met a new level every ~250 points
    and alarmed at each (6 - 7 alarms). Reaching the old top again is left out: that is
    the extreme channel's judgement of a record from 2,000 points ago."""
    for seed in range(3):
        rng = np.random.default_rng(seed)
        t = np.arange(4000)
        x = 50.0 + (t % 2000) * 0.015 + rng.normal(0.0, 0.05, len(t))  # 50 -> 80, twice
        _, scores = _run(T0 + 60.0 * t, x)
        alarms = np.flatnonzero(scores >= 0.5)
        assert not [i for i in alarms if i < 2000 or 2100 <= i < 3800], (seed, alarms)


def test_spikes_at_random_times_as_a_habit_are_not_a_new_pattern() -> None:
    """A job that spikes the series by 15 spreads at random times, on 3 % of the points:
    after a while every context it makes has been seen, and the odd new one (two spikes
    in a row, a spike a little higher than before) is one point whose contexts are new.
    Alone, that is z = 3 under the novelty stage's spread floor (it was z = 7.5, p ~
    1e-12, before): 10 new-pattern episodes in 22,000 points became at most 2."""
    found = 0
    for seed in range(4):
        rng = np.random.default_rng(seed)
        x = 20.0 + rng.normal(0.0, 1.0, 6000)
        x[rng.random(6000) < 0.03] += 15.0
        ts = T0 + 60.0 * np.arange(6000)
        eng, _ = _run(ts, x)
        eps = eng.episodes(ts[-1], keep=1e12)
        found += sum(1 for e in eps if e.start >= ts[500] and e.kind == "new_pattern")
    assert found <= 2, found


def test_a_weekly_peak_sampled_every_minute_is_in_range() -> None:
    """Monday's traffic peaks 60 % higher than other days', every week, sampled every
    minute. The extreme channel's records fade per five minutes of the series' time:
    fading per point, last Monday's peak was half forgotten by this Monday, and every
    Monday after the first was "above its usual range" (7 episodes in weeks 2 - 4)."""
    n = 29 * 1440
    ts = T0 + 60.0 * np.arange(n)
    hour = (ts % 86400) / 3600
    monday = ((ts // 86400) + 3) % 7 == 0
    x = 100 + 40 * np.sin(2 * np.pi * (hour - 9) / 24) * np.where(monday, 1.6, 1.0)
    x += np.random.default_rng(0).normal(0, 3, n)
    eng, _ = _run(ts, x)
    eps = _episodes_since(eng, ts, ts[0] + 8 * 86400)
    assert not [e for e in eps if e.kind == "out_of_range"], eps
