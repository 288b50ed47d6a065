"""Credly's REST API: authenticated re-fetch of event details, badge lists, issuing badges.

Auth is HTTP Basic with the organisation's token as user name and an empty password. Tokens
expire after 180 days, so a 401/403 is surfaced as its own error (health goes red), never
retried in a loop.
"""

from __future__ import annotations

from typing import Iterator
from urllib.parse import quote

import requests

from ..errors import ConnectorError, InputError, SettingsError, PlatformAuthError
from ..httpretry import RetryingClient
from ..secrets import reveal


class CredlyAuthError(PlatformAuthError):
    """Credly refused the API token (wrong, revoked or expired after 180 days)."""


class CredlyNotFound(ConnectorError):
    """Credly has no such event or badge."""


class CredlyAlreadyAwarded(ConnectorError):
    """422: the learner already has this badge. For the connector: awarded, not a failure."""


class CredlyClient(RetryingClient):
    def __init__(self, api_base: str, org_id: str, token: str, **options: object) -> None:
        super().__init__(**options)
        self.base = api_base.rstrip("/") + "/"
        self.org_id = org_id
        self.org_url = f"{self.base}organizations/{quote(org_id, safe='')}/"
        self._auth = (token, "")

    @classmethod
    def from_settings(cls, settings: "Settings") -> "CredlyClient":  # noqa: F821
        if not settings.credly_org_id:
            raise SettingsError("CREDLY_ORG_ID is not set")
        if settings.credly_token is None:
            raise SettingsError("CREDLY_TOKEN is not set")
        token = reveal(settings, "credly_token") or ""
        return cls(settings.credly_api_base, settings.credly_org_id, token, retry=cls.policy_from(settings))

    def fetch_event(self, event_id: str) -> dict:
        """The event detail document ({"data": {...}}); only ours is accepted."""
        document = self._get_json(self.org_url + "events/" + quote(event_id, safe=""), f"event {event_id}")
        data = document.get("data") if isinstance(document, dict) else None
        if not isinstance(data, dict):
            raise InputError("data", f"Credly answered event {event_id} without a data object")
        if data.get("organization_id") not in (None, self.org_id):
            raise ConnectorError(f"Credly event {event_id} belongs to another organisation")
        return document

    def iter_badges(self, filter: str | None = None) -> Iterator[dict]:
        """Every badge, following next_page_url verbatim until it is null."""
        url: str | None = self.org_url + "badges"
        params = {"filter": filter} if filter else None
        while url:
            page = self._get_json(url, "badge list", params=params)
            yield from page.get("data") or []
            url, params = (page.get("metadata") or {}).get("next_page_url"), None

    def issue_badge(self, payload: dict) -> dict:
        response = self._request("POST", self.org_url + "badges", "issue badge", json=payload)
        if response.status_code == 422:
            message = _message(response)
            if "already" in message.lower():
                raise CredlyAlreadyAwarded(f"Credly: {message}")
            raise InputError("badge", f"Credly refused the badge: {message}")
        if response.status_code not in (200, 201):
            raise ConnectorError(f"Credly answered {response.status_code} to issue badge: {_message(response)}")
        return response.json()

    # -- plumbing ------------------------------------------------------------------------------

    def _get_json(self, url: str, what: str, params: dict | None = None) -> dict:
        response = self._request("GET", url, what, params=params)
        if response.status_code == 404:
            raise CredlyNotFound(f"Credly has no {what} (HTTP 404)")
        if response.status_code != 200:
            raise ConnectorError(f"Credly answered {response.status_code} for {what}")
        try:
            return response.json()
        except ValueError:
            raise ConnectorError(f"Credly answered {what} with something that is not JSON") from None

    def _request(self, method: str, url: str, what: str, **kwargs: object) -> requests.Response:
        headers = {"Accept": "application/json"}
        response = self._send(method, url, f"Credly {what}", auth=self._auth, headers=headers, **kwargs)
        if response.status_code in (401, 403):
            raise CredlyAuthError(
                f"Credly refused the API token (HTTP {response.status_code}) for {what}: "
                "renew CREDLY_TOKEN (Credly tokens expire after 180 days)"
            )
        return response


def _message(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    data = body.get("data") if isinstance(body, dict) else None
    if isinstance(data, dict) and data.get("message"):
        return str(data["message"])[:200]
    return str(body)[:200]
