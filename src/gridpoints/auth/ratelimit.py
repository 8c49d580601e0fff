"""Sign-in attempt limits, per phone and per client address.

Only failed attempts count, each against both keys; once either key is over its limit the
next attempt is refused with the seconds until it frees up. Counters live in Redis when the
deployment has one (shared by every API process) and in process memory otherwise.
"""

from __future__ import annotations

import math
import time

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter

from gridpoints.settings import Settings


class LoginLimiter:
    def __init__(self, storage: Storage, per_phone: RateLimitItem, per_address: RateLimitItem):
        self._limiter = MovingWindowRateLimiter(storage)
        self._per_phone = per_phone
        self._per_address = per_address

    @classmethod
    def from_settings(cls, settings: Settings) -> LoginLimiter:
        storage: Storage
        if settings.redis_url:
            storage = RedisStorage(
                "async+" + settings.redis_url, implementation="redispy", key_prefix="gp-login"
            )
        else:
            storage = MemoryStorage()
        return cls(
            storage, parse(settings.login_limit_per_phone), parse(settings.login_limit_per_address)
        )

    def _keys(self, phone: str, address: str) -> list[tuple[RateLimitItem, str]]:
        return [(self._per_phone, f"phone:{phone}"), (self._per_address, f"addr:{address}")]

    async def seconds_until_allowed(self, phone: str, address: str) -> int:
        """0 when an attempt may go ahead; otherwise how long the caller must wait."""
        wait = 0
        for item, key in self._keys(phone, address):
            if not await self._limiter.test(item, key):
                stats = await self._limiter.get_window_stats(item, key)
                wait = max(wait, math.ceil(stats.reset_time - time.time()), 1)
        return wait

    async def record_failure(self, phone: str, address: str) -> None:
        for item, key in self._keys(phone, address):
            await self._limiter.hit(item, key)

    async def reset(self) -> None:
        await self._limiter.storage.reset()
