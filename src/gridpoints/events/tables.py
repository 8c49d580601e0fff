"""Verified events: what the points engine scores.

Append-only. A fact becomes `verified` once (a closed, accepted check-in; an approved service;
a confirmed wish) and may later be `revoked` once; (kind, source_id, action) is unique, so a
second delivery of the same fact writes nothing and the engine can re-read everything.
"""

from piccolo.columns import ForeignKey, Integer, OnDelete, Text, Timestamptz, Varchar
from piccolo.table import Table

from gridpoints.members.tables import Member
from gridpoints.org.tables import OrgUnit


class VerifiedEvent(Table, tablename="verified_event"):
    kind = Varchar(length=20)  # checkin | service | wish | duty
    action = Varchar(length=10)  # verified | revoked
    source_id = Integer()
    member = ForeignKey(Member, null=False, on_delete=OnDelete.restrict, index=True)
    # Where the fact counts: the activity's unit for a check-in.
    org_unit = ForeignKey(OrgUnit, null=False, on_delete=OnDelete.restrict, index=True)
    category = Varchar(length=40)
    occurred_at = Timestamptz()
    minutes = Integer(default=0)
    recorded_at = Timestamptz(index=True)
    recorded_by = Integer(null=True, default=None)
    detail = Text(default="{}")
