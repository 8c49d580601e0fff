"""Parts that arrive together go as one batch; a failed batch is retried part by part, so a
bad part fails only its own caller; a caller who stops waiting does not stop the write."""

from __future__ import annotations

import asyncio

from gridpoints.db.batching import Batcher


class Store:
    """Rows "written" by the batcher, and the batches they came in."""

    def __init__(self, bad: set[int] | None = None) -> None:
        self.rows: list[int] = []
        self.batches: list[list[int]] = []
        self.bad = bad or set()

    async def write_many(self, items):
        await asyncio.sleep(0.01)
        if self.bad & set(items):
            raise ValueError("a bad row in the batch")
        self.batches.append(list(items))
        self.rows.extend(items)
        return [item * 10 for item in items]

    async def write_one(self, item):
        await asyncio.sleep(0)
        if item in self.bad:
            raise ValueError(f"bad row {item}")
        self.rows.append(item)
        return item * 10


async def test_parts_arriving_together_go_in_few_batches_and_each_caller_gets_its_answer():
    store = Store()
    batcher = Batcher(store.write_many, store.write_one)
    answers = await asyncio.gather(*(batcher.submit(n) for n in range(1, 21)))
    assert answers == [n * 10 for n in range(1, 21)]
    assert sorted(store.rows) == list(range(1, 21))
    assert len(store.batches) < 20 and max(len(b) for b in store.batches) > 1


async def test_a_bad_part_fails_only_its_caller():
    store = Store(bad={7})
    batcher = Batcher(store.write_many, store.write_one)
    answers = await asyncio.gather(
        *(batcher.submit(n) for n in range(1, 11)), return_exceptions=True
    )
    assert isinstance(answers[6], ValueError) and "7" in str(answers[6])
    assert [a for i, a in enumerate(answers) if i != 6] == [n * 10 for n in range(1, 11) if n != 7]
    assert sorted(store.rows) == [n for n in range(1, 11) if n != 7]


async def test_a_caller_who_stops_waiting_does_not_stop_the_write():
    store = Store()
    batcher = Batcher(store.write_many, store.write_one)
    impatient = asyncio.create_task(batcher.submit(1))
    patient = asyncio.create_task(batcher.submit(2))
    await asyncio.sleep(0)
    impatient.cancel()
    assert await patient == 20
    assert sorted(store.rows) == [1, 2]


async def test_parts_submitted_while_a_batch_is_written_go_in_the_next():
    store = Store()
    batcher = Batcher(store.write_many, store.write_one, max_batch=3)
    first = [asyncio.create_task(batcher.submit(n)) for n in range(1, 6)]
    await asyncio.sleep(0.005)
    later = [asyncio.create_task(batcher.submit(n)) for n in range(6, 9)]
    assert [await t for t in first + later] == [n * 10 for n in range(1, 9)]
    assert all(len(b) <= 3 for b in store.batches)
    assert sorted(store.rows) == list(range(1, 9))
