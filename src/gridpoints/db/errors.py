"""Recognising constraint violations from either engine's driver."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import asyncpg


def is_unique_violation(exc: BaseException) -> bool:
    if isinstance(exc, asyncpg.UniqueViolationError):
        return True
    return isinstance(exc, sqlite3.IntegrityError) and "UNIQUE constraint failed" in str(exc)


def violated_constraint(exc: BaseException) -> str:
    """The constraint (PostgreSQL) or the columns (SQLite) that a violation names."""
    if isinstance(exc, asyncpg.UniqueViolationError):
        return exc.constraint_name or ""
    return str(exc).split("failed:", 1)[-1].strip()


@contextmanager
def unique_or(conflict: Callable[[], Exception]) -> Iterator[None]:
    """Turn a unique violation raised inside the block into `conflict()` (typically a
    `gridpoints.errors.Conflict`), chained to the driver's error; other errors pass through.

    For writes checked beforehand: a concurrent writer may still get in between the check and
    the write, and its clash is then reported as the check would have reported it."""
    try:
        yield
    except Exception as exc:
        if is_unique_violation(exc):
            raise conflict() from exc
        raise
