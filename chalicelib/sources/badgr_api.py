"""Canvas Credentials / Badgr API: OAuth2 password grant with refresh, and issuing assertions.

Access tokens last about a day: they are cached, refreshed when expired (or refused once), and
the password grant is the fallback when a refresh is refused.
"""

from __future__ import annotations

import time
from urllib.parse import quote

import requests

from ..errors import PlatformAuthError, PlatformRefused, SettingsError
from ..httpretry import RetryingClient
from ..secrets import reveal

SCOPE = "rw:issuer rw:backpack rw:profile"


class BadgrAuthError(PlatformAuthError):
    """Badgr refused the account: check BADGR_USERNAME / BADGR_PASSWORD."""


class BadgrClient(RetryingClient):
    def __init__(self, api_base: str, username: str, password: str, **options: object) -> None:
        super().__init__(**options)
        self.base = api_base.rstrip("/")
        self._credentials = {"username": username, "password": password}
        self._access: str | None = None
        self._refresh: str | None = None
        self._expires = 0.0

    @classmethod
    def from_settings(cls, settings: "Settings") -> "BadgrClient":  # noqa: F821
        password = reveal(settings, "badgr_password")
        if not settings.badgr_username or not password:
            raise SettingsError("BADGR_USERNAME and BADGR_PASSWORD are needed to award on Canvas Credentials")
        return cls(settings.badgr_api_base, settings.badgr_username, password, retry=cls.policy_from(settings))

    def issue(self, badgeclass_id: str, payload: dict) -> dict:
        """POST an assertion; the platform's assertion object. Duplicates are allowed by Badgr:
        the connector's ledger is what prevents a second award."""
        url = f"{self.base}/v2/badgeclasses/{quote(badgeclass_id, safe='')}/assertions"
        response = self._authorized("POST", url, json=payload)
        if response.status_code not in (200, 201):
            raise PlatformRefused(f"Canvas Credentials refused the assertion (HTTP {response.status_code}): {_description(response)}")
        result = response.json().get("result") or []
        if not result:
            raise PlatformRefused("Canvas Credentials answered without the assertion")
        return result[0]

    def _authorized(self, method: str, url: str, **kwargs: object) -> requests.Response:
        response = self._send(method, url, "Canvas Credentials", headers=self._bearer(), **kwargs)
        if response.status_code == 401:  # revoked or expired early: one fresh token, one retry
            self._expires = 0.0
            response = self._send(method, url, "Canvas Credentials", headers=self._bearer(), **kwargs)
        if response.status_code in (401, 403):
            raise BadgrAuthError(f"Canvas Credentials refused the token (HTTP {response.status_code}): check BADGR_USERNAME / BADGR_PASSWORD")
        return response

    def _bearer(self) -> dict:
        if not self._access or time.monotonic() >= self._expires:
            self._token()
        return {"Authorization": f"Bearer {self._access}"}

    def _token(self) -> None:
        answer = None
        if self._refresh:
            answer = self._grant({"grant_type": "refresh_token", "refresh_token": self._refresh})
        if answer is None:
            answer = self._grant({"grant_type": "password", "scope": SCOPE, **self._credentials})
        if answer is None:
            raise BadgrAuthError("Canvas Credentials refused BADGR_USERNAME / BADGR_PASSWORD")
        self._access = answer["access_token"]
        self._refresh = answer.get("refresh_token", self._refresh)
        # A minute early, so a token never expires between check and use.
        self._expires = time.monotonic() + float(answer.get("expires_in", 3600)) - 60

    def _grant(self, form: dict) -> dict | None:
        response = self._send("POST", f"{self.base}/o/token", "Canvas Credentials token", data=form)
        return response.json() if response.status_code == 200 else None


def _description(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    status = body.get("status") if isinstance(body, dict) else None
    return str((status or {}).get("description") or body)[:300]
