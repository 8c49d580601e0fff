"""The one check every object read and write goes through.

A caller who may not see the object's org unit gets "not found", exactly as for an id that
does not exist, so ids of other grids reveal nothing. A caller who may see it but not change
it gets "forbidden".
"""

from __future__ import annotations

from gridpoints.auth.permissions import Capability
from gridpoints.auth.principal import Principal
from gridpoints.errors import Forbidden, NotFound


def require(actor: Principal, capability: Capability, path: str | None, what: str) -> None:
    """Raise unless `actor` holds `capability` on the unit at `path` (None: no such object)."""
    if path is None or not actor.can(Capability.VIEW, path):
        raise NotFound(what)
    if not actor.can(capability, path):
        raise Forbidden(f"您没有权限对该{what}执行此操作")
