"""Creates a phone may send more than once (a lost answer, a retry, a queue sent again).

Each such request carries a `client_id` the phone made, kept unique by the table it creates a
row in, and the row keeps a digest of the request beside it. The same request again finds the
row it made and answers with it, nothing new stored; another request under the same id is
refused (409 `client_id_reused`). The digest covers who sent it, so the same id from someone
else is another request.
"""

from __future__ import annotations

import hashlib

import msgspec

from gridpoints.errors import Conflict

CODE = "client_id_reused"


def body_hash(sender: int | None, data: msgspec.Struct | dict[str, object]) -> str:
    """The digest of a request: its sender and its body, field order aside."""
    return hashlib.sha256(msgspec.json.encode([sender, data], order="sorted")).hexdigest()


def reused(what: str) -> Conflict:
    """The refusal of another request sent under an id already used."""
    return Conflict(f"这条{what}与先前用同一编号提交的内容不同，请刷新页面后重新填写", code=CODE)


def check_same(stored_hash: str | None, digest: str, what: str) -> None:
    """Nothing when the stored row was made by this very request; the refusal otherwise."""
    if stored_hash != digest:
        raise reused(what)
