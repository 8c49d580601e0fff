"""Service records sent from a phone are stored once: the phone's `client_id`, the digest of
what was sent under it, and flags for the leader (a likely duplicate). The next migration makes
`client_id` unique (Piccolo runs a migration's raw statements before its columns)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import UUID, Varchar
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-01T06:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "service records: client_id, body_hash, flags"


def _params(**given):
    return {
        "null": False,
        "primary_key": False,
        "unique": False,
        "index": False,
        "index_method": IndexMethod.btree,
        "choices": None,
        "db_column_name": None,
        "secret": False,
        **given,
    }


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="gridpoints", description=DESCRIPTION)
    columns = [
        ("client_id", UUID, "UUID", _params(default=None, null=True)),
        ("body_hash", Varchar, "Varchar", _params(length=64, default=None, null=True)),
        ("flags", Varchar, "Varchar", _params(length=200, default="")),
    ]
    for name, column_class, class_name, params in columns:
        manager.add_column(
            table_class_name="ServiceRecord",
            tablename="service_record",
            column_name=name,
            db_column_name=name,
            column_class_name=class_name,
            column_class=column_class,
            params=params,
            schema=None,
        )
    return manager
