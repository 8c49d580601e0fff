"""Sign-in sessions: one row per sign-in, named by the token it issued (`jti`).

A token is accepted only while its session stands, so ending a session (sign-out, a
password change or reset, deactivation, a role removed) ends the token at once, and
reactivating a member never revives an old one.
"""

from piccolo.columns import Integer, Timestamptz, Varchar
from piccolo.table import Table


class AuthSession(Table, tablename="auth_session"):
    # `member` or `partner` (a partner unit's contact account), and that account's id.
    account_kind = Varchar(length=10)
    account_id = Integer(index=True)
    created_at = Timestamptz()
    ended_at = Timestamptz(null=True, default=None)
    ended_reason = Varchar(length=40, null=True, default=None)
