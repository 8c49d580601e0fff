"""Audit rows. Each row's `hash` covers the previous row's hash and the row's own canonical
content (see `audit.chain`), so an edited or removed row breaks the chain after it."""

from piccolo.columns import Integer, Text, Timestamptz, Varchar
from piccolo.table import Table


class AuditEntry(Table, tablename="audit_log"):
    at = Timestamptz()
    actor_id = Integer(null=True, default=None)
    actor_label = Varchar(length=60)
    action = Varchar(length=60)
    object_type = Varchar(length=40)
    object_id = Integer(null=True, default=None, index=True)
    org_unit_id = Integer(null=True, default=None, index=True)
    before = Text(null=True, default=None)
    after = Text(null=True, default=None)
    prev_hash = Varchar(length=64)
    hash = Varchar(length=64, unique=True)
