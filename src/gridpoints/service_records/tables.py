"""Service records (服务记录): submitted by a member or for them, verified by a leader."""

from enum import StrEnum

from piccolo.columns import UUID, ForeignKey, Integer, OnDelete, Text, Timestamptz, Varchar
from piccolo.table import Table

from gridpoints.members.tables import Member


class RecordState(StrEnum):
    """A record waits, submitted, until a leader approves or rejects it."""

    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"


class ServiceRecord(Table, tablename="service_record"):
    member = ForeignKey(Member, null=False, on_delete=OnDelete.restrict, index=True)
    category = Varchar(length=40)
    minutes = Integer()
    description = Text()
    served_on = Timestamptz()
    # Relative to the uploads folder; the platform names the file, never the client.
    photo = Varchar(length=200, null=True, default=None)
    state = Varchar(length=10, index=True, choices=RecordState)
    submitted_by = Integer(null=True, default=None)
    decided_by = Integer(null=True, default=None)
    decided_at = Timestamptz(null=True, default=None)
    reason = Text(null=True, default=None)
    created_at = Timestamptz()
    # Made by the phone, so a form sent again stores nothing new; unique where given (an
    # index of its own, see the migration: other clients may send none).
    client_id = UUID(null=True, default=None)
    # Digest of what was sent under `client_id` (`gridpoints.replays`).
    body_hash = Varchar(length=64, null=True, default=None)
    # Comma-separated codes of what the leader should look at (`likely_duplicate`).
    flags = Varchar(length=200, default="")
