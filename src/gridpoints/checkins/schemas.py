"""API shapes of check-ins."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec

from gridpoints.activities.schemas import Latitude, Longitude
from gridpoints.errors import DomainError
from gridpoints.geo import Datum
from gridpoints.schemas import PLAIN, AwareDatetime, Id, both_or_neither

Token = Annotated[str, PLAIN, msgspec.Meta(min_length=1, max_length=200)]
AccuracyM = Annotated[float, msgspec.Meta(ge=0, le=100_000)]
Reason = Annotated[str, PLAIN, msgspec.Meta(min_length=2, max_length=500)]
Receipt = Annotated[str, PLAIN, msgspec.Meta(min_length=1, max_length=200)]


class CheckInIn(msgspec.Struct, forbid_unknown_fields=True):
    client_id: UUID
    activity_id: Id
    token: Token
    lat: Latitude | None = None
    lng: Longitude | None = None
    accuracy_m: AccuracyM | None = None
    datum: Datum = Datum.WGS84
    # When the phone scanned; a queued check-in is sent later with its own time.
    at: AwareDatetime | None = None
    # The phone's clock as the request left it: `at` is moved by the measured offset
    # (arrival − sent_at), so a phone's wrong clock neither adds nor takes away time.
    sent_at: AwareDatetime | None = None
    # A scan receipt (`POST /checkins/receipts`) for this activity and token: the check-in
    # counts at the receipt's scan time, and the token is judged live at that moment.
    receipt: Receipt | None = None

    def __post_init__(self) -> None:
        # Half a position is no position; stored, it would poison the member's later check-ins.
        both_or_neither(self, "lat", "lng", absent=None)


class CheckInBatch(msgspec.Struct, forbid_unknown_fields=True):
    items: Annotated[list[CheckInIn], msgspec.Meta(min_length=1, max_length=200)]
    # The phone's clock as the batch left it; it applies to every item.
    sent_at: AwareDatetime | None = None


class ProxyCheckInIn(msgspec.Struct, forbid_unknown_fields=True):
    client_id: UUID
    activity_id: Id
    member_id: Id
    reason: Reason


class CheckoutIn(msgspec.Struct, forbid_unknown_fields=True):
    at: AwareDatetime | None = None
    # The phone's clock as the request left it (see `CheckInIn.sent_at`).
    sent_at: AwareDatetime | None = None


class ReceiptIn(msgspec.Struct, forbid_unknown_fields=True):
    activity_id: Id
    token: Token


class ReceiptOut(msgspec.Struct):
    activity_id: int
    receipt: str
    scanned_at: datetime


class ReviewIn(msgspec.Struct, forbid_unknown_fields=True):
    decision: Literal["accepted", "rejected"]
    reason: Annotated[str, PLAIN, msgspec.Meta(max_length=500)] = ""


class CheckInOut(msgspec.Struct):
    id: int
    client_id: UUID
    activity_id: int
    activity_title: str
    activity_starts_at: datetime
    activity_ends_at: datetime
    member_id: int
    member_name: str
    method: str
    checked_in_at: datetime
    received_at: datetime
    checked_out_at: datetime | None
    minutes: int | None
    flags: list[str]
    flag_labels: list[str]
    review: str
    review_reason: str | None
    proxy_reason: str | None


class ItemFieldProblem(msgspec.Struct, frozen=True):
    field: str
    detail: str


class ItemProblem(msgspec.Struct, frozen=True, omit_defaults=True):
    """Why one item of a batch was not stored: the status, machine code, detail and bad
    fields of the problem the item alone would have got (the batch itself answers 200)."""

    status: int
    code: str
    detail: str
    errors: list[ItemFieldProblem] = msgspec.field(default_factory=list)

    @classmethod
    def of(cls, error: DomainError) -> ItemProblem:
        fields = [ItemFieldProblem(p.field, p.detail) for p in error.problems]
        return cls(error.status, error.code, error.detail, fields)


class BatchItemOut(msgspec.Struct, omit_defaults=True):
    client_id: str
    status: int
    checkin: CheckInOut | None = None
    problem: ItemProblem | None = None


class BatchOut(msgspec.Struct):
    items: list[BatchItemOut]
