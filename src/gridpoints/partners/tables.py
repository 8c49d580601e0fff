"""Partner units (报到单位/共建单位), their pairings with communities, and the accounts their
contacts sign in with to read their own members' record."""

from piccolo.columns import Date, ForeignKey, OnDelete, Timestamptz, Varchar
from piccolo.table import Table

from gridpoints.org.tables import OrgUnit


class PartnerUnit(Table, tablename="partner_unit"):
    """An employer's Party organisation (报到单位/共建单位)."""

    name = Varchar(length=100, unique=True)
    kind = Varchar(length=20)
    contact_name = Varchar(length=50, null=True, default=None)
    contact_phone = Varchar(length=20, null=True, default=None)
    # The committee that registered the unit; it decides who may see and edit it.
    org_unit = ForeignKey(OrgUnit, null=False, on_delete=OnDelete.restrict, index=True)
    created_at = Timestamptz()


class UnitPairing(Table, tablename="unit_pairing"):
    """A partner unit pairs with a community under a co-building agreement (共建联建协议)."""

    partner_unit = ForeignKey(PartnerUnit, null=False, on_delete=OnDelete.restrict, index=True)
    community = ForeignKey(OrgUnit, null=False, on_delete=OnDelete.restrict, index=True)
    agreement = Varchar(length=200)
    signed_on = Date()
    ends_on = Date(null=True, default=None)
    state = Varchar(length=20, default="active")
    created_at = Timestamptz()


class PartnerAccount(Table, tablename="partner_account"):
    """A partner unit's contact, who signs in to read their own members' record."""

    partner_unit = ForeignKey(PartnerUnit, null=False, on_delete=OnDelete.restrict, index=True)
    name = Varchar(length=50)
    phone = Varchar(length=20, unique=True)
    password_hash = Varchar(length=255)
    status = Varchar(length=20, default="active")
    created_at = Timestamptz()
