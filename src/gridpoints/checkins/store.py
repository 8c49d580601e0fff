"""SQL of the check-in hot path: the member, the activity and the member's previous sighting
as a scan needs them, and storing a check-in once together with its audit row.

Every scan at a busy event passes here, so these are hand-written statements (`db.sql`)
rather than built queries. On PostgreSQL a new check-in and its audit row are one statement,
so the audit chain's lock is held only while the server runs it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from gridpoints.audit.services import Change, append_call, record
from gridpoints.auth.principal import Principal
from gridpoints.db import sql
from gridpoints.db.engine import is_postgres
from gridpoints.db.transactions import writing
from gridpoints.members.vocab import MemberStatus

# The scanning member (if they may still sign in), the activity, and the member's last
# located check-in up to the scan (for the speed check): no row when the member may not.
# The subquery names the member by parameter, not by m.id: uncorrelated, it runs once and p
# is then found by key (correlated, PostgreSQL scans every check-in).
_SCAN = """
SELECT m.name AS member_name, h.path AS home,
       a.id, a.org_unit, a.title, a.category, a.starts_at, a.ends_at, a.lat, a.lng,
       a.radius_m, a.capacity, a.status, a.code_secret, o.path AS org_path,
       p.checked_in_at AS previous_at, p.lat AS previous_lat, p.lng AS previous_lng
FROM member m
JOIN org_unit h ON h.id = m.org_unit
LEFT JOIN activity a ON a.id = {}
LEFT JOIN org_unit o ON o.id = a.org_unit
LEFT JOIN checkin p ON p.id = (
    SELECT id FROM checkin
    WHERE member = {} AND lat IS NOT NULL AND checked_in_at <= {}
    ORDER BY checked_in_at DESC LIMIT 1
)
WHERE m.id = {} AND m.status = {}
"""

_JOINED = """
SELECT count(DISTINCT member) AS joined,
       coalesce(sum(CASE WHEN member = {} THEN 1 ELSE 0 END), 0) AS mine
FROM checkin WHERE activity = {} AND review <> 'rejected'
"""

COLUMNS = (
    "client_id",
    "activity",
    "member",
    "method",
    "checked_in_at",
    "received_at",
    "lat",
    "lng",
    "accuracy_m",
    "token_slot",
    "flags",
    "review",
    "proxy_by",
    "proxy_reason",
    "body_hash",
)

# A conflict on client_id (a replay) or on the one-open-check-in index inserts nothing.
# Statements here are put together from constants; every value is a bound parameter.
_INSERT = (
    f"INSERT INTO checkin ({', '.join(COLUMNS)}) "  # noqa: S608
    f"VALUES ({', '.join('{}' for _ in COLUMNS)}) ON CONFLICT DO NOTHING RETURNING id"
)


async def scan(member_id: int, activity_id: int, scanned_at: datetime) -> dict[str, Any] | None:
    """None when the member may not sign in; else their `member_name` and `home` path, the
    activity's columns (None when there is no such activity), and `previous_at/_lat/_lng`
    of their last located check-in up to `scanned_at` (None when there is none)."""
    row = await sql.fetch_one(
        _SCAN, activity_id, member_id, scanned_at, member_id, MemberStatus.ACTIVE.value
    )
    return dict(row) if row is not None else None


async def has_room(activity_id: int, member_id: int, capacity: int) -> bool:
    """Fewer members than `capacity` have joined, or this member already has."""
    row = await sql.fetch_one(_JOINED, member_id, activity_id)
    assert row is not None
    return row["mine"] > 0 or row["joined"] < capacity


async def insert_once(actor: Principal, values: dict[str, Any], change: Change) -> int | None:
    """Store the check-in and its audit row (`change`, whose object is the new row); the new
    id, or None when a unique constraint already holds such a check-in."""
    args = [values.get(column) for column in COLUMNS]
    if is_postgres():
        call, call_args = append_call(actor, change, "made.id")
        rows = await sql.fetch(
            f"WITH made AS ({_INSERT}) SELECT made.id, {call} FROM made",  # noqa: S608
            *args,
            *call_args,
        )
        return rows[0]["id"] if rows else None
    async with writing():
        rows = await sql.fetch(_INSERT, *args)
        if not rows:
            return None
        checkin_id = rows[0]["id"]
        await record(actor, msgspec.structs.replace(change, object_id=checkin_id))
    return checkin_id
