"""Shared-secret checks for every route, in one place and all in constant time."""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Literal

Scheme = Literal["path_token", "signature", "bearer"]

# What a caller is told when its credential does not match (never which part was wrong).
REFUSALS: dict[str, str] = {
    "path_token": "unknown webhook token",
    "signature": "X-Webhook-Signature does not match the body",
    "bearer": "missing or wrong bearer token",
}


def same_secret(given: str, expected: str) -> bool:
    # Bytes: compare_digest refuses non-ASCII str, which a caller could send to cause a 500.
    return hmac.compare_digest(given.encode("utf-8", "surrogateescape"), expected.encode("utf-8", "surrogateescape"))


def signature_matches(signature: str | None, secret: str, raw_body: bytes) -> bool:
    """A hex HMAC-SHA256 of the raw body, checked before the body is parsed."""
    digest = hmac.new(secret.encode(), raw_body, hashlib.sha256).hexdigest()
    return same_secret((signature or "").strip().lower(), digest)


def bearer_matches(authorization: str | None, token: str) -> bool:
    scheme, _, given = (authorization or "").partition(" ")
    return scheme.lower() == "bearer" and same_secret(given.strip(), token)


def basic_password_matches(authorization: str | None, token: str) -> bool:
    """Learning Locker's forwarding sends Basic auth: the token is the password, any user name."""
    scheme, _, encoded = (authorization or "").partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        _, _, password = base64.b64decode(encoded.strip(), validate=True).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return False
    return same_secret(password, token)


def verify(scheme: Scheme, credential: str | None, secret: str, raw_body: bytes) -> bool:
    """credential: the path token, the signature header or the Authorization header."""
    if scheme == "signature":
        return signature_matches(credential, secret, raw_body)
    if scheme == "bearer":
        return bearer_matches(credential, secret)
    return same_secret(credential or "", secret)
