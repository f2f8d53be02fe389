"""What people told opsradar, and what it remembers for ranking, in its own DuckDB file.

* ``feedback``: "expected" / "not interesting" verdicts on a series or a family, for a time,
  with who said it and when, and who undid it and when (the audit list never forgets).
* ``visits``: what each viewer's board showed at their last visits ("since you last looked").
* ``episodes``: when each series had anomalies (how rare this one is in its own history).

Kept apart from the points file so that ranking memory never contends with point writes.
"""

from __future__ import annotations

import dataclasses
import json
import threading
from dataclasses import dataclass
from pathlib import Path

import duckdb

from opsradar.core import InputError, NotFound, StoreError

FEEDBACK_FILE = "feedback.duckdb"
VERDICTS = ("expected", "not_interesting")
SCOPES = ("series", "family")

_SCHEMA = """
CREATE SEQUENCE IF NOT EXISTS feedback_ids START 1;
CREATE TABLE IF NOT EXISTS feedback (id INTEGER PRIMARY KEY DEFAULT nextval('feedback_ids'),
    ts DOUBLE NOT NULL, who VARCHAR NOT NULL, verdict VARCHAR NOT NULL, scope VARCHAR NOT NULL,
    targets VARCHAR NOT NULL, until DOUBLE, trend VARCHAR NOT NULL DEFAULT '',
    note VARCHAR NOT NULL DEFAULT '', undone_ts DOUBLE, undone_by VARCHAR);
CREATE TABLE IF NOT EXISTS visits (viewer VARCHAR NOT NULL, ts DOUBLE NOT NULL,
    snapshot VARCHAR NOT NULL);
CREATE TABLE IF NOT EXISTS episodes (name VARCHAR NOT NULL, start DOUBLE NOT NULL,
    kind VARCHAR NOT NULL);
"""


@dataclass(frozen=True, slots=True)
class FeedbackRule:
    """One verdict. ``until`` None means forever; ``undone_ts`` set means it no longer applies."""

    id: int
    ts: float
    who: str
    verdict: str  # expected | not_interesting
    scope: str  # series | family
    targets: tuple[str, ...]  # series names, or families (see rank.family)
    until: float | None
    trend: str = ""
    note: str = ""
    undone_ts: float | None = None
    undone_by: str | None = None

    def active(self, now: float) -> bool:
        return self.undone_ts is None and (self.until is None or now < self.until)


@dataclass(frozen=True, slots=True)
class Visit:
    viewer: str
    ts: float
    snapshot: dict[str, list[float]]  # trend id -> [severity, series count, deviation]


class FeedbackLog:
    """Feedback, visits and episode history. Thread-safe; ``path=None`` keeps it in memory."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = None if path is None else Path(path)
        self._lock = threading.Lock()
        try:
            self._con = duckdb.connect(":memory:" if path is None else str(path))
            self._con.execute(_SCHEMA)
        except duckdb.Error as exc:
            raise StoreError(f"cannot open feedback store {path}: {exc}") from exc
        self._rules: list[FeedbackRule] | None = None  # cache, dropped on every change

    def close(self) -> None:
        with self._lock:
            self._con.close()

    def _run(self, sql: str, params: list[object]) -> list[tuple[object, ...]]:
        with self._lock:
            try:
                return self._con.execute(sql, params).fetchall()
            except duckdb.Error as exc:
                raise StoreError(f"feedback store: {exc}") from exc

    # -- feedback ---------------------------------------------------------------------------
    def add(self, rule: FeedbackRule) -> FeedbackRule:
        if rule.verdict not in VERDICTS:
            raise InputError(f"'verdict' must be one of {', '.join(VERDICTS)}")
        if rule.scope not in SCOPES:
            raise InputError(f"'scope' must be one of {', '.join(SCOPES)}")
        if not rule.targets:
            raise InputError("feedback must name at least one series or family")
        rows = self._run(
            "INSERT INTO feedback (ts, who, verdict, scope, targets, until, trend, note) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            [rule.ts, rule.who, rule.verdict, rule.scope, json.dumps(list(rule.targets)),
             rule.until, rule.trend, rule.note],
        )  # fmt: skip
        self._rules = None
        return dataclasses.replace(rule, id=int(str(rows[0][0])))

    def undo(self, rule_id: int, who: str, now: float) -> FeedbackRule:
        rows = self._run(
            "UPDATE feedback SET undone_ts = ?, undone_by = ? WHERE id = ? AND undone_ts IS NULL "
            "RETURNING id",
            [now, who, rule_id],
        )
        self._rules = None
        if not rows and self.get(rule_id).undone_ts is not None:
            raise InputError(f"feedback {rule_id} was already undone")
        return self.get(rule_id)

    def get(self, rule_id: int) -> FeedbackRule:
        for rule in self.rules():
            if rule.id == rule_id:
                return rule
        raise NotFound(f"no feedback with id {rule_id}")

    def rules(self) -> list[FeedbackRule]:
        """Every verdict ever given, newest first (the audit list)."""
        cached = self._rules
        if cached is not None:
            return cached
        rows = self._run(
            "SELECT id, ts, who, verdict, scope, targets, until, trend, note, undone_ts, "
            "undone_by FROM feedback ORDER BY id DESC",
            [],
        )
        rules = [_rule(row) for row in rows]
        self._rules = rules
        return rules

    def active(self, now: float) -> list[FeedbackRule]:
        return [r for r in self.rules() if r.active(now)]

    # -- visits -----------------------------------------------------------------------------
    def visits(self, viewer: str, limit: int = 2) -> list[Visit]:
        """The viewer's latest visits, newest first."""
        rows = self._run(
            "SELECT ts, snapshot FROM visits WHERE viewer = ? ORDER BY ts DESC LIMIT ?",
            [viewer, limit],
        )
        return [Visit(viewer, float(ts), json.loads(str(snap))) for ts, snap in rows]  # type: ignore[arg-type]

    def record_visit(
        self,
        viewer: str,
        ts: float,
        snapshot: dict[str, list[float]],
        replace_ts: float | None = None,
    ) -> None:
        """Record a visit, or with ``replace_ts`` extend the visit that started then."""
        if replace_ts is not None:
            self._run(
                "UPDATE visits SET ts = ?, snapshot = ? WHERE viewer = ? AND ts = ?",
                [ts, json.dumps(snapshot), viewer, replace_ts],
            )
            return
        self._run("INSERT INTO visits VALUES (?, ?, ?)", [viewer, ts, json.dumps(snapshot)])
        self._run(  # keep the last few visits per viewer
            "DELETE FROM visits WHERE viewer = ? AND ts < (SELECT min(ts) FROM (SELECT ts FROM "
            "visits WHERE viewer = ? ORDER BY ts DESC LIMIT 5))",
            [viewer, viewer],
        )

    # -- episode history --------------------------------------------------------------------
    def record_episodes(self, rows: list[tuple[str, float, str]]) -> None:
        if rows:
            with self._lock:
                try:
                    self._con.executemany("INSERT INTO episodes VALUES (?, ?, ?)", rows)
                except duckdb.Error as exc:
                    raise StoreError(f"feedback store: {exc}") from exc

    def episode_history(self, since: float) -> list[tuple[str, float, str]]:
        rows = self._run("SELECT name, start, kind FROM episodes WHERE start >= ?", [since])
        return [(str(n), float(s), str(k)) for n, s, k in rows]  # type: ignore[arg-type]


def _rule(row: tuple[object, ...]) -> FeedbackRule:
    rule_id, ts, who, verdict, scope, targets, until, trend, note, undone_ts, undone_by = row
    return FeedbackRule(
        id=int(str(rule_id)),
        ts=float(str(ts)),
        who=str(who),
        verdict=str(verdict),
        scope=str(scope),
        targets=tuple(json.loads(str(targets))),
        until=None if until is None else float(str(until)),
        trend=str(trend),
        note=str(note),
        undone_ts=None if undone_ts is None else float(str(undone_ts)),
        undone_by=None if undone_by is None else str(undone_by),
    )
