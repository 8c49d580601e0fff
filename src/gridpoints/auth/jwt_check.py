"""Checking the platform's own bearer tokens on every request.

PyJWT makes the tokens; checking one on each request is the narrow case of one algorithm
(HS256), one key and a fixed set of claims, and PyJWT's generality costs more than the rest
of the sign-in check together. This does exactly that case: the header must name HS256 (so
`none` and every other algorithm fail), the signature is compared in constant time before
anything in the payload is read, and expiry, audience and issuer must hold.

Each token has exactly one spelling: three base64url segments without padding, nothing but
the alphabet's 64 characters, and each segment equal to the encoding of what it decodes to
(so no unused trailing bits set). Claims are the types and ranges we issue: `exp` and `iat`
whole seconds that a date can hold, `iat` not in the future, so nothing later in the request
meets an absurd time.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import time
from collections.abc import Collection
from typing import Annotated

import msgspec

# Seconds since 1970 that every date type can hold (up to 9999-12-31T23:59:59Z).
_MAX_SECONDS = 253402300799
Seconds = Annotated[int, msgspec.Meta(ge=0, le=_MAX_SECONDS)]
Text = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
# Room for clocks a little apart between the server that issued a token and this one.
_CLOCK_LEEWAY = 60
_MAX_TOKEN_LENGTH = 4096
_SEGMENT = re.compile(r"[A-Za-z0-9_-]+")


class _Header(msgspec.Struct):
    alg: str


class Claims(msgspec.Struct):
    sub: Text
    exp: Seconds
    aud: Text
    iss: Text
    iat: Seconds | None = None
    jti: Text | None = None


class BadToken(ValueError):
    pass


_HEADER = msgspec.json.Decoder(_Header)
_CLAIMS = msgspec.json.Decoder(Claims)


def _unbase64(segment: str) -> bytes:
    """The bytes of a segment in its one canonical base64url spelling; BadToken otherwise."""
    if not _SEGMENT.fullmatch(segment) or len(segment) % 4 == 1:
        raise BadToken("encoding")
    raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    if base64.urlsafe_b64encode(raw).rstrip(b"=") != segment.encode("ascii"):
        raise BadToken("encoding")
    return raw


def check_hs256(
    token: str, key: bytes, *, audiences: Collection[str], issuers: Collection[str]
) -> Claims:
    """The claims of a token signed with `key`, unexpired, for one of `audiences` and from
    one of `issuers`; BadToken otherwise."""
    if len(token) > _MAX_TOKEN_LENGTH:
        raise BadToken("length")
    segments = token.split(".")
    if len(segments) != 3:
        raise BadToken("segments")
    header, payload, signature = segments
    try:
        if _HEADER.decode(_unbase64(header)).alg != "HS256":
            raise BadToken("algorithm")
        expected = hmac.digest(key, f"{header}.{payload}".encode("ascii"), hashlib.sha256)
        if not hmac.compare_digest(expected, _unbase64(signature)):
            raise BadToken("signature")
        claims = _CLAIMS.decode(_unbase64(payload))
    except (ValueError, UnicodeEncodeError, binascii.Error, msgspec.DecodeError) as exc:
        raise BadToken(str(exc)) from exc
    now = time.time()
    if claims.exp <= now:
        raise BadToken("expired")
    if claims.iat is not None and claims.iat > now + _CLOCK_LEEWAY:
        raise BadToken("issued in the future")
    if claims.aud not in audiences or claims.iss not in issuers:
        raise BadToken("audience or issuer")
    return claims
