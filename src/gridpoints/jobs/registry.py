"""Every kind of job and the function that runs it. A handler is a plain async function
taking a `JobContext`; it commits its effects through `ctx.complete(...)`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from importlib import import_module
from typing import Any

from gridpoints.jobs.context import JobContext

Handler = Callable[[JobContext], Awaitable[Any]]

# kind -> "module:function", imported when first run so the registry has no import cycles.
HANDLERS: dict[str, str] = {
    "members.import": "gridpoints.members.roster_import.job:import_members",
    "points.dry_run": "gridpoints.points.dry_run:dry_run",
    "points.rescore": "gridpoints.points.rescore:rescore",
}


def handler_for(kind: str) -> Handler:
    module_name, _, function_name = HANDLERS[kind].partition(":")
    return getattr(import_module(module_name), function_name)
