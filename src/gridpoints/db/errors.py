"""Recognising constraint violations from either engine's driver."""

from __future__ import annotations

import sqlite3

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
