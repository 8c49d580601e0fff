"""The grid tree as a table. `path` is a materialised path (`/1/7/42/`): everything below a
unit is one indexed range query on it (see `org.queries`)."""

from piccolo.columns import ForeignKey, Integer, OnDelete, Timestamptz, Varchar
from piccolo.table import Table


class OrgUnit(Table, tablename="org_unit"):
    parent = ForeignKey("self", null=True, on_delete=OnDelete.restrict, index=True)
    name = Varchar(length=100)
    code = Varchar(length=60, unique=True)
    level = Integer()
    level_name = Varchar(length=20)
    path = Varchar(length=255, unique=True)
    created_at = Timestamptz()
