"""Taking turns with the scorers: who scores which members side by side (`Share`), and the
lock a writer of points takes so that no scorer writes at the same moment.

On PostgreSQL each share has an advisory lock held to the end of the transaction; on SQLite
the write lock already makes every writer wait its turn.
"""

from __future__ import annotations

from dataclasses import dataclass

from gridpoints.db import sql
from gridpoints.db.engine import is_postgres
from gridpoints.db.sql import Fragment

# pg_advisory_xact_lock key: one scorer at a time ("pts").
_SCORING_LOCK = 0x707473
# Scorers side by side on PostgreSQL (each a connection and, on the server, a core).
PARALLEL = 2


@dataclass(frozen=True)
class Share:
    """One of `count` scorers working side by side, each on the events of the members whose
    id leaves `index` divided by `count`: caps are per member, so shares never meet."""

    index: int = 0
    count: int = 1

    @property
    def condition(self) -> Fragment:
        # Constants, not parameters: the text is part of the statement's cached plan.
        if self.count == 1:
            return Fragment()
        return Fragment(f"AND e.member % {self.count} = {self.index}")


def shares() -> list[Share]:
    """PostgreSQL writes side by side (one connection each); SQLite has one writer."""
    count = PARALLEL if is_postgres() else 1
    return [Share(index, count) for index in range(count)]


async def scoring_turn() -> None:
    """Inside a write transaction: wait until no other transaction writes scores, in any
    share (SQLite's write lock already does that)."""
    for share in shares():
        await take_turn(share)


async def take_turn(share: Share) -> None:
    """Inside a write transaction: wait until no other scorer of the share writes."""
    if is_postgres():
        # Always taken in share order, so two holders of several never wait on each other.
        await sql.fetch("SELECT pg_advisory_xact_lock({})", _SCORING_LOCK + share.index)
