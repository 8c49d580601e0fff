"""A year of the demo community's service up to today, so every page shows real figures from
the first run: activities in each area with check-ins (a few flagged, some of those rejected),
services logged and verified (some rejected), micro-wishes claimed, fulfilled and confirmed,
and the verified events they give, scored by the rules in force; ended quarters are closed.

The same seed gives the same history relative to the day it is built.
"""

from __future__ import annotations

import hashlib
import random
import secrets
import uuid
from datetime import datetime, timedelta
from typing import Any

from gridpoints.activities.tables import Activity, ActivityStatus
from gridpoints.checkins.tables import CheckIn, Review
from gridpoints.clock import utcnow
from gridpoints.events.tables import VerifiedEvent
from gridpoints.members.tables import Member
from gridpoints.org.tables import OrgUnit
from gridpoints.periods import Quarter
from gridpoints.points.period_end import close_quarter
from gridpoints.points.rules import RuleSet
from gridpoints.points.scoring import score_pending
from gridpoints.service_records.tables import RecordState, ServiceRecord
from gridpoints.settings import Settings
from gridpoints.wishes.tables import Wish, WishState

DAYS = 365
ACTIVITY_TITLES = {
    "corridor_facilities": "楼道杂物清理",
    "emergency_response": "防汛应急演练",
    "policy_publicity": "政策宣讲进小区",
    "resident_service": "为老服务日",
    "dispute_mediation": "邻里议事会",
    "volunteer_liaison": "志愿者招募日",
    "hygiene_epidemic": "环境卫生大扫除",
    "civility_campaign": "文明创建劝导",
}
SERVICE_TEXTS = [
    "帮独居老人买菜送药",
    "调解楼上楼下漏水纠纷",
    "楼道检索，清理堆放杂物",
    "陪同行动不便的邻居就医",
    "入户宣传垃圾分类",
]
WISH_TITLES = ["一副老花镜", "孩子的课外书", "一台旧轮椅维修", "冬天的棉被", "助听器换电池"]
# Where the community is (a point per area, spread a few hundred metres apart).
SITE = (39.744, 98.511)
INSERT_CHUNK = 500


async def write_history(rng: random.Random, areas: list[int]) -> dict[str, int]:
    """Write the year (inside the demo's transaction); how many of each thing were made."""
    now = utcnow()
    start = now - timedelta(days=DAYS)
    # The community existed all year, so its ended quarters may be closed.
    await OrgUnit.update({OrgUnit.created_at: start}).where(OrgUnit.id > 0)
    people = await Member.select(
        Member.id, Member.category, Member.org_unit._.path.as_alias("path")
    ).where(Member.status == "active")
    paths = {
        a["id"]: a["path"]
        for a in await OrgUnit.select(OrgUnit.id, OrgUnit.path).where(OrgUnit.id.is_in(areas))
    }
    by_area = {a: [p for p in people if p["path"].startswith(paths[a])] for a in areas}
    events: list[dict[str, Any]] = []
    made = {"activities": 0, "checkins": 0, "services": 0, "wishes": 0}
    made["activities"], made["checkins"] = await _activities(rng, start, now, by_area, events)
    made["services"] = await _services(rng, start, now, people, events, by_area)
    made["wishes"] = await _wishes(rng, start, now, by_area, events)
    await _insert(VerifiedEvent, [VerifiedEvent(**e) for e in events])
    made["events"] = len(events)
    return made


async def score_history(settings: Settings, rulesets: list[RuleSet]) -> None:
    """Score the year by the rules in force and close its ended quarters."""
    now = utcnow()
    await score_pending(rulesets, settings)
    tz = settings.timezone
    first = Quarter.of(now - timedelta(days=DAYS), tz).next
    for quarter in first.span(Quarter.of(now, tz).previous):
        await close_quarter(rulesets, quarter, settings)


async def _insert(table: Any, rows: list[Any]) -> list[int]:
    ids: list[int] = []
    for first in range(0, len(rows), INSERT_CHUNK):
        inserted = await table.insert(*rows[first : first + INSERT_CHUNK]).returning(table.id)
        ids += [r["id"] for r in inserted]
    return ids


def _event(kind: str, source: int, member: int, unit: int, category: str, at, minutes: int):
    return {
        "kind": kind,
        "action": "verified",
        "source_id": source,
        "member": member,
        "org_unit": unit,
        "category": category,
        "occurred_at": at,
        "minutes": minutes,
        "recorded_at": at + timedelta(hours=2),
        "detail": "{}",
    }


async def _activities(rng, start, now, by_area, events) -> tuple[int, int]:
    """About one activity a fortnight in each area, each with a dozen or so check-ins."""
    planned: list[tuple[Activity, int, list[dict[str, Any]]]] = []
    for index, (area, residents) in enumerate(by_area.items()):
        if not residents:
            continue
        lat, lng = SITE[0] + 0.004 * index, SITE[1] + 0.004 * index
        day = start + timedelta(days=rng.randrange(14))
        while day < now - timedelta(days=1):
            category = rng.choice(sorted(ACTIVITY_TITLES))
            begins = day.replace(hour=1, minute=0, second=0, microsecond=0)  # 09:00 local
            ends = begins + timedelta(hours=rng.choice((1, 2, 2, 3)))
            activity = Activity(
                org_unit=area,
                title=ACTIVITY_TITLES[category],
                category=category,
                description="",
                starts_at=begins,
                ends_at=ends,
                lat=lat,
                lng=lng,
                radius_m=300,
                code_secret=secrets.token_urlsafe(24),
                status=ActivityStatus.SCHEDULED,
                created_at=begins - timedelta(days=3),
                updated_at=begins - timedelta(days=3),
            )
            joined = rng.sample(residents, min(len(residents), rng.randint(6, 18)))
            planned.append((activity, area, joined))
            day += timedelta(days=rng.randint(10, 18))
    ids = await _insert(Activity, [a for a, _, _ in planned])
    checkins: list[CheckIn] = []
    facts: list[tuple[int, dict[str, Any], str, datetime, int]] = []
    for activity_id, (activity, area, joined) in zip(ids, planned, strict=True):
        for person in joined:
            arrived = activity.starts_at + timedelta(minutes=rng.randrange(20))
            left = activity.ends_at - timedelta(minutes=rng.randrange(15))
            flagged = rng.random() < 0.06
            review = (
                Review.ACCEPTED if not flagged else rng.choice((Review.ACCEPTED, Review.REJECTED))
            )
            checkins.append(
                CheckIn(
                    client_id=uuid.UUID(int=rng.getrandbits(128), version=4),
                    activity=activity_id,
                    member=person["id"],
                    method="qr",
                    checked_in_at=arrived,
                    received_at=arrived,
                    lat=activity.lat + (0.02 if flagged else 0.0003),
                    lng=activity.lng,
                    accuracy_m=15,
                    flags="outside_fence" if flagged else "",
                    review=review,
                    review_reason="经核实不在现场" if review == Review.REJECTED else None,
                    checked_out_at=left,
                    checkout_kind="member",
                    body_hash=hashlib.sha256(rng.randbytes(16)).hexdigest(),
                )
            )
            facts.append((area, person, activity.category, arrived, review))
    checkin_ids = await _insert(CheckIn, checkins)
    for checkin_id, checkin, (area, person, category, arrived, review) in zip(
        checkin_ids, checkins, facts, strict=True
    ):
        if review == Review.ACCEPTED:
            minutes = int((checkin.checked_out_at - arrived).total_seconds() // 60)
            events.append(
                _event("checkin", checkin_id, person["id"], area, category, arrived, minutes)
            )
    return len(ids), len(checkins)


async def _services(rng, start, now, people, events, by_area) -> int:
    """Deeds outside activities, mostly by in-service members; about one in seven rejected."""
    area_of = {p["id"]: a for a, residents in by_area.items() for p in residents}
    records: list[ServiceRecord] = []
    for person in people:
        if person["id"] not in area_of or rng.random() > 0.45:
            continue
        for _ in range(rng.randint(1, 4)):
            served = start + timedelta(days=rng.randrange(DAYS - 2), hours=rng.randrange(10))
            state = RecordState.APPROVED if rng.random() > 0.14 else RecordState.REJECTED
            records.append(
                ServiceRecord(
                    member=person["id"],
                    category=rng.choice(sorted(ACTIVITY_TITLES)),
                    minutes=rng.choice((30, 60, 60, 90, 120, 180)),
                    description=rng.choice(SERVICE_TEXTS),
                    served_on=served,
                    state=state,
                    submitted_by=person["id"],
                    decided_at=served + timedelta(days=1),
                    reason="材料不全，无法核实" if state == RecordState.REJECTED else None,
                    created_at=served,
                )
            )
    ids = await _insert(ServiceRecord, records)
    for record_id, record in zip(ids, records, strict=True):
        if record.state == RecordState.APPROVED:
            events.append(
                _event(
                    "service",
                    record_id,
                    record.member,
                    area_of[record.member],
                    record.category,
                    record.served_on,
                    record.minutes,
                )
            )
    return len(records)


async def _wishes(rng, start, now, by_area, events) -> int:
    """About ten wishes a month, nearly all claimed and fulfilled, most confirmed."""
    wishes: list[Wish] = []
    claimants: list[tuple[int, int]] = []
    areas = [a for a, residents in by_area.items() if residents]
    for _ in range(120):
        area = rng.choice(areas)
        posted = start + timedelta(days=rng.randrange(DAYS - 10))
        claimant = rng.choice(by_area[area])["id"]
        confirmed = rng.random() < 0.9
        wishes.append(
            Wish(
                org_unit=area,
                title=rng.choice(WISH_TITLES),
                description="",
                category="resident_service",
                state=WishState.CONFIRMED if confirmed else WishState.FULFILLED,
                claimed_by=claimant,
                claimed_at=posted + timedelta(days=1),
                evidence="已送到居民家中",
                fulfilled_at=posted + timedelta(days=4),
                confirmed_at=posted + timedelta(days=5) if confirmed else None,
                created_at=posted,
            )
        )
        claimants.append((claimant, area))
    ids = await _insert(Wish, wishes)
    for wish_id, wish, (claimant, area) in zip(ids, wishes, claimants, strict=True):
        if wish.state == WishState.CONFIRMED:
            at = wish.confirmed_at
            events.append(_event("wish", wish_id, claimant, area, wish.category, at, 0))
    return len(wishes)
