"""Credly's REST API: authenticated re-fetch of event details, badge lists, issuing badges.

Auth is HTTP Basic with the organisation's token as user name and an empty password. Tokens
expire after 180 days, so a 401/403 is surfaced as its own error (health goes red), never
retried in a loop. Retries on 429/5xx/timeouts come from httpretry; when they run out,
httpretry.TransientFailure propagates so the caller retries the work later.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING
from urllib.parse import quote, urljoin, urlsplit

import requests

from ...errors import ConnectorError, InputError, PlatformAuthError, PlatformRefused, shown_id
from ...httpretry import RetryingClient, RetryPolicy, host_of, json_object
from ..common import Token, answer_body, current_secret, path_segment, redacted, token_value
from ..pulling import PullStopped

if TYPE_CHECKING:
    from ...settings import Settings


class CredlyAuthError(PlatformAuthError):
    """Credly refused the API token (wrong, revoked or expired after 180 days)."""

    platform = "credly"


class CredlyNotFound(ConnectorError):
    """Credly has no such event or badge (404)."""


class CredlyAlreadyAwarded(ConnectorError):
    """422: the learner already has this badge. For the connector: awarded, not a failure."""


class CredlyClient(RetryingClient):
    def __init__(
        self,
        api_base: str,
        org_id: str,
        token: Token,
        *,
        timeout: tuple[float, float] = (3.05, 15.0),
        retry: RetryPolicy = RetryPolicy(),
        sleep: Callable[[float], None] = time.sleep,
        session: requests.Session | None = None,
        high_volume: bool = False,
    ) -> None:
        super().__init__(timeout=timeout, retry=retry, sleep=sleep, session=session)
        self.base = api_base.rstrip("/") + "/"
        self.org_id = org_id
        self.org_url = f"{self.base}organizations/{quote(org_id, safe='')}/"
        # Large organisations list issued badges through the bulk search (same paging, same shape).
        self.badge_list = "high_volume_issued_badge_search" if high_volume else "badges"
        self._token = token

    @classmethod
    def from_settings(cls, settings: Settings) -> CredlyClient:
        """The registry has checked that CREDLY_ORG_ID and CREDLY_TOKEN are set."""
        token = current_secret(settings, "credly_token")
        return cls(
            settings.credly_api_base,
            str(settings.credly_org_id),
            token,
            retry=cls.policy_from(settings),
            high_volume=settings.credly_high_volume,
        )

    # -- API -----------------------------------------------------------------------------------

    def fetch_event(self, event_id: str) -> dict:
        """The event detail document ({"data": {...}}), only for an event of our organisation."""
        what = f"event {shown_id(event_id)}"
        document = self._get_json(self.org_url + "events/" + _path_segment(event_id, "event_id"), what)
        data = document.get("data")
        if not isinstance(data, dict):
            raise InputError("data", f"Credly answered {what} without a data object")
        # Absent is tolerated (the path already names our organisation); a different one is not.
        if data.get("organization_id") not in (None, self.org_id):
            raise ConnectorError(f"Credly {what} belongs to another organisation, not CREDLY_ORG_ID")
        return document

    def details(self, notification: object, event_id: str | None) -> dict:
        """What the worker translates for a webhook notification: the event it names."""
        return self.fetch_event(str(event_id))

    def iter_badges(self, filter: str | None = None) -> Iterator[dict]:
        """Every badge of the organisation, following next_page_url verbatim until it is null."""
        for page, _ in self.badge_pages(None, {"filter": filter} if filter else None):
            yield from page["data"]

    def badge_pages(self, resume: str | None, params: dict | None) -> Iterator[tuple[dict, str | None]]:
        """(page, next page's URL or None) from `resume` (a next_page_url given earlier) or the
        first page with `params`; next_page_url is followed verbatim (it carries the filters)."""
        url: str | None = resume or self.org_url + self.badge_list
        if resume:
            self._check_link(resume)
            params = None
        seen: set[str] = set()
        while url:
            seen.add(url)
            page = self._get_json(url, "badge list", params=params)
            if not isinstance(page.get("data"), list):
                raise ConnectorError("Credly answered a badge list page without a data list")
            next_url = self._next_page(url, page, seen)
            yield page, next_url
            url, params = next_url, None

    def issue_badge(self, payload: dict) -> dict:
        """POST a badge; {"data": badge}. Raises CredlyAlreadyAwarded when the learner has it."""
        response = self._request("POST", self.org_url + "badges", "issue badge", json=payload)
        if response.status_code == 422:
            message = _message(response)
            if "already" in message.lower():
                raise CredlyAlreadyAwarded(f"Credly: {message}")
            raise InputError("badge", f"Credly refused the badge: {message}")
        if response.status_code not in (200, 201):
            raise PlatformRefused(f"Credly answered {response.status_code} to issue badge: {_message(response)}")
        return json_object(response, "Credly issue badge")

    # -- plumbing ------------------------------------------------------------------------------

    def _next_page(self, current: str, page: dict, seen: set[str]) -> str | None:
        link = (page.get("metadata") or {}).get("next_page_url")
        if not link:
            return None
        url = urljoin(current, str(link))
        self._check_link(url)
        if url in seen:  # a server bug must not become an endless loop
            raise PullStopped("Credly's next_page_url repeats an earlier page")
        return url

    def _check_link(self, url: str) -> None:
        # A link is followed with our token: never send it to another host.
        if urlsplit(url)[:2] != urlsplit(self.base)[:2]:
            raise ConnectorError(f"Credly's next_page_url leaves {urlsplit(self.base).netloc}: not followed")

    def _get_json(self, url: str, what: str, params: dict | None = None) -> dict:
        response = self._request("GET", url, what, params=params)
        if response.status_code == 404:
            raise CredlyNotFound(f"Credly has no {what} (HTTP 404)")
        if response.status_code != 200:
            raise PlatformRefused(f"Credly answered {response.status_code} for {what}: {_message(response)}")
        return json_object(response, f"Credly {what}")

    def _request(self, method: str, url: str, what: str, **kwargs: object) -> requests.Response:
        token = token_value(self._token)
        headers = {"Accept": "application/json"}
        response = self._send(method, url, f"Credly {what}", auth=(token, ""), headers=headers, **kwargs)
        if response.status_code in (401, 403):
            raise CredlyAuthError(
                f"Credly at {host_of(url)} refused the API token (HTTP {response.status_code}) for {what}: "
                "renew CREDLY_TOKEN (Credly tokens expire after 180 days)"
            )
        return response


def _path_segment(value: str, field: str) -> str:
    return path_segment(value, lambda shown: InputError(field, f"not a usable Credly id: {shown!r}"))


def _message(response: requests.Response) -> str:
    """Credly's error message ({"data": {"message": ...}}), short and without email addresses."""
    body = answer_body(response)
    data = body.get("data") if isinstance(body, dict) else None
    text = str(data["message"]) if isinstance(data, dict) and data.get("message") else str(body)
    return redacted(text, 200)


CLIENT = CredlyClient  # what the registry loads
