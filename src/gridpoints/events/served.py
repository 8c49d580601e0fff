""" "Served this quarter": the one predicate the period-end rules and the duty report share.

A member served in a span of time when they hold a verified check-in or service in it that
was not revoked (the seeds' obligation: at least one volunteer activity a quarter).
"""

from __future__ import annotations

from datetime import datetime

from gridpoints.db.sql import Fragment

_SERVED = """
EXISTS (
    SELECT 1 FROM verified_event e
    WHERE e.member = {} AND e.action = 'verified' AND e.kind IN ('checkin', 'service')
      AND e.occurred_at >= {} AND e.occurred_at < {}
      AND NOT EXISTS (
          SELECT 1 FROM verified_event r
          WHERE r.kind = e.kind AND r.source_id = e.source_id AND r.action = 'revoked'
      )
)
"""


def served(member: str, start: datetime, end: datetime) -> Fragment:
    """SQL condition: the member whose id is the column `member` (from the code, not a
    value) served in [start, end)."""
    return Fragment(_SERVED.strip(), [Fragment(member), start, end])
