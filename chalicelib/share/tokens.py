"""Share link tokens: a random link id and a MAC over it, base64url, nothing personal inside.

    token = base64url(link id (12 random bytes) + HMAC-SHA256(secret, "share-link|" + id)[:12])

32 characters. The 96-bit id cannot be guessed or enumerated, and the 96-bit MAC lets a click on
a forged, tampered or truncated token be refused before the store is asked (so a scan of random
tokens costs no read). The MAC is checked against the current secret, then the previous one: a
rotated SHARE_LINK_SECRET keeps the links already posted working until the next rotation.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets

ID_BYTES = 12
MAC_BYTES = 12
TOKEN_LENGTH = 4 * (ID_BYTES + MAC_BYTES) // 3  # 32: no padding
DOMAIN = b"share-link|"


def new_link_id() -> str:
    return _encode(secrets.token_bytes(ID_BYTES))


def sign(link_id: str, secret: str) -> str:
    raw_id = _decode(link_id)
    if raw_id is None or len(raw_id) != ID_BYTES:
        raise ValueError("not a link id")
    return _encode(raw_id + _mac(raw_id, secret))


def link_id_of(token: str, secrets_to_try: list[str]) -> str | None:
    """The link id a token carries when one of the secrets signed it; None for anything else."""
    if len(token) != TOKEN_LENGTH:
        return None
    raw = _decode(token)
    if raw is None or len(raw) != ID_BYTES + MAC_BYTES or _encode(raw) != token:  # one spelling only
        return None
    raw_id, mac = raw[:ID_BYTES], raw[ID_BYTES:]
    if any(hmac.compare_digest(mac, _mac(raw_id, secret)) for secret in secrets_to_try if secret):
        return _encode(raw_id)
    return None


def _mac(raw_id: bytes, secret: str) -> bytes:
    return hmac.new(secret.encode("utf-8", "surrogateescape"), DOMAIN + raw_id, hashlib.sha256).digest()[:MAC_BYTES]


def _encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _decode(text: str) -> bytes | None:
    if not text.isascii():
        return None
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None
