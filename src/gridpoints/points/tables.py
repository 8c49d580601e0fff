"""The points ledger: append-only entries, each naming the member, the quarter, the amount,
the event it came from and the rule (set, version, rule id) that gave it.

Entries are never updated or deleted (database triggers refuse both); a correction is a new
entry reversing another. `key` makes each entry happen once: per event, rule set version and
rule; per member, quarter and period-end rule; per reversed entry.

A quarter whose period-end rules have run is recorded as closed (`ClosedPeriod`): an event of
it verified or revoked later has those rules applied again for its member (`points.late`).
A quarter locked for an org unit (`PeriodLock`) may no longer be rescored there: the unit's
final quarterly review rests on its points; a late event of it is scored in the open quarter.
"""

from piccolo.columns import Integer, Timestamptz, Varchar
from piccolo.table import Table


class PointsEntry(Table, tablename="points_entry"):
    key = Varchar(length=160, unique=True)
    # A member's id, without a foreign key: entries come only from verified events and
    # adjustments of existing members (who are never deleted), and bulk scoring would pay a
    # lookup per entry for a check that cannot fail. Indexed with the rule (see migrations).
    member = Integer()
    period = Varchar(length=7, index=True)  # 2026Q3
    amount = Integer()
    kind = Varchar(length=12)  # score | period_end | reversal | adjustment
    event = Integer(null=True, default=None, index=True)  # the verified event scored
    rule_set = Varchar(length=60, null=True, default=None)
    rule_set_version = Varchar(length=16, null=True, default=None)
    rule = Varchar(length=60, null=True, default=None)
    # What the member reads: the rule's label when the entry was made, or the reason.
    label = Varchar(length=200)
    category = Varchar(length=40, null=True, default=None)
    occurred_at = Timestamptz()
    # Unique where set (a partial index, see migrations): an entry is reversed at most once.
    reverses = Integer(null=True, default=None)
    author = Integer(null=True, default=None)
    created_at = Timestamptz()


class ScoredEvent(Table, tablename="points_scored_event"):
    """A verified event the engine has scored (whatever it gave): written with its entries."""

    event = Integer(unique=True)
    scored_at = Timestamptz()


class PeriodLock(Table, tablename="points_period_lock"):
    """A quarter whose points are locked for an org unit's subtree, and why."""

    key = Varchar(length=40, unique=True)  # "2026Q3:<org unit id>": a lock is made once
    period = Varchar(length=7, index=True)
    org_unit = Integer()
    reason = Varchar(length=200)
    locked_by = Integer(null=True, default=None)
    locked_at = Timestamptz()


class ClosedPeriod(Table, tablename="points_period_closed"):
    """A quarter whose period-end rules have run (once: the period is unique)."""

    period = Varchar(length=7, unique=True)
    closed_at = Timestamptz()
