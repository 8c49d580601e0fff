"""The table of periodic work, read both by the embedded server (a `Periodic` loop per entry)
and by the arq workers (a cron entry each). The domains own the work; the application lists
it (`gridpoints.wiring.periodic_work`).

Every round must be safe anywhere and often: with several workers, or several processes of
`serve --workers N`, two runs of one round may overlap.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Generic, TypeVar

from gridpoints.jobs.periodic import Periodic

Runtime = TypeVar("Runtime")


@dataclass(frozen=True)
class At:
    """When arq's cron runs a round on the workers (as arq's `cron` takes it: a set of hours,
    minutes, seconds; None is every one)."""

    hour: set[int] | None = None
    minute: set[int] | None = None
    second: set[int] = field(default_factory=lambda: {0})

    def as_cron(self) -> dict[str, Any]:
        return {
            name: value
            for name, value in (
                ("hour", self.hour),
                ("minute", self.minute),
                ("second", self.second),
            )
            if value is not None
        }


@dataclass(frozen=True)
class Scheduled(Generic[Runtime]):
    """One kind of periodic work: its name, its round (given what the process has set up),
    how often the embedded server runs it, and when the workers do."""

    name: str
    run: Callable[[Runtime], Awaitable[object]]
    every: timedelta
    at: At
    first_after: timedelta = timedelta(seconds=5)

    def loop(self, runtime: Runtime) -> Periodic:
        """The embedded server's loop for this entry."""
        return Periodic(self.name, lambda: self.run(runtime), self.every, self.first_after)
