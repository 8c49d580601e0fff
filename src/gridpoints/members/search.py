"""Finding members by what people type into the search box: part of a name, or digits of a
phone number.

Names of Uyghur, Kazakh and other members are written with a middle dot (间隔号) between
the given name and the father's name, and every keyboard makes a different one: `·` (U+00B7,
the standard one), `•`, `・`, `‧`, `･`, `．` or a plain `.`. The search folds them all into
U+00B7, in the query (`fold_name`) and in SQL over the stored name (`name_contains`, a chain
of `replace()` that both engines have), and folds the ideographic and no-break spaces into a
plain one and drops zero-width marks. A contains search (`LIKE '%…%'`) uses no B-tree index
on either engine, folded or not, so folding in the query costs no index, keeps stored names
exactly as they were written and needs no second column to keep in step.
"""

from __future__ import annotations

from piccolo.columns.combination import WhereRaw

from gridpoints.auth.permissions import Capability
from gridpoints.auth.principal import Principal
from gridpoints.db.engine import is_postgres
from gridpoints.members.tables import Member
from gridpoints.org.queries import within
from gridpoints.phones import phone_fragment

MIDDLE_DOT = "\u00b7"
# Dots that stand for the middle dot in a name: bullet, katakana middle dot, hyphenation
# point, half-width katakana middle dot, full-width full stop, full stop, bullet operator,
# dot operator, Greek ano teleia, word separator middle dot.
LOOK_ALIKE_DOTS = "\u2022\u30fb\u2027\uff65\uff0e.\u2219\u22c5\u0387\u2e31"
# Spaces folded into a plain space: ideographic (full-width), no-break, narrow no-break.
OTHER_SPACES = "\u3000\u00a0\u202f"
# Marks that show nothing and are dropped: zero-width space, non-joiner, joiner, word
# joiner, byte order mark, left-to-right and right-to-left marks.
INVISIBLE_MARKS = "\u200b\u200c\u200d\u2060\ufeff\u200e\u200f"

_FOLDS: tuple[tuple[str, str], ...] = (
    *((dot, MIDDLE_DOT) for dot in LOOK_ALIKE_DOTS),
    *((space, " ") for space in OTHER_SPACES),
    *((mark, "") for mark in INVISIBLE_MARKS),
)
_TABLE = str.maketrans(dict(_FOLDS))
# The escape character of the LIKE patterns (one that needs no escaping in SQL itself).
_ESCAPE = "!"


def fold_name(text: str) -> str:
    """A name or a query as the search compares it: look-alike dots as U+00B7, every space
    as one plain space, no zero-width marks."""
    return " ".join(text.translate(_TABLE).split())


def folded_sql(column: str) -> str:
    """`column` folded like `fold_name` (except runs of spaces, which stored names never
    hold: `members.services` collapses them on every write), as SQL both engines run."""
    expression = column
    for source, target in _FOLDS:
        expression = f"replace({expression}, '{source}', '{target}')"
    return expression


def _like_pattern(text: str) -> str:
    escaped = (
        text.replace(_ESCAPE, _ESCAPE * 2).replace("%", _ESCAPE + "%").replace("_", _ESCAPE + "_")
    )
    return f"%{escaped}%"


def name_contains(text: str) -> WhereRaw:
    """Members whose folded name holds the folded `text`, ignoring the case of Latin
    letters on both engines (SQLite's LIKE already does; ILIKE is PostgreSQL's)."""
    column = f'"{Member._meta.tablename}"."{Member.name._meta.db_column_name}"'
    operator = "ILIKE" if is_postgres() else "LIKE"
    return WhereRaw(
        f"{folded_sql(column)} {operator} {{}} ESCAPE '{_ESCAPE}'",
        _like_pattern(fold_name(text)),
    )


def member_search(actor: Principal, q: str):
    """By name; by phone digits (typed any way `phones` accepts) only among members whose
    numbers the caller may see, so a search cannot probe a masked number."""
    by_name = name_contains(q)
    digits = phone_fragment(q)
    if digits is None:
        return by_name
    managed = within(Member.org_unit._.path, actor.scopes(Capability.MANAGE_MEMBERS))
    # Digits only: nothing in them for LIKE to read as a wildcard.
    return by_name | (Member.phone.like(f"%{digits}%") & managed)
