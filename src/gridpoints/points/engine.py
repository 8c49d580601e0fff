"""Scoring verified events into the ledger by the rule sets in force.

Each event is scored in one transaction that writes its entries and marks it scored; every
entry has a unique key (event, rule set version, rule), so a second run of the same work,
by another worker or after a crash, writes nothing. A revoked event is answered by entries
reversing the ones its verification gave. Caps per quarter and year count what the ledger
already holds for the member and rule; scoring is serialised per member (PostgreSQL advisory
lock) so that two workers cannot both take the last points under a cap.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gridpoints.clock import quarter_of, utcnow, zone
from gridpoints.db import sql
from gridpoints.db.engine import is_postgres
from gridpoints.db.transactions import writing
from gridpoints.org.paths import covers
from gridpoints.points.rules import Rule, RuleSet
from gridpoints.settings import Settings

# pg_advisory_xact_lock(namespace, member): scoring one member at a time ("pt").
_MEMBER_LOCK_NAMESPACE = 0x7074
CAPPED = "（已达上限）"

_PENDING = """
SELECT e.id, e.kind, e.action, e.source_id, e.member, e.category, e.occurred_at, e.minutes,
       o.path AS unit_path, m.category AS member_category
FROM verified_event e
JOIN org_unit o ON o.id = e.org_unit
JOIN member m ON m.id = e.member
WHERE NOT EXISTS (SELECT 1 FROM points_scored_event s WHERE s.event = e.id)
ORDER BY e.id
LIMIT {}
"""
_ROLES = "SELECT role FROM role_assignment WHERE member = {}"
_SCOPES = "SELECT code, path FROM org_unit WHERE code IN ({})"
_ALREADY = """
SELECT coalesce(sum(amount), 0) AS total FROM points_entry
WHERE member = {} AND rule_set = {} AND rule = {} AND period >= {} AND period <= {}
"""
_TO_REVERSE = """
SELECT p.id, p.amount, p.label, p.period, p.rule_set, p.rule_set_version, p.rule, p.category
FROM points_entry p
JOIN verified_event v ON v.id = p.event
WHERE v.kind = {} AND v.source_id = {} AND v.action = 'verified' AND p.kind = 'score'
  AND NOT EXISTS (SELECT 1 FROM points_entry r WHERE r.reverses = p.id)
"""
_ENTRY_COLUMNS = (
    "key",
    "member",
    "period",
    "amount",
    "kind",
    "event",
    "rule_set",
    "rule_set_version",
    "rule",
    "label",
    "category",
    "occurred_at",
    "reverses",
    "author",
    "created_at",
)
_INSERT_ENTRY = (
    f"INSERT INTO points_entry ({', '.join(_ENTRY_COLUMNS)}) "  # noqa: S608 - constants only
    f"VALUES ({', '.join('{}' for _ in _ENTRY_COLUMNS)}) ON CONFLICT DO NOTHING"
)
_MARK_SCORED = (
    "INSERT INTO points_scored_event (event, scored_at) VALUES ({}, {}) ON CONFLICT DO NOTHING"
)


@dataclass(frozen=True)
class Entry:
    key: str
    member: int
    period: str
    amount: int
    kind: str
    label: str
    occurred_at: datetime
    event: int | None = None
    rule_set: str | None = None
    rule_set_version: str | None = None
    rule: str | None = None
    category: str | None = None
    reverses: int | None = None
    author: int | None = None


async def score_pending(rulesets: list[RuleSet], settings: Settings, batch: int = 500) -> int:
    """Score every verified event not scored yet; how many were scored by this call."""
    scored = 0
    while True:
        events = await sql.fetch(_PENDING, batch)
        if not events:
            return scored
        scopes = await scope_paths(rulesets)
        for event in events:
            if await score_event(dict(event), rulesets, scopes, settings):
                scored += 1


async def score_event(
    event: dict[str, Any],
    rulesets: list[RuleSet],
    scopes: dict[str, str],
    settings: Settings,
) -> bool:
    """Write the event's entries and mark it scored; False when it already was."""
    async with writing():
        if is_postgres():
            await sql.fetch(
                "SELECT pg_advisory_xact_lock({}, {})", _MEMBER_LOCK_NAMESPACE, event["member"]
            )
        done = await sql.fetch_one(
            "SELECT 1 AS done FROM points_scored_event WHERE event = {}", event["id"]
        )
        if done is not None:
            return False
        if event["action"] == "verified":
            entries = await _scores(event, rulesets, scopes, settings)
        else:
            entries = await _reversals(event, settings)
        now = utcnow()
        for entry in entries:
            await sql.fetch(_INSERT_ENTRY, *_entry_args(entry, now))
        await sql.fetch(_MARK_SCORED, event["id"], now)
    return True


def ruleset_for(
    rulesets: list[RuleSet], day: Any, unit_path: str, scopes: dict[str, str]
) -> RuleSet | None:
    """The set in force on `day` with the narrowest scope that covers the unit."""
    best: tuple[int, RuleSet] | None = None
    for ruleset in rulesets:
        if not ruleset.in_force(day):
            continue
        scope = ruleset.spec.scope
        scope_path = scopes.get(scope) if scope else "/"
        if scope_path is None or not covers(scope_path, unit_path):
            continue
        depth = scope_path.count("/")
        if best is None or depth > best[0]:
            best = (depth, ruleset)
    return best[1] if best else None


def applies(rule: Rule, event: dict[str, Any], roles: set[str]) -> bool:
    if rule.event != event["kind"]:
        return False
    if rule.categories and event["category"] not in rule.categories:
        return False
    if rule.member_categories and event["member_category"] not in rule.member_categories:
        return False
    if rule.roles and not roles & set(rule.roles):
        return False
    return event["minutes"] >= rule.min_hours * 60


async def _scores(
    event: dict[str, Any], rulesets: list[RuleSet], scopes: dict[str, str], settings: Settings
) -> list[Entry]:
    local_day = event["occurred_at"].astimezone(zone(settings.timezone)).date()
    ruleset = ruleset_for(rulesets, local_day, event["unit_path"], scopes)
    if ruleset is None:
        return []
    roles = {r["role"] for r in await sql.fetch(_ROLES, event["member"])}
    period = quarter_of(local_day)
    entries = []
    for rule in ruleset.spec.rules:
        if not applies(rule, event, roles):
            continue
        amount = rule.amount(event["minutes"])
        label = rule.label
        capped = await _within_caps(rule, ruleset, event["member"], period, amount)
        if capped != amount:
            amount, label = capped, label + CAPPED
        entries.append(
            Entry(
                key=f"score:{event['id']}:{ruleset.version}:{rule.id}",
                member=event["member"],
                period=period,
                amount=amount,
                kind="score",
                label=label,
                occurred_at=event["occurred_at"],
                event=event["id"],
                rule_set=ruleset.id,
                rule_set_version=ruleset.version,
                rule=rule.id,
                category=event["category"],
            )
        )
    return entries


async def _within_caps(rule: Rule, ruleset: RuleSet, member: int, period: str, amount: int) -> int:
    """`amount` cut to what the rule's quarterly and yearly caps still leave (gains only)."""
    if amount <= 0:
        return amount
    year = period[:4]
    for cap, first, last in (
        (rule.cap_per_quarter, period, period),
        (rule.cap_per_year, f"{year}Q1", f"{year}Q4"),
    ):
        if cap is None:
            continue
        row = await sql.fetch_one(_ALREADY, member, ruleset.id, rule.id, first, last)
        already = int(row["total"]) if row else 0
        amount = max(0, min(amount, cap - already))
    return amount


async def _reversals(event: dict[str, Any], settings: Settings) -> list[Entry]:
    rows = await sql.fetch(_TO_REVERSE, event["kind"], event["source_id"])
    return [
        Entry(
            key=f"reversal:{row['id']}",
            member=event["member"],
            period=row["period"],
            amount=-row["amount"],
            kind="reversal",
            label=f"撤销：{row['label']}",
            occurred_at=event["occurred_at"],
            event=event["id"],
            rule_set=row["rule_set"],
            rule_set_version=row["rule_set_version"],
            rule=row["rule"],
            category=row["category"],
            reverses=row["id"],
        )
        for row in rows
    ]


async def scope_paths(rulesets: list[RuleSet]) -> dict[str, str]:
    codes = sorted({s.spec.scope for s in rulesets if s.spec.scope})
    if not codes:
        return {}
    placeholders = ", ".join("{}" for _ in codes)
    rows = await sql.fetch(_SCOPES.replace("({})", f"({placeholders})"), *codes)
    return {row["code"]: row["path"] for row in rows}


def _entry_args(entry: Entry, now: datetime) -> list[Any]:
    return [
        entry.key,
        entry.member,
        entry.period,
        entry.amount,
        entry.kind,
        entry.event,
        entry.rule_set,
        entry.rule_set_version,
        entry.rule,
        entry.label,
        entry.category,
        entry.occurred_at,
        entry.reverses,
        entry.author,
        now,
    ]
