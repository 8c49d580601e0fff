"""State columns name their vocabularies (Piccolo `choices`): activity status, check-in review,
service record state, wish state.

Piccolo keeps `choices` in its own record of the tables only: no column, type or constraint
changes on either engine, and the stored strings stay as they are. The vocabularies are
written out here, not imported, so this migration says what held when it was written.
"""

from enum import Enum

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Varchar

ID = "2026-12-01T01:41:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "choices for activity.status, checkin.review, service_record.state, wish.state"

_VOCABULARIES = [
    ("Activity", "activity", "status", "ActivityStatus", ("scheduled", "cancelled")),
    ("CheckIn", "checkin", "review", "Review", ("accepted", "pending", "rejected")),
    (
        "ServiceRecord",
        "service_record",
        "state",
        "RecordState",
        ("submitted", "approved", "rejected"),
    ),
    ("Wish", "wish", "state", "WishState", ("open", "claimed", "fulfilled", "confirmed")),
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="gridpoints", description=DESCRIPTION)
    for class_name, tablename, column, enum_name, values in _VOCABULARIES:
        manager.alter_column(
            table_class_name=class_name,
            tablename=tablename,
            column_name=column,
            db_column_name=column,
            params={"choices": Enum(enum_name, {value.upper(): value for value in values})},
            old_params={"choices": None},
            column_class=Varchar,
            old_column_class=Varchar,
            schema=None,
        )
    return manager
