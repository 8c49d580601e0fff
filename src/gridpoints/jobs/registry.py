"""Every kind of job and the function that runs it, and who a job acts as.

The domains own their jobs; the application registers them once at start (`gridpoints.wiring`),
so this package knows no domain. A handler is a plain async function taking a `JobContext`;
it commits its effects through `ctx.complete(...)`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from gridpoints.auth.principal import Principal
from gridpoints.jobs.context import JobContext

Handler = Callable[[JobContext], Awaitable[Any]]
# A member's id -> the member as they act now (roles included), or None when not active.
ActorLoader = Callable[[int], Awaitable[Principal | None]]

HANDLERS: dict[str, Handler] = {}
_actor_loaders: list[ActorLoader] = []


class UnknownJobKind(LookupError):
    """A job row names a kind nobody registered (a newer release wrote it, say)."""


def register(kinds: Mapping[str, Handler], acting_member: ActorLoader) -> None:
    """Register job kinds and how a starter is loaded (again: the same kinds, nothing new)."""
    HANDLERS.update(kinds)
    _actor_loaders[:] = [acting_member]


def handler_for(kind: str) -> Handler:
    try:
        return HANDLERS[kind]
    except KeyError:
        raise UnknownJobKind(kind) from None


async def acting_member(member_id: int) -> Principal | None:
    """The starter of a job as they act now (see `register`)."""
    if not _actor_loaders:
        raise RuntimeError("no job kinds registered: call gridpoints.wiring.wire() first")
    return await _actor_loaders[0](member_id)
