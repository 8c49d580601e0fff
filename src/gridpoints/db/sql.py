"""Hand-written SQL for the hot paths, on either engine.

Statements use Piccolo's `{}` placeholders, every value a bound parameter; a statement put
together from parts is a `Fragment`, whose parts carry their own values. On PostgreSQL they
go straight to asyncpg (the current transaction's connection, else one from the pool),
skipping Piccolo's query building, which costs more than the round trip on a request that
makes several; on SQLite they go through Piccolo's engine, which owns the connections and
the type adapters.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

from piccolo.engine.postgres import PostgresEngine
from piccolo.querystring import QueryString

from gridpoints.db.engine import current_engine

Row = Mapping[str, Any]


@dataclass
class Fragment:
    """SQL text with `{}` placeholders and the values that fill them, in order.

    A value that is itself a Fragment is spliced in: its text takes the place of its
    placeholder and its values the place of its own. So a statement is written once with
    `{}` wherever a value or a part goes, and parts never need their values counted in by
    hand. Only text from the code goes into `text` (identifiers and constants); anything
    from outside is a value."""

    text: str = ""
    args: list[Any] = field(default_factory=list)

    def __post_init__(self) -> None:
        text, self.text = self.text, ""
        args, self.args = self.args, []
        self.add(text, *args)

    def add(self, text: str, *args: Any) -> Fragment:
        """Append `text`, its `{}` filled by `args` in order (a Fragment is spliced in);
        ValueError when the placeholders and values do not pair up."""
        parts = text.split("{}")
        if len(parts) != len(args) + 1:
            raise ValueError(f"{len(parts) - 1} placeholders for {len(args)} values: {text!r}")
        self.text += parts[0]
        for arg, part in zip(args, parts[1:], strict=True):
            if isinstance(arg, Fragment):
                self.text += arg.text
                self.args.extend(arg.args)
            else:
                self.text += "{}"
                self.args.append(arg)
            self.text += part
        return self

    def add_fragment(self, other: Fragment) -> Fragment:
        return self.add("{}", other)


def listed(values: Sequence[Any]) -> Fragment:
    """`{}, {}, ...`: one bound value each, for `IN (...)`."""
    return Fragment(", ".join("{}" for _ in values), list(values))


def instant(value: Any) -> datetime:
    """A timestamp read back from an aggregate (min, max): SQLite loses the column's type
    there and returns text."""
    return datetime.fromisoformat(value) if isinstance(value, str) else value


@lru_cache(maxsize=256)
def _numbered(sql: str) -> str:
    """`{}` placeholders as asyncpg's `$1, $2, ...`."""
    parts = sql.split("{}")
    out = [parts[0]]
    for n, part in enumerate(parts[1:], start=1):
        out.append(f"${n}")
        out.append(part)
    return "".join(out)


async def fetch(sql: str, *args: Any) -> Sequence[Row]:
    engine = current_engine()
    if isinstance(engine, PostgresEngine):
        transaction = engine.current_transaction.get()
        if transaction is not None:
            return await transaction.connection.fetch(_numbered(sql), *args)
        if engine.pool is not None:
            async with engine.pool.acquire() as connection:
                return await connection.fetch(_numbered(sql), *args)
        connection = await engine.get_new_connection()
        try:
            return await connection.fetch(_numbered(sql), *args)
        finally:
            await connection.close()
    return await engine.run_querystring(QueryString(sql, *args))


async def stream(sql: str, *args: Any, chunk: int = 10_000) -> AsyncIterator[Sequence[Row]]:
    """The rows in chunks, so a large answer never sits in memory whole (a server-side
    cursor on PostgreSQL; SQLite, the embedded default, is read whole)."""
    engine = current_engine()
    if not isinstance(engine, PostgresEngine) or engine.pool is None:
        rows = await fetch(sql, *args)
        for start in range(0, len(rows), chunk):
            yield rows[start : start + chunk]
        return
    async with engine.pool.acquire() as connection, connection.transaction():
        cursor = await connection.cursor(_numbered(sql), *args)
        while rows := await cursor.fetch(chunk):
            yield rows


async def fetch_one(sql: str, *args: Any) -> Row | None:
    rows = await fetch(sql, *args)
    return rows[0] if rows else None
