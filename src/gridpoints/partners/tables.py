"""Accounts of partner units' contacts: they sign in to read their own members' record."""

from piccolo.columns import ForeignKey, OnDelete, Timestamptz, Varchar
from piccolo.table import Table

from gridpoints.members.tables import PartnerUnit


class PartnerAccount(Table, tablename="partner_account"):
    partner_unit = ForeignKey(PartnerUnit, null=False, on_delete=OnDelete.restrict, index=True)
    name = Varchar(length=50)
    phone = Varchar(length=20, unique=True)
    password_hash = Varchar(length=255)
    status = Varchar(length=20, default="active")
    created_at = Timestamptz()
