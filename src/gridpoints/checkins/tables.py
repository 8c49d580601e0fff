"""Check-ins: one row per `client_id` (made by the phone), so a replay never makes another."""

from enum import StrEnum

from piccolo.columns import (
    UUID,
    BigInt,
    DoublePrecision,
    ForeignKey,
    Integer,
    OnDelete,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.table import Table

from gridpoints.activities.tables import Activity
from gridpoints.members.tables import Member


class Review(StrEnum):
    """A check-in is accepted as it came, or flagged and pending a leader's ruling, which
    accepts or rejects it."""

    ACCEPTED = "accepted"
    PENDING = "pending"
    REJECTED = "rejected"


class CheckIn(Table, tablename="checkin"):
    client_id = UUID(unique=True)
    activity = ForeignKey(Activity, null=False, on_delete=OnDelete.restrict, index=True)
    member = ForeignKey(Member, null=False, on_delete=OnDelete.restrict, index=True)
    method = Varchar(length=10)  # qr | proxy
    # When the phone scanned, by its clock (never later than arrival).
    checked_in_at = Timestamptz()
    received_at = Timestamptz()
    lat = DoublePrecision(null=True, default=None)
    lng = DoublePrecision(null=True, default=None)
    accuracy_m = DoublePrecision(null=True, default=None)
    token_slot = BigInt(null=True, default=None)
    flags = Varchar(length=200, default="")  # comma-separated flag codes
    review = Varchar(length=10, index=True, choices=Review)
    review_reason = Text(null=True, default=None)
    reviewed_by = Integer(null=True, default=None)
    reviewed_at = Timestamptz(null=True, default=None)
    proxy_by = Integer(null=True, default=None)
    proxy_reason = Text(null=True, default=None)
    checked_out_at = Timestamptz(null=True, default=None)
    checkout_kind = Varchar(length=10, null=True, default=None)  # member | leader | auto
    # Digest of what the phone sent; a replay must send the same.
    body_hash = Varchar(length=64)
