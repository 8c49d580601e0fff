"""Work the embedded server repeats on a timer (closing stale check-ins, scoring), stopped
between rounds at shut-down.

Cancelling a round in the middle could leave a database transaction half-opened and its
connection never given back, and closing the pool would then wait for it for ever; so a stop
asks the loop to end, waits for the round in progress, and cancels only after a grace period.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

log = logging.getLogger(__name__)


class Periodic:
    def __init__(
        self,
        name: str,
        round_: Callable[[], Awaitable[object]],
        every: timedelta,
        first_after: timedelta = timedelta(seconds=5),
    ) -> None:
        self.name = name
        self._round = round_
        self._every = every.total_seconds()
        # Start-up has its own work (jobs resubmitted): the first round waits a little.
        self._first_after = first_after.total_seconds()
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=self.name)

    async def _run(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), self._first_after)
        while not self._stopping.is_set():
            try:
                await self._round()
            except Exception:  # a failed round must not end the schedule
                log.exception("%s: a round failed", self.name)
            # The pause between rounds, cut short by a stop.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self._every)

    async def stop(self, grace: timedelta = timedelta(seconds=30)) -> None:
        if self._task is None:
            return
        self._stopping.set()
        try:
            await asyncio.wait_for(asyncio.shield(self._task), grace.total_seconds())
        except TimeoutError:
            log.warning("%s: still running after %s, cancelled", self.name, grace)
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
