"""The one write path of new members: `add_members` writes them, the dual registration of
those in service, and one audit row of one shape each, in bulk. The member service (one
member), the import job (a file of them) and the demo all call it.

Callers check first (permission, grids, phones not yet taken) and resolve each member's
community; this module only writes, inside the caller's write transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import msgspec

from gridpoints.audit.services import Change, record_many
from gridpoints.auth.principal import Principal
from gridpoints.clock import utcnow
from gridpoints.members.tables import Member, MemberRegistration
from gridpoints.members.vocab import Category, MemberStatus
from gridpoints.partners.vocab import RecordState

# Rows per INSERT: well below SQLite's limit on bound variables.
_CHUNK = 500


class NewMember(msgspec.Struct, frozen=True, kw_only=True):
    """A member to add, already checked. `community` is the community an in-service member
    reports to (None: no report is written, whatever the category)."""

    name: str
    phone: str
    category: Category
    org_unit: int
    employer: str | None = None
    partner_unit: int | None = None
    password_hash: str | None = None
    # Set when one person sets another's password: it must be changed at the next sign-in.
    must_change_password: bool = False
    community: int | None = None

    @property
    def reports(self) -> bool:
        return self.category is Category.IN_SERVICE and self.community is not None


class AddedMembers(msgspec.Struct, frozen=True):
    """The new members' ids, in the order given, and how many reports were written."""

    member_ids: list[int]
    registered: int


async def add_members(
    actor: Principal,
    members: Sequence[NewMember],
    *,
    reported_on: date,
    source: str | None = None,
) -> AddedMembers:
    """Insert the members (active), then the reports of those in service dated `reported_on`,
    then one `member.create` audit row per member and one `registration.create` per report.

    A `member.create` row's `after` holds name, phone, category, org_unit, status, employer,
    partner_unit and `source`: what made the member in bulk (`job:<id>` for an import, `demo`),
    None for one added by hand. A phone already taken raises the driver's unique violation."""
    now = utcnow()
    member_ids: list[int] = []
    for offset in range(0, len(members), _CHUNK):
        chunk = members[offset : offset + _CHUNK]
        inserted = await Member.insert(
            *[
                Member(
                    name=m.name,
                    phone=m.phone,
                    category=m.category.value,
                    org_unit=m.org_unit,
                    status=MemberStatus.ACTIVE.value,
                    password_hash=m.password_hash,
                    must_change_password=m.must_change_password,
                    employer=m.employer,
                    partner_unit=m.partner_unit,
                    created_at=now,
                    updated_at=now,
                )
                for m in chunk
            ]
        ).returning(Member.id)
        member_ids += [row["id"] for row in inserted]
    changes = [
        Change(
            "member.create",
            "member",
            member_id,
            m.org_unit,
            after={
                "name": m.name,
                "phone": m.phone,
                "category": m.category.value,
                "org_unit": m.org_unit,
                "status": MemberStatus.ACTIVE.value,
                "employer": m.employer,
                "partner_unit": m.partner_unit,
                "source": source,
            },
        )
        for m, member_id in zip(members, member_ids, strict=True)
    ]
    reports = [
        {
            "member": member_id,
            "community": m.community,
            "partner_unit": m.partner_unit,
            "reported_on": reported_on,
            "state": RecordState.ACTIVE.value,
        }
        for m, member_id in zip(members, member_ids, strict=True)
        if m.reports
    ]
    for offset in range(0, len(reports), _CHUNK):
        chunk = reports[offset : offset + _CHUNK]
        inserted = await MemberRegistration.insert(
            *[MemberRegistration(**report, created_at=now) for report in chunk]
        ).returning(MemberRegistration.id)
        changes += [
            Change(
                "registration.create",
                "member_registration",
                row["id"],
                report["community"],
                after=report,
            )
            for report, row in zip(chunk, inserted, strict=True)
        ]
    await record_many(actor, changes)
    return AddedMembers(member_ids, len(reports))
