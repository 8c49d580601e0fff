"""Write transactions that behave the same on both engines.

On SQLite a transaction that reads and then writes must take the write lock at its start
(`BEGIN IMMEDIATE`), or a concurrent writer makes it fail with "database is locked"; with the
busy timeout it waits instead. PostgreSQL needs nothing special.
"""

from __future__ import annotations

from typing import Any

from piccolo.engine.sqlite import SQLiteEngine, TransactionType

from gridpoints.db.engine import current_engine


def writing() -> Any:
    """`async with writing():` runs the block in one write transaction (nested blocks join it)."""
    engine = current_engine()
    if isinstance(engine, SQLiteEngine):
        return engine.transaction(transaction_type=TransactionType.immediate)
    return engine.transaction()


def in_transaction() -> bool:
    return current_engine().current_transaction.get() is not None
