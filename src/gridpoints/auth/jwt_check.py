"""Checking the platform's own bearer tokens on every request.

PyJWT makes the tokens; checking one on each request is the narrow case of one algorithm
(HS256), one key and a fixed set of claims, and PyJWT's generality costs more than the rest
of the sign-in check together. This does exactly that case: the header must name HS256 (so
`none` and every other algorithm fail), the signature is compared in constant time before
anything in the payload is read, and expiry, audience and issuer must hold.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Collection

import msgspec


class _Header(msgspec.Struct):
    alg: str


class Claims(msgspec.Struct):
    sub: str
    exp: float
    aud: str
    iss: str
    iat: float | None = None
    jti: str | None = None


class BadToken(ValueError):
    pass


_HEADER = msgspec.json.Decoder(_Header)
_CLAIMS = msgspec.json.Decoder(Claims)


def _unbase64(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def check_hs256(
    token: str, key: bytes, *, audiences: Collection[str], issuers: Collection[str]
) -> Claims:
    """The claims of a token signed with `key`, unexpired, for one of `audiences` and from
    one of `issuers`; BadToken otherwise."""
    try:
        header, payload, signature = token.split(".")
        if _HEADER.decode(_unbase64(header)).alg != "HS256":
            raise BadToken("algorithm")
        expected = hmac.digest(key, f"{header}.{payload}".encode("ascii"), hashlib.sha256)
        if not hmac.compare_digest(expected, _unbase64(signature)):
            raise BadToken("signature")
        claims = _CLAIMS.decode(_unbase64(payload))
    except (ValueError, UnicodeEncodeError, binascii.Error, msgspec.DecodeError) as exc:
        raise BadToken(str(exc)) from exc
    if claims.exp <= time.time():
        raise BadToken("expired")
    if claims.aud not in audiences or claims.iss not in issuers:
        raise BadToken("audience or issuer")
    return claims
