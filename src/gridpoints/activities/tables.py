"""Activities organised by an org unit."""

from enum import StrEnum

from piccolo.columns import (
    DoublePrecision,
    ForeignKey,
    Integer,
    OnDelete,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.table import Table

from gridpoints.org.tables import OrgUnit


class ActivityStatus(StrEnum):
    """Only a scheduled activity takes check-ins and shows its code."""

    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"


class Activity(Table, tablename="activity"):
    org_unit = ForeignKey(OrgUnit, null=False, on_delete=OnDelete.restrict, index=True)
    title = Varchar(length=100)
    category = Varchar(length=40)
    description = Text(default="")
    starts_at = Timestamptz()
    ends_at = Timestamptz()
    lat = DoublePrecision()
    lng = DoublePrecision()
    radius_m = Integer()
    capacity = Integer(null=True, default=None)
    # Mixed into the signing key of this activity's check-in tokens only.
    code_secret = Varchar(length=64)
    status = Varchar(length=20, default="scheduled", choices=ActivityStatus)
    created_by = Integer(null=True, default=None)
    created_at = Timestamptz()
    updated_at = Timestamptz()
