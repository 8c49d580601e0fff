"""Micro-wishes and their one claimant."""

from enum import StrEnum

from piccolo.columns import ForeignKey, Integer, OnDelete, Text, Timestamptz, Varchar
from piccolo.table import Table

from gridpoints.members.tables import Member
from gridpoints.org.tables import OrgUnit


class WishState(StrEnum):
    """A wish is posted open, claimed by one member, fulfilled by them with evidence, and
    confirmed by the community."""

    OPEN = "open"
    CLAIMED = "claimed"
    FULFILLED = "fulfilled"
    CONFIRMED = "confirmed"


class Wish(Table, tablename="wish"):
    org_unit = ForeignKey(OrgUnit, null=False, on_delete=OnDelete.restrict, index=True)
    title = Varchar(length=100)
    description = Text(default="")
    category = Varchar(length=40)
    state = Varchar(length=12, index=True, choices=WishState)
    posted_by = Integer(null=True, default=None)
    claimed_by = ForeignKey(Member, null=True, default=None, on_delete=OnDelete.restrict)
    claimed_at = Timestamptz(null=True, default=None)
    evidence = Text(null=True, default=None)
    fulfilled_at = Timestamptz(null=True, default=None)
    confirmed_by = Integer(null=True, default=None)
    confirmed_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz()
