"""SQL of the check-in hot path: the member, the activity and the member's previous sighting
as a scan needs them, and storing a check-in once together with its audit row.

Every scan at a busy event passes here, so these are hand-written statements (`db.sql`)
rather than built queries. On PostgreSQL new check-ins and their audit rows are written by
one statement per batch of arrivals, so the audit chain's lock is held only while the server
runs it, once for the batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import msgspec

from gridpoints.audit.services import Change, append_args, record
from gridpoints.auth.principal import Principal
from gridpoints.db import batching, sql
from gridpoints.db.batching import Batcher
from gridpoints.db.engine import is_postgres
from gridpoints.db.transactions import writing
from gridpoints.members.vocab import MemberStatus

# The scanning member (if they may still sign in: active, the token's session standing, no
# temporary password left to change), the activity, and the member's last
# located check-in up to the scan (for the speed check): no row when the member may not.
# The subquery names the member by parameter, not by m.id: uncorrelated, it runs once and p
# is then found by key (correlated, PostgreSQL scans every check-in).
_SCAN = """
SELECT m.name AS member_name, h.path AS home,
       a.id, a.org_unit, a.title, a.category, a.starts_at, a.ends_at, a.lat, a.lng,
       a.radius_m, a.capacity, a.status, a.code_secret, o.path AS org_path,
       p.checked_in_at AS previous_at, p.lat AS previous_lat, p.lng AS previous_lng
FROM member m
JOIN auth_session s ON s.id = {} AND s.account_kind = 'member' AND s.account_id = m.id
                   AND s.ended_at IS NULL
JOIN org_unit h ON h.id = m.org_unit
LEFT JOIN activity a ON a.id = {}
LEFT JOIN org_unit o ON o.id = a.org_unit
LEFT JOIN checkin p ON p.id = (
    SELECT id FROM checkin
    WHERE member = {} AND lat IS NOT NULL AND checked_in_at <= {}
    ORDER BY checked_in_at DESC LIMIT 1
)
WHERE m.id = {} AND m.status = {} AND NOT m.must_change_password
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


# `_SCAN` for several scans at once (PostgreSQL): a row per scan whose member may sign in.
_SCAN_MANY = """
SELECT q.n, m.name AS member_name, h.path AS home,
       a.id, a.org_unit, a.title, a.category, a.starts_at, a.ends_at, a.lat, a.lng,
       a.radius_m, a.capacity, a.status, a.code_secret, o.path AS org_path,
       p.checked_in_at AS previous_at, p.lat AS previous_lat, p.lng AS previous_lng
FROM unnest({}::int[], {}::int[], {}::int[], {}::timestamptz[])
     WITH ORDINALITY AS q(member_id, session_id, activity_id, scanned_at, n)
JOIN member m ON m.id = q.member_id AND m.status = {} AND NOT m.must_change_password
JOIN auth_session s ON s.id = q.session_id AND s.account_kind = 'member'
                   AND s.account_id = m.id AND s.ended_at IS NULL
JOIN org_unit h ON h.id = m.org_unit
LEFT JOIN activity a ON a.id = q.activity_id
LEFT JOIN org_unit o ON o.id = a.org_unit
LEFT JOIN LATERAL (
    SELECT checked_in_at, lat, lng FROM checkin
    WHERE member = q.member_id AND lat IS NOT NULL AND checked_in_at <= q.scanned_at
    ORDER BY checked_in_at DESC LIMIT 1
) p ON true
"""


class _Scan(msgspec.Struct, frozen=True):
    member_id: int
    session_id: int
    activity_id: int
    scanned_at: datetime


async def _scan_one(scan: _Scan) -> dict[str, Any] | None:
    row = await sql.fetch_one(
        _SCAN,
        scan.session_id,
        scan.activity_id,
        scan.member_id,
        scan.scanned_at,
        scan.member_id,
        MemberStatus.ACTIVE.value,
    )
    return dict(row) if row is not None else None


async def _scan_many(scans: Sequence[_Scan]) -> list[dict[str, Any] | None]:
    rows = await sql.fetch(
        _SCAN_MANY,
        [s.member_id for s in scans],
        [s.session_id for s in scans],
        [s.activity_id for s in scans],
        [s.scanned_at for s in scans],
        MemberStatus.ACTIVE.value,
    )
    found: list[dict[str, Any] | None] = [None] * len(scans)
    for row in rows:
        found[row["n"] - 1] = {k: v for k, v in row.items() if k != "n"}
    return found


async def scan(
    member_id: int, session_id: int, activity_id: int, scanned_at: datetime
) -> dict[str, Any] | None:
    """None when the member may not sign in (or the session `session_id` has ended); else
    their `member_name` and `home` path, the activity's columns (None when there is no such
    activity), and `previous_at/_lat/_lng` of their last located check-in up to
    `scanned_at` (None when there is none). On
    PostgreSQL, scans arriving together are read together (`db.batching`)."""
    request = _Scan(member_id, session_id, activity_id, scanned_at)
    if is_postgres():
        readers = batching.for_loop("checkin-scan", lambda: Batcher(_scan_many, _scan_one))
        return await readers.submit(request)
    return await _scan_one(request)


async def has_room(activity_id: int, member_id: int, capacity: int) -> bool:
    """Fewer members than `capacity` have joined, or this member already has."""
    row = await sql.fetch_one(_JOINED, member_id, activity_id)
    assert row is not None
    return row["mine"] > 0 or row["joined"] < capacity


# Column types of the check-in and of its audit row, for the arrays a batch arrives in.
_TYPES = {
    "client_id": "uuid",
    "activity": "int",
    "member": "int",
    "method": "varchar",
    "checked_in_at": "timestamptz",
    "received_at": "timestamptz",
    "lat": "float8",
    "lng": "float8",
    "accuracy_m": "float8",
    "token_slot": "int8",
    "flags": "varchar",
    "review": "varchar",
    "proxy_by": "int",
    "proxy_reason": "text",
    "body_hash": "varchar",
}
_AUDIT_TYPES = {
    "a_at": "timestamptz",
    "a_actor_id": "int",
    "a_actor_label": "varchar",
    "a_action": "varchar",
    "a_object_type": "varchar",
    "a_org_unit_id": "int",
    "a_before": "text",
    "a_after": "text",
    "a_head": "bytea",
    "a_tail": "bytea",
}
_ALL_TYPES = {**_TYPES, **_AUDIT_TYPES}
# Several check-ins and their audit rows in one statement (PostgreSQL). Two copies of one
# client_id in a batch: the first is inserted, the other meets the conflict like a replay.
_INSERT_MANY = f"""
WITH input AS (
    SELECT DISTINCT ON (client_id) * FROM unnest(
        {", ".join(f"{{}}::{kind}[]" for kind in _ALL_TYPES.values())}
    ) WITH ORDINALITY AS t({", ".join(_ALL_TYPES)}, n)
    ORDER BY client_id, n
),
made AS (
    INSERT INTO checkin ({", ".join(COLUMNS)})
    SELECT {", ".join(COLUMNS)} FROM input ORDER BY n
    ON CONFLICT DO NOTHING
    RETURNING id, client_id
)
SELECT made.id, input.n, audit_append(
    input.a_at, input.a_actor_id, input.a_actor_label, input.a_action, input.a_object_type,
    made.id, input.a_org_unit_id, input.a_before, input.a_after, input.a_head, input.a_tail
) FROM made JOIN input USING (client_id)
"""  # noqa: S608


class _Row(msgspec.Struct, frozen=True):
    """A check-in to insert, with the arguments of its `audit_append` call."""

    args: list[Any]
    audit: list[Any]


async def _insert_many(rows: Sequence[_Row]) -> list[int | None]:
    columns = [list(values) for values in zip(*(row.args + row.audit for row in rows), strict=True)]
    made = await sql.fetch(_INSERT_MANY, *columns)
    ids: list[int | None] = [None] * len(rows)
    for row in made:
        ids[row["n"] - 1] = row["id"]
    return ids


async def _insert_one(row: _Row) -> int | None:
    call = "audit_append({}, {}, {}, {}, {}, made.id, {}, {}, {}, {}, {})"
    made = await sql.fetch(
        f"WITH made AS ({_INSERT}) SELECT made.id, {call} FROM made",  # noqa: S608
        *row.args,
        *row.audit,
    )
    return made[0]["id"] if made else None


async def insert_once(actor: Principal, values: dict[str, Any], change: Change) -> int | None:
    """Store the check-in and its audit row (`change`, whose object is the new row); the new
    id, or None when a unique constraint already holds such a check-in. On PostgreSQL,
    check-ins arriving together are written together (`db.batching`)."""
    args = [values.get(column) for column in COLUMNS]
    if is_postgres():
        writers = batching.for_loop("checkin-insert", lambda: Batcher(_insert_many, _insert_one))
        return await writers.submit(_Row(args, append_args(actor, change)))
    async with writing():
        rows = await sql.fetch(_INSERT, *args)
        if not rows:
            return None
        checkin_id = rows[0]["id"]
        await record(actor, msgspec.structs.replace(change, object_id=checkin_id))
    return checkin_id
