"""Statements that arrive together, made as one.

At a busy event many check-ins arrive within the same few milliseconds, each needing the
same read and the same write. Each caller hands its part to a `Batcher` and waits; while
one statement is at the database, the parts that arrive queue up and go together in the
next. A writer's answer comes only after the statement that wrote its row has committed, so
nothing is acknowledged that could be lost; a batch that fails is retried part by part, so
one bad part fails only its own caller.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

log = logging.getLogger(__name__)
Item = TypeVar("Item")
Result = TypeVar("Result")


class Batcher(Generic[Item, Result]):
    """One per event loop (see `for_loop`): `await batcher.submit(item)`."""

    def __init__(
        self,
        write_many: Callable[[Sequence[Item]], Awaitable[Sequence[Result]]],
        write_one: Callable[[Item], Awaitable[Result]],
        max_batch: int = 200,
    ) -> None:
        self._write_many = write_many
        self._write_one = write_one
        self._max_batch = max_batch
        self._waiting: list[tuple[Item, asyncio.Future[Result]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def submit(self, item: Item) -> Result:
        answer: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, answer))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._drain(), name="batched-writes")
        # The write goes on if this caller gives up waiting: its row may still be stored.
        return await asyncio.shield(answer)

    async def _drain(self) -> None:
        while self._waiting:
            batch = self._waiting[: self._max_batch]
            del self._waiting[: self._max_batch]
            await self._write(batch)

    async def _write(self, batch: list[tuple[Item, asyncio.Future[Result]]]) -> None:
        if len(batch) > 1:
            try:
                results = await self._write_many([item for item, _ in batch])
            except Exception:
                log.warning(
                    "a batch of %d writes failed; writing them one by one",
                    len(batch),
                    exc_info=True,
                )
            else:
                for (_, answer), result in zip(batch, results, strict=True):
                    if not answer.done():
                        answer.set_result(result)
                return
        for item, answer in batch:
            try:
                result = await self._write_one(item)
            except Exception as exc:
                if not answer.done():
                    answer.set_exception(exc)
            else:
                if not answer.done():
                    answer.set_result(result)


_per_loop: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, dict[str, Batcher[object, object]]
] = weakref.WeakKeyDictionary()


def for_loop(name: str, make: Callable[[], Batcher[Item, Result]]) -> Batcher[Item, Result]:
    """The running loop's batcher called `name`, made on first use (a batcher's queue and
    writer task belong to one loop)."""
    batchers = _per_loop.setdefault(asyncio.get_running_loop(), {})
    if name not in batchers:
        batchers[name] = make()  # type: ignore[assignment]
    return batchers[name]  # type: ignore[return-value]
