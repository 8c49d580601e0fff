"""API shapes of micro-wishes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

from gridpoints.schemas import PLAIN, VISIBLE, Id


class WishIn(msgspec.Struct, forbid_unknown_fields=True):
    org_unit_id: Id
    title: Annotated[str, VISIBLE, msgspec.Meta(min_length=1, max_length=100)]
    category: Annotated[str, msgspec.Meta(min_length=1, max_length=40)] = "resident_service"
    description: Annotated[str, PLAIN, msgspec.Meta(max_length=2000)] = ""


class FulfilIn(msgspec.Struct, forbid_unknown_fields=True):
    evidence: Annotated[str, PLAIN, msgspec.Meta(min_length=2, max_length=2000)]


class WishOut(msgspec.Struct):
    id: int
    org_unit_id: int
    title: str
    description: str
    category: str
    state: str
    state_label: str
    claimed_by: int | None
    claimed_at: datetime | None
    evidence: str | None
    fulfilled_at: datetime | None
    confirmed_at: datetime | None
    created_at: datetime
