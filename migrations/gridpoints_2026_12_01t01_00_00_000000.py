"""Sign-in sessions (a token is accepted while its session stands) and temporary passwords
(a member whose password a manager set must change it at the next sign-in)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Boolean, Integer, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-01T01:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "auth: sign-in sessions; member.must_change_password"


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
    manager.add_table(class_name="AuthSession", tablename="auth_session", schema=None, columns=None)
    session_columns = [
        ("account_kind", Varchar, "Varchar", _params(length=10, default="")),
        ("account_id", Integer, "Integer", _params(default=0, index=True)),
        ("created_at", Timestamptz, "Timestamptz", _params(default=TimestamptzNow())),
        ("ended_at", Timestamptz, "Timestamptz", _params(default=None, null=True)),
        ("ended_reason", Varchar, "Varchar", _params(length=40, default=None, null=True)),
    ]
    for name, column_class, class_name, params in session_columns:
        manager.add_column(
            table_class_name="AuthSession",
            tablename="auth_session",
            column_name=name,
            db_column_name=name,
            column_class_name=class_name,
            column_class=column_class,
            params=params,
            schema=None,
        )
    manager.add_column(
        table_class_name="Member",
        tablename="member",
        column_name="must_change_password",
        db_column_name="must_change_password",
        column_class_name="Boolean",
        column_class=Boolean,
        params=_params(default=False),
        schema=None,
    )
    return manager
