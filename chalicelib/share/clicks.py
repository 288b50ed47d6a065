"""Who clicked, as far as counting needs: a keyed hash of the client, and the window of the click.

The client is HMAC(secret, IP + User-Agent): the same visitor gives the same value, the value
gives back neither (a plain hash of an IPv4 address is reversed by trying all 2^32), and neither
is stored or logged. The IP is API Gateway's sourceIp (chalice local: always 127.0.0.1), never an
X-Forwarded-For header, which the clicker writes.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime


def client_hash(secret: str, source_ip: str | None, user_agent: str | None) -> str:
    text = f"client|{source_ip or ''}\n{user_agent or ''}".encode("utf-8", "surrogateescape")
    return hmac.new(secret.encode("utf-8", "surrogateescape"), text, hashlib.sha256).hexdigest()[:32]


@dataclass(frozen=True)
class Window:
    """Fixed windows of `seconds` from the epoch: every click of one window shares its number."""

    number: int
    seconds: int

    @classmethod
    def at(cls, now: float, seconds: int) -> Window:
        return cls(int(now // seconds), seconds)

    @property
    def start(self) -> datetime:
        return datetime.fromtimestamp(self.number * self.seconds, UTC)


def view_id(link_id: str, client: str, window: Window) -> str:
    """The interaction id of a view (so its statement id) and, prefixed, its de-duplication key.
    The window's length is part of it: a changed SHARE_CLICK_WINDOW_SECONDS cannot merge two views."""
    return f"{link_id}|view|{client}|{window.seconds}|{window.number}"
