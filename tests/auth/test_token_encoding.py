"""The token check takes each token in exactly one spelling: base64url without padding, no
stray characters or whitespace, canonical trailing bits, three segments. Claims with absurd
times (`exp`, `iat`) are a 401, never a 500.

Variants of a good token are tried directly on `check_hs256` and through the HTTP client.
Most are signed with the deployment's own key, so only the encoding or the claim is wrong.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable

import pytest

from gridpoints.auth.jwt_check import BadToken, check_hs256
from gridpoints.auth.tokens import ISSUER
from tests.world import PASSWORD

KEY = b"unit-test-key-" + b"k" * 32
AUDIENCE = "gridpoints"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _sign(header: str, payload: str, key: bytes) -> str:
    return _b64(hmac.digest(key, f"{header}.{payload}".encode(), hashlib.sha256))


def _segments(claims: dict | None = None, raw_payload: str | None = None) -> tuple[str, str]:
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    if raw_payload is None:
        now = int(time.time())
        payload_claims = {"sub": "1", "iat": now, "exp": now + 3600, "aud": AUDIENCE}
        payload_claims["iss"] = ISSUER
        payload_claims.update(claims or {})
        raw_payload = json.dumps(payload_claims)
    return header, _b64(raw_payload.encode())


def _token(key: bytes, claims: dict | None = None, raw_payload: str | None = None) -> str:
    header, payload = _segments(claims, raw_payload)
    return f"{header}.{payload}.{_sign(header, payload, key)}"


def _resigned(token: str, key: bytes, change: Callable[[str], str], segment: int) -> str:
    """The token with one of its first two segments respelled, signed again with `key`."""
    parts = token.split(".")[:2]
    parts[segment] = change(parts[segment])
    return f"{parts[0]}.{parts[1]}.{_sign(parts[0], parts[1], key)}"


def _other_last_char(segment: str) -> str:
    """The segment with its last character changed to one that decodes to the same bytes
    (only the unused low bits differ): a non-canonical spelling of the same value."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    while len(segment) % 4 == 0:
        # No bits to spare: lengthen the JSON inside by a space until there are.
        raw = base64.urlsafe_b64decode(segment)
        segment = _b64(raw + b" ")
    unused_bits = {2: 4, 3: 2}[len(segment) % 4]
    index = alphabet.index(segment[-1])
    flipped = alphabet[index ^ ((1 << unused_bits) - 1)]
    assert base64.urlsafe_b64decode(segment[:-1] + flipped + "==") == base64.urlsafe_b64decode(
        segment + "=="
    )
    return segment[:-1] + flipped


def _in_signature(token: str, change: Callable[[str], str]) -> str:
    header, payload, signature = token.split(".")
    return f"{header}.{payload}.{change(signature)}"


def _middle(text: str, insert: str) -> str:
    return text[:20] + insert + text[20:]


# Respellings of a token that is otherwise good: (name, how to respell it given the key).
ENCODINGS: list[tuple[str, Callable[[str, bytes], str]]] = [
    ("signature-padded", lambda t, k: t + "="),
    ("signature-double-padded", lambda t, k: t + "=="),
    ("signature-padding-inside", lambda t, k: _in_signature(t, lambda s: _middle(s, "="))),
    ("signature-stray-bang", lambda t, k: _in_signature(t, lambda s: _middle(s, "!"))),
    ("signature-stray-tilde", lambda t, k: _in_signature(t, lambda s: s + "~")),
    ("signature-space-inside", lambda t, k: _in_signature(t, lambda s: _middle(s, " "))),
    ("signature-tab-inside", lambda t, k: _in_signature(t, lambda s: _middle(s, "\t"))),
    ("signature-newline-end", lambda t, k: _in_signature(t, lambda s: s + "\n")),
    ("signature-std-alphabet", lambda t, k: _in_signature(t, _std_alphabet)),
    ("signature-non-canonical-bits", lambda t, k: _in_signature(t, _other_last_char)),
    ("signature-one-char-too-many", lambda t, k: t + "A"),
    ("signature-non-ascii", lambda t, k: _in_signature(t, lambda s: _middle(s, "é"))),
    ("payload-padded-and-resigned", lambda t, k: _resigned(t, k, lambda s: s + "=" * 2, 1)),
    ("payload-stray-and-resigned", lambda t, k: _resigned(t, k, lambda s: _middle(s, "*"), 1)),
    ("payload-bits-and-resigned", lambda t, k: _resigned(t, k, _other_last_char, 1)),
    ("header-padded-and-resigned", lambda t, k: _resigned(t, k, lambda s: s + "=", 0)),
    ("header-space-and-resigned", lambda t, k: _resigned(t, k, lambda s: " " + s, 0)),
    ("extra-segment", lambda t, k: t + ".e30"),
    ("empty-extra-segment", lambda t, k: t + "."),
    ("two-segments", lambda t, k: t.rsplit(".", 1)[0]),
    ("empty", lambda t, k: ""),
]


def _std_alphabet(segment: str) -> str:
    """The segment in standard base64's alphabet (`+/` for `-_`); a different spelling."""
    if "-" not in segment and "_" not in segment:
        segment = segment[:-2] + "-" + segment[-1]
    return segment.replace("-", "+").replace("_", "/")


# Claims with absurd values, in a token correctly signed with the deployment's key.
ABSURD_CLAIMS: list[tuple[str, dict]] = [
    ("exp-10e30", {"exp": 10**30}),
    ("exp-2e63", {"exp": 2**63}),
    ("exp-2e64", {"exp": 2**64 + 1}),
    ("exp-negative", {"exp": -(10**12)}),
    ("exp-hugely-negative", {"exp": -(10**30)}),
    ("exp-float", {"exp": time.time() + 3600.5}),
    ("exp-float-whole", {"exp": float(int(time.time()) + 3600)}),
    ("exp-string", {"exp": str(int(time.time()) + 3600)}),
    ("exp-bool", {"exp": True}),
    ("exp-null", {"exp": None}),
    ("exp-list", {"exp": [int(time.time()) + 3600]}),
    ("exp-year-10000", {"exp": 253402300800}),
    ("iat-10e30", {"iat": 10**30}),
    ("iat-negative", {"iat": -(10**30)}),
    ("iat-float", {"iat": time.time() - 10.5}),
    ("iat-string", {"iat": str(int(time.time()))}),
    ("iat-bool", {"iat": False}),
    ("iat-future", {"iat": int(time.time()) + 3600}),
    ("sub-empty", {"sub": ""}),
    ("sub-number", {"sub": 1}),
]
RAW_PAYLOADS: list[tuple[str, str]] = [
    ("exp-1e400", '{"sub":"1","exp":1e400,"aud":"gridpoints","iss":"gridpoints"}'),
    ("exp-minus-1e400", '{"sub":"1","exp":-1e400,"aud":"gridpoints","iss":"gridpoints"}'),
    ("payload-not-object", "[1,2,3]"),
    ("payload-not-json", "not json"),
]


@pytest.mark.parametrize(("name", "respell"), ENCODINGS, ids=[n for n, _ in ENCODINGS])
def test_a_respelled_token_is_refused(name, respell):
    good = _token(KEY)
    check_hs256(good, KEY, audiences=[AUDIENCE], issuers=[ISSUER])
    with pytest.raises(BadToken):
        check_hs256(respell(good, KEY), KEY, audiences=[AUDIENCE], issuers=[ISSUER])


@pytest.mark.parametrize(("name", "claims"), ABSURD_CLAIMS, ids=[n for n, _ in ABSURD_CLAIMS])
def test_absurd_claims_are_refused(name, claims):
    with pytest.raises(BadToken):
        check_hs256(_token(KEY, claims), KEY, audiences=[AUDIENCE], issuers=[ISSUER])


@pytest.mark.parametrize(("name", "raw"), RAW_PAYLOADS, ids=[n for n, _ in RAW_PAYLOADS])
def test_payloads_that_are_not_claims_are_refused(name, raw):
    with pytest.raises(BadToken):
        check_hs256(_token(KEY, raw_payload=raw), KEY, audiences=[AUDIENCE], issuers=[ISSUER])


def test_the_checked_claims_are_whole_seconds():
    now = int(time.time())
    claims = check_hs256(
        _token(KEY, {"iat": now, "exp": now + 60}), KEY, audiences=[AUDIENCE], issuers=[ISSUER]
    )
    assert (claims.iat, claims.exp) == (now, now + 60)


async def test_tokens_the_platform_issues_pass_the_strict_check(client, world, settings):
    token, _ = await _signed_in(client, world)
    claims = check_hs256(
        token,
        settings.secret_key.encode(),
        audiences=[settings.token_audience],
        issuers=[ISSUER],
    )
    assert claims.sub == str(world.leader_a)
    assert isinstance(claims.exp, int) and isinstance(claims.iat, int)
    assert (await _get_me(client, token)).status_code == 200


async def _get_me(client, token: str):
    # As bytes: a header may carry any byte, though httpx takes only ASCII text.
    authorization = f"Bearer {token}".encode()
    return await client.get("/api/v1/me", headers={"Authorization": authorization})


async def _signed_in(client, world) -> tuple[str, dict]:
    """A token from sign-in itself, and its claims: whatever else the platform puts in a
    token (its sign-in session) stays in the variants made from it."""
    response = await client.post(
        "/api/v1/auth/login", json={"phone": world.phones["leader_a"], "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    token = response.json()["access_token"]
    payload = token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return token, claims


@pytest.mark.parametrize(("name", "respell"), ENCODINGS, ids=[n for n, _ in ENCODINGS])
async def test_a_respelled_token_gets_401_over_http(client, world, settings, name, respell):
    good, _ = await _signed_in(client, world)
    assert (await _get_me(client, good)).status_code == 200
    response = await _get_me(client, respell(good, settings.secret_key.encode()))
    assert response.status_code == 401, response.text
    assert response.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize(("name", "claims"), ABSURD_CLAIMS, ids=[n for n, _ in ABSURD_CLAIMS])
async def test_absurd_claims_get_401_over_http(client, world, settings, name, claims):
    key = settings.secret_key.encode()
    _, good_claims = await _signed_in(client, world)
    assert (await _get_me(client, _token(key, good_claims))).status_code == 200
    token = _token(key, {**good_claims, **claims})
    assert (await _get_me(client, token)).status_code == 401
    scan = await client.post(
        "/api/v1/checkins",
        json={"client_id": "6f1c0d1e-0000-4000-8000-000000000001", "activity_id": 1, "token": "x"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert scan.status_code == 401, scan.text


@pytest.mark.parametrize(("name", "raw"), RAW_PAYLOADS, ids=[n for n, _ in RAW_PAYLOADS])
async def test_payloads_that_are_not_claims_get_401_over_http(client, world, settings, name, raw):
    response = await _get_me(client, _token(settings.secret_key.encode(), raw_payload=raw))
    assert response.status_code == 401, response.text
