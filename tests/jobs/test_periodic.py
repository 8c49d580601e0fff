"""The embedded server's timed work stops between rounds: a round in progress finishes (its
transaction is never cut in half), and only a round past the grace period is cancelled."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from gridpoints.jobs.periodic import Periodic


async def test_a_stop_lets_the_round_in_progress_finish():
    finished: list[int] = []
    started = asyncio.Event()

    async def round_() -> None:
        started.set()
        await asyncio.sleep(0.05)
        finished.append(1)

    periodic = Periodic("test", round_, timedelta(hours=1), first_after=timedelta(0))
    periodic.start()
    await started.wait()
    await periodic.stop()
    assert finished == [1]


async def test_rounds_repeat_and_a_failed_round_does_not_end_them():
    rounds: list[int] = []

    async def round_() -> None:
        rounds.append(1)
        if len(rounds) == 1:
            raise RuntimeError("the first round fails")

    periodic = Periodic("test", round_, timedelta(milliseconds=10), first_after=timedelta(0))
    periodic.start()
    await asyncio.sleep(0.1)
    await periodic.stop()
    assert len(rounds) >= 3


async def test_a_round_past_the_grace_period_is_cancelled():
    cancelled = asyncio.Event()
    started = asyncio.Event()

    async def round_() -> None:
        started.set()
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    periodic = Periodic("test", round_, timedelta(hours=1), first_after=timedelta(0))
    periodic.start()
    await started.wait()
    await periodic.stop(grace=timedelta(milliseconds=20))
    assert cancelled.is_set()


async def test_a_stop_before_the_first_round_runs_none():
    rounds: list[int] = []

    async def round_() -> None:
        rounds.append(1)

    periodic = Periodic("test", round_, timedelta(hours=1), first_after=timedelta(seconds=5))
    periodic.start()
    await asyncio.sleep(0.01)
    await periodic.stop()
    assert rounds == []
