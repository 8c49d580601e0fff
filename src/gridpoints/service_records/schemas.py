"""API shapes of service records."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec

from gridpoints.schemas import PLAIN, AwareDatetime, Id

Hours = Annotated[float, msgspec.Meta(gt=0, le=24)]
Description = Annotated[str, PLAIN, msgspec.Meta(min_length=2, max_length=2000)]
Reason = Annotated[str, PLAIN, msgspec.Meta(min_length=2, max_length=500)]


class ServiceRecordIn(msgspec.Struct, forbid_unknown_fields=True):
    category: Annotated[str, msgspec.Meta(min_length=1, max_length=40)]
    hours: Hours
    description: Description
    served_on: AwareDatetime
    # Someone else's record: a leader logging a deed on a member's behalf.
    member_id: Id | None = None
    # Made by the phone and kept across retries of one form: the same id and body again
    # answer 200 with the record first stored; another body under it is refused (409).
    client_id: UUID | None = None


class RejectIn(msgspec.Struct, forbid_unknown_fields=True):
    reason: Reason


class ServiceRecordOut(msgspec.Struct):
    id: int
    member_id: int
    member_name: str
    category: str
    category_label: str
    hours: float
    description: str
    served_on: datetime
    has_photo: bool
    state: str
    reason: str | None
    submitted_by: int | None
    decided_by: int | None
    decided_at: datetime | None
    created_at: datetime
    client_id: UUID | None
    # What the leader should look at before ruling (codes, and their Chinese labels).
    flags: list[str]
    flag_labels: list[str]
