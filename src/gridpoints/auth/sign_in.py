"""Checking a phone and password, the same way for every kind of account: the sign-in limits
first, then the password (argon2, off the event loop), and one refusal for every wrong pair."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from gridpoints.auth.passwords import verify_password
from gridpoints.auth.ratelimit import LoginLimiter
from gridpoints.errors import DomainError
from gridpoints.phones import MAX_PHONE_TEXT, BadPhone, normalise_phone

# phone -> (account id, password hash) of the active account with that phone, or None.
AccountFinder = Callable[[str], Awaitable[tuple[int, str | None] | None]]


class BadCredentials(DomainError):
    status = 401
    title = "Unauthorized"
    code = "bad_credentials"

    def __init__(self) -> None:
        super().__init__("手机号或密码不正确")


class TooManyAttempts(DomainError):
    status = 429
    title = "Too Many Requests"
    code = "rate_limited"

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"登录尝试次数过多，请在 {retry_after} 秒后再试")
        self.headers = {"Retry-After": str(retry_after)}


async def authenticate(
    phone: str,
    password: str,
    address: str,
    limiter: LoginLimiter,
    find: AccountFinder,
) -> int:
    """The account id for a correct phone and password (the account `find` gives for the
    phone); `BadCredentials` for every wrong pair, `TooManyAttempts` past the limits."""
    try:
        phone = normalise_phone(phone)
    except BadPhone:
        # Not a number anyone has: refused below like a wrong password, limited all the same.
        phone = phone.strip()[:MAX_PHONE_TEXT]
    wait = await limiter.seconds_until_allowed(phone, address)
    if wait:
        raise TooManyAttempts(wait)
    account = await find(phone)
    stored_hash = account[1] if account else None
    # argon2 takes tens of milliseconds by design: off the event loop.
    matches = await asyncio.to_thread(verify_password, password, stored_hash)
    if not matches or account is None:
        await limiter.record_failure(phone, address)
        raise BadCredentials()
    return account[0]
