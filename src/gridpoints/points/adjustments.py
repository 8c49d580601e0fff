"""Manual adjustments: a committee member adds (or takes away) points with a reason. The
entry names its author; the audit log records it in the same transaction."""

from __future__ import annotations

from gridpoints.audit.services import Change, record
from gridpoints.auth.access import forbid_self_dealing, require
from gridpoints.auth.permissions import Capability
from gridpoints.auth.principal import Principal
from gridpoints.clock import utcnow
from gridpoints.db import sql
from gridpoints.db.transactions import writing
from gridpoints.errors import Conflict, Invalid
from gridpoints.members.lookup import find_member
from gridpoints.periods import parse_quarter
from gridpoints.points.reading import entry_out
from gridpoints.points.schemas import AdjustmentIn, EntryOut

_INSERT = """
INSERT INTO points_entry (key, member, period, amount, kind, label, occurred_at, author,
                          created_at)
VALUES ({}, {}, {}, {}, 'adjustment', {}, {}, {}, {})
ON CONFLICT DO NOTHING
RETURNING id
"""
_BY_KEY = """
SELECT id, member, period, amount, kind, label, occurred_at, category, rule_set,
       rule_set_version, rule, reverses, created_at
FROM points_entry WHERE key = {}
"""


async def adjust(actor: Principal, member_id: int, data: AdjustmentIn) -> tuple[EntryOut, bool]:
    """(the entry, True when made now); the same `client_id` again gives the same entry."""
    quarter = parse_quarter(data.period)
    if data.amount == 0:
        raise Invalid.field("amount", "调整分值不能为 0")
    reason = " ".join(data.reason.split())
    key = f"adjustment:{data.client_id}"
    now = utcnow()
    async with writing():
        member = await find_member(actor, member_id)
        require(actor, Capability.ADJUST_POINTS, member["org_path"], "成员积分")
        forbid_self_dealing(actor, member_id, action="调整")
        made = await sql.fetch(
            _INSERT,
            key,
            member_id,
            quarter.label,
            data.amount,
            f"人工调整：{reason}",
            now,
            actor.member_id,
            now,
        )
        if made:
            await record(
                actor,
                Change(
                    "points.adjust",
                    "points_entry",
                    made[0]["id"],
                    member["org_unit"],
                    after={
                        "member": member_id,
                        "period": quarter.label,
                        "amount": data.amount,
                        "reason": reason,
                    },
                ),
            )
    row = await sql.fetch_one(_BY_KEY, key)
    assert row is not None
    if row["member"] != member_id or row["amount"] != data.amount:
        raise Conflict("该 client_id 已用于另一笔调整", code="client_id_reused")
    return entry_out(row), bool(made)
