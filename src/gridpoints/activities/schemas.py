"""API shapes of activities and their check-in code."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

from gridpoints.geo import Datum
from gridpoints.schemas import PLAIN, VISIBLE, AwareDatetime, Id, both_or_neither

Title = Annotated[str, VISIBLE, msgspec.Meta(min_length=1, max_length=100)]
CategoryCode = Annotated[str, msgspec.Meta(min_length=1, max_length=40)]
Description = Annotated[str, PLAIN, msgspec.Meta(max_length=2000)]
Latitude = Annotated[float, msgspec.Meta(ge=-90, le=90)]
Longitude = Annotated[float, msgspec.Meta(ge=-180, le=180)]
RadiusM = Annotated[int, msgspec.Meta(ge=10, le=5000)]
Capacity = Annotated[int, msgspec.Meta(ge=1, le=100_000)]


class ActivityIn(msgspec.Struct, forbid_unknown_fields=True):
    org_unit_id: Id
    title: Title
    category: CategoryCode
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    lat: Latitude
    lng: Longitude
    # The map the place was picked on; it is stored converted to WGS-84.
    datum: Datum = Datum.WGS84
    radius_m: RadiusM = 200
    capacity: Capacity | None = None
    description: Description = ""


class ActivityPatch(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    title: Title | msgspec.UnsetType = msgspec.UNSET
    category: CategoryCode | msgspec.UnsetType = msgspec.UNSET
    starts_at: AwareDatetime | msgspec.UnsetType = msgspec.UNSET
    ends_at: AwareDatetime | msgspec.UnsetType = msgspec.UNSET
    lat: Latitude | msgspec.UnsetType = msgspec.UNSET
    lng: Longitude | msgspec.UnsetType = msgspec.UNSET
    # The datum of the new `lat`/`lng` (WGS-84 when not given).
    datum: Datum | msgspec.UnsetType = msgspec.UNSET
    radius_m: RadiusM | msgspec.UnsetType = msgspec.UNSET
    capacity: Capacity | msgspec.UnsetType | None = msgspec.UNSET
    description: Description | msgspec.UnsetType = msgspec.UNSET

    def __post_init__(self) -> None:
        # An activity is moved by giving its new place whole.
        both_or_neither(self, "lat", "lng", absent=msgspec.UNSET)
        if self.datum is not msgspec.UNSET and self.lat is msgspec.UNSET:
            raise ValueError("field `datum`: 坐标系须与经纬度一同给出")


class ActivityOut(msgspec.Struct):
    id: int
    org_unit_id: int
    org_unit_name: str
    title: str
    category: str
    category_label: str
    description: str
    starts_at: datetime
    ends_at: datetime
    # Always WGS-84 (`datum` says so): a map in GCJ-02 or BD-09 converts for display.
    lat: float
    lng: float
    datum: Datum
    radius_m: int
    capacity: int | None
    status: str
    # May the caller organise it (edit, show the code)?
    organiser: bool


class CheckinCode(msgspec.Struct):
    token: str
    slot_seconds: int
    expires_at: datetime
    checkin_url: str
