"""Micro-wishes and their one claimant."""

from piccolo.columns import ForeignKey, Integer, OnDelete, Text, Timestamptz, Varchar
from piccolo.table import Table

from gridpoints.members.tables import Member
from gridpoints.org.tables import OrgUnit


class Wish(Table, tablename="wish"):
    org_unit = ForeignKey(OrgUnit, null=False, on_delete=OnDelete.restrict, index=True)
    title = Varchar(length=100)
    description = Text(default="")
    category = Varchar(length=40)
    state = Varchar(length=12, index=True)  # open | claimed | fulfilled | confirmed
    posted_by = Integer(null=True, default=None)
    claimed_by = ForeignKey(Member, null=True, default=None, on_delete=OnDelete.restrict)
    claimed_at = Timestamptz(null=True, default=None)
    evidence = Text(null=True, default=None)
    fulfilled_at = Timestamptz(null=True, default=None)
    confirmed_by = Integer(null=True, default=None)
    confirmed_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz()
