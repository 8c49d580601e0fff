"""Sign-in attempt limits that slow guessing without letting anyone lock a member out.

Only failed attempts count. Three limits (settings `login_limit_*`):
- per phone from one address (5 a minute): the guesser is held, the owner elsewhere is not;
- per phone from anywhere (30 an hour): an attack spread over many addresses is slowed;
- per address (30 a minute): one address trying many phones is held.
Past any of them, the next attempt is refused with the seconds until it frees up.

The per-phone limit must not become a way to lock the owner out from one address, so each
address adds at most `contribution` failures to it within its window (no more than the
per-phone-and-address limit, and always fewer than the per-phone limit): only several
addresses together can hold a phone for everyone. In exchange, one address is also held on a
phone once it reaches the per-phone limit by itself, so coming back every minute does not let
it guess faster than a spread-out attack.

Counters live in Redis when the deployment has one (shared by every API process, each key
under `settings.redis_prefix`, so deployments sharing a Redis do not meet) and in process
memory otherwise.

`AddressLimiter` counts every request of one kind from a client address (the scan receipts,
which need no sign-in), in the same storage.
"""

from __future__ import annotations

import math
import time

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter

from gridpoints.settings import Settings

_NAMESPACE = "login"


def _storage(settings: Settings, namespace: str) -> Storage:
    if settings.redis_url:
        return RedisStorage(
            "async+" + settings.redis_url,
            implementation="redispy",
            key_prefix=f"{settings.redis_prefix}:{namespace}",
        )
    return MemoryStorage()


class LoginLimiter:
    def __init__(
        self,
        storage: Storage,
        per_phone: RateLimitItem,
        per_address: RateLimitItem,
        per_phone_address: RateLimitItem | None = None,
    ) -> None:
        self._limiter = MovingWindowRateLimiter(storage)
        self._per_phone = per_phone
        self._per_address = per_address
        self._per_phone_address = per_phone_address or per_phone
        # The most failures one address adds to a phone's own count within its window.
        self._contribution = max(1, min(self._per_phone_address.amount, per_phone.amount - 1))

    @classmethod
    def from_settings(cls, settings: Settings) -> LoginLimiter:
        return cls(
            _storage(settings, _NAMESPACE),
            per_phone=parse(settings.login_limit_per_phone),
            per_address=parse(settings.login_limit_per_address),
            per_phone_address=parse(settings.login_limit_per_phone_address),
        )

    def _checks(self, phone: str, address: str) -> list[tuple[RateLimitItem, tuple[str, ...]]]:
        """Every (limit, key) an attempt must be within."""
        return [
            (self._per_phone_address, ("phone-address", phone, address)),
            # The same pair over the per-phone window: what this address did to the phone.
            (self._per_phone, ("phone-address-long", phone, address)),
            (self._per_phone, ("phone", phone)),
            (self._per_address, ("address", address)),
        ]

    async def seconds_until_allowed(self, phone: str, address: str) -> int:
        """0 when an attempt may go ahead; otherwise how long the caller must wait."""
        wait = 0
        for item, key in self._checks(phone, address):
            if not await self._limiter.test(item, *key):
                stats = await self._limiter.get_window_stats(item, *key)
                wait = max(wait, math.ceil(stats.reset_time - time.time()), 1)
        return wait

    async def record_failure(self, phone: str, address: str) -> None:
        long_pair = ("phone-address-long", phone, address)
        stats = await self._limiter.get_window_stats(self._per_phone, *long_pair)
        added_by_address = self._per_phone.amount - stats.remaining
        await self._limiter.hit(self._per_phone_address, "phone-address", phone, address)
        await self._limiter.hit(self._per_phone, *long_pair)
        if added_by_address < self._contribution:
            await self._limiter.hit(self._per_phone, "phone", phone)
        await self._limiter.hit(self._per_address, "address", address)

    async def reset(self) -> None:
        """Forget every count (of this deployment only, on Redis)."""
        await self._limiter.storage.reset()


class AddressLimiter:
    """At most `limit` requests of one kind from one client address; every request counts."""

    def __init__(self, storage: Storage, limit: RateLimitItem) -> None:
        self._limiter = MovingWindowRateLimiter(storage)
        self._limit = limit

    @classmethod
    def from_settings(cls, settings: Settings, namespace: str, limit: str) -> AddressLimiter:
        return cls(_storage(settings, namespace), parse(limit))

    async def take(self, address: str) -> int:
        """0 when this request may go ahead (and it is counted); otherwise how long the
        caller must wait."""
        if await self._limiter.hit(self._limit, "address", address):
            return 0
        stats = await self._limiter.get_window_stats(self._limit, "address", address)
        return max(math.ceil(stats.reset_time - time.time()), 1)
