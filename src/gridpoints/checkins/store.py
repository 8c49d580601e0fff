"""SQL of the check-in hot path: the member, the activity and the member's previous sighting
as a scan needs them, and storing a check-in once together with its audit row.

Every scan at a busy event passes here, so these are hand-written statements (`db.sql`)
rather than built queries. On PostgreSQL check-ins arriving together are written with their
audit rows by one statement per batch (ids taken ahead, so the rows are chained and hashed
here first), and the audit chain's lock is held only while the server runs it. A batch with a
replay in it, or one that finds the chain's head moved, goes the careful way: one transaction,
the check-ins first, then their audit rows under the lock to the commit.

An activity with a capacity takes its check-ins one at a time instead (`_insert_limited`):
the count of members in and the insert run in one transaction, behind a lock of that
activity (PostgreSQL: an advisory lock; SQLite: the write lock every write transaction
takes), so a crowd scanning at once never fills it past its capacity.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import msgspec
from piccolo.engine.base import Engine

from gridpoints.audit.services import (
    Change,
    Entry,
    append,
    head_if_moved,
    note_head,
    prepare,
    strict_append,
    strict_append_args,
)
from gridpoints.auth.principal import Principal
from gridpoints.db import batching, sql
from gridpoints.db.batching import Batcher
from gridpoints.db.engine import current_engine, is_postgres
from gridpoints.db.transactions import writing
from gridpoints.members.vocab import MemberStatus

# The scanning member (if they may still sign in: active, the token's session standing; with
# whether a temporary password is left to change), the activity, and the member's last
# located check-in up to the scan (for the speed check): no row when the member may not.
# The subquery names the member by parameter, not by m.id: uncorrelated, it runs once and p
# is then found by key (correlated, PostgreSQL scans every check-in).
_SCAN = """
SELECT m.name AS member_name, m.must_change_password, h.path AS home,
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


# `_SCAN` for several scans at once (PostgreSQL): a row per scan whose member may sign in.
_SCAN_MANY = """
SELECT q.n, m.name AS member_name, m.must_change_password, h.path AS home,
       a.id, a.org_unit, a.title, a.category, a.starts_at, a.ends_at, a.lat, a.lng,
       a.radius_m, a.capacity, a.status, a.code_secret, o.path AS org_path,
       p.checked_in_at AS previous_at, p.lat AS previous_lat, p.lng AS previous_lng
FROM unnest({}::int[], {}::int[], {}::int[], {}::timestamptz[])
     WITH ORDINALITY AS q(member_id, session_id, activity_id, scanned_at, n)
JOIN member m ON m.id = q.member_id AND m.status = {}
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


class NoRoom(Exception):
    """The activity has as many members as its capacity."""


_CODE = "SELECT code_secret, status FROM activity WHERE id = {}"


async def activity_code(activity_id: int) -> dict[str, Any] | None:
    """The activity's `code_secret` and `status`, or None when there is no such activity."""
    row = await sql.fetch_one(_CODE, activity_id)
    return dict(row) if row is not None else None


# Column types of the check-in, for the arrays a batch arrives in.
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
# Several check-ins in one statement (PostgreSQL). Two copies of one client_id in a batch: the
# first is inserted, the other meets the conflict like a replay.
_INSERT_MANY = f"""
WITH input AS (
    SELECT DISTINCT ON (client_id) * FROM unnest(
        {", ".join(f"{{}}::{kind}[]" for kind in _TYPES.values())}
    ) WITH ORDINALITY AS t({", ".join(_TYPES)}, n)
    ORDER BY client_id, n
),
made AS (
    INSERT INTO checkin ({", ".join(COLUMNS)})
    SELECT {", ".join(COLUMNS)} FROM input ORDER BY n
    ON CONFLICT DO NOTHING
    RETURNING id, client_id
)
SELECT made.id, input.n FROM made JOIN input USING (client_id)
"""  # noqa: S608


# The fast way (PostgreSQL): ids taken first, so the audit rows are chained here before the
# statement; then one statement writes the check-ins and, if every one was new and the chain's
# head is the one guessed, their audit rows (the chain's lock is held only while it runs).
# Otherwise `strict_append` undoes the whole statement and the batch goes the careful way.
_NEXT_IDS = (
    "SELECT nextval(pg_get_serial_sequence('checkin', 'id')) AS id FROM generate_series(1, {})"
)
# Ids are taken from the sequence a few hundred at a time, so a batch costs no round trip for
# them; an id left unused (a batch that went the careful way) is a gap, as any rollback leaves.
# They belong to the database they were taken from: another engine in use, they are dropped.
_IDS_AT_ONCE = 256
_spare_ids: tuple[Engine, list[int]] | None = None


async def _take_ids(count: int) -> list[int]:
    global _spare_ids
    engine = current_engine()
    if _spare_ids is None or _spare_ids[0] is not engine:
        _spare_ids = (engine, [])
    spare = _spare_ids[1]
    if len(spare) < count:
        more = await sql.fetch(_NEXT_IDS, max(count, _IDS_AT_ONCE))
        spare.extend(row["id"] for row in more)
    taken = spare[:count]
    del spare[:count]
    return taken


_INSERT_AUDITED = f"""
WITH input AS (
    SELECT * FROM unnest(
        {{}}::int[], {", ".join(f"{{}}::{kind}[]" for kind in _TYPES.values())}
    ) WITH ORDINALITY AS t(id, {", ".join(_TYPES)}, n)
),
made AS (
    INSERT INTO checkin (id, {", ".join(COLUMNS)})
    SELECT id, {", ".join(COLUMNS)} FROM input ORDER BY n
    ON CONFLICT DO NOTHING
    RETURNING id
)
SELECT {strict_append("CASE WHEN (SELECT count(*) FROM made) = {} THEN {} ELSE '' END")}
"""  # noqa: S608


class _Row(msgspec.Struct, frozen=True):
    """A check-in to insert, with its audit row but for the check-in's id."""

    args: list[Any]
    audit: Entry


async def _insert_many(rows: Sequence[_Row]) -> list[int | None]:
    ids = await _take_ids(len(rows))
    audit_args, head = strict_append_args(
        [msgspec.structs.replace(row.audit, object_id=i) for row, i in zip(rows, ids, strict=True)]
    )
    columns = [list(values) for values in zip(*(row.args for row in rows), strict=True)]
    try:
        await sql.fetch(_INSERT_AUDITED, ids, *columns, len(rows), audit_args[0], *audit_args[1:])
    except Exception as exc:
        moved_to = head_if_moved(exc)
        if moved_to is None:
            raise
        # A replay, two copies of one scan, or another writer on the chain: the careful way.
        note_head(moved_to)
        return await _insert_together(rows)
    note_head(head)
    return list(ids)


async def _insert_together(rows: Sequence[_Row]) -> list[int | None]:
    """One transaction: the check-ins in one statement, then their audit rows chained onto the
    log in one more (`audit.services.append`, which holds the chain's lock to the commit)."""
    columns = [list(values) for values in zip(*(row.args for row in rows), strict=True)]
    ids: list[int | None] = [None] * len(rows)
    async with writing():
        for made in await sql.fetch(_INSERT_MANY, *columns):
            ids[made["n"] - 1] = made["id"]
        await append(
            [
                msgspec.structs.replace(row.audit, object_id=checkin_id)
                for row, checkin_id in zip(rows, ids, strict=True)
                if checkin_id is not None
            ]
        )
    return ids


async def _insert_one(row: _Row) -> int | None:
    if is_postgres():
        return (await _insert_many([row]))[0]
    async with writing():
        made = await sql.fetch(_INSERT, *row.args)
        if not made:
            return None
        checkin_id = made[0]["id"]
        await append([msgspec.structs.replace(row.audit, object_id=checkin_id)])
    return checkin_id


# pg_advisory_xact_lock(key1, key2) keys: one activity's capacity-limited check-ins ("ck").
_ACTIVITY_LOCKS = 0x636B
_LOCK_ACTIVITY = "SELECT pg_advisory_xact_lock({}, {})"


async def _insert_limited(row: _Row, activity_id: int, member_id: int, capacity: int) -> int | None:
    """`_insert_one` for an activity with a capacity: the room is counted and the row
    inserted in one transaction that holds the activity's lock (`NoRoom` when full)."""
    async with writing():
        if is_postgres():
            await sql.fetch(_LOCK_ACTIVITY, _ACTIVITY_LOCKS, activity_id)
        if not await has_room(activity_id, member_id, capacity):
            raise NoRoom()
        made = await sql.fetch(_INSERT, *row.args)
        if not made:
            return None
        checkin_id = made[0]["id"]
        await append([msgspec.structs.replace(row.audit, object_id=checkin_id)])
    return checkin_id


async def insert_once(
    actor: Principal, values: dict[str, Any], change: Change, *, capacity: int | None = None
) -> int | None:
    """Store the check-in and its audit row (`change`, whose object is the new row); the new
    id, or None when a unique constraint already holds such a check-in; `NoRoom` when the
    activity already has `capacity` members and this one is not among them. On PostgreSQL,
    check-ins arriving together are written together (`db.batching`), but for activities
    with a capacity."""
    row = _Row([values.get(column) for column in COLUMNS], prepare(actor, change))
    if capacity is not None:
        return await _insert_limited(row, values["activity"], values["member"], capacity)
    if is_postgres():
        writers = batching.for_loop("checkin-insert", lambda: Batcher(_insert_many, _insert_one))
        return await writers.submit(row)
    return await _insert_one(row)
