"""Certifier's REST API: fetch a credential a webhook only names; create and issue credentials;
read the credential and interaction lists (pull.py) and the groups their credentials name.

Headers `Authorization: Bearer <token>` and `Certifier-Version`. Retries on 429/5xx/timeouts come
from httpretry; a 401/403 is CertifierAuthError (an operator fixes CERTIFIER_TOKEN), any other
4xx is PlatformRefused with Certifier's message.
"""

from __future__ import annotations

import requests

from ...errors import ConnectorError, PlatformAuthError, PlatformRefused, shown_id
from ...httpretry import host_of, json_object
from ..client import TokenClient
from ..common import answer_body, path_segment, redacted
from ..pulling import PullStopped

API_VERSION = "2022-10-26"
LIST_LIMIT = 100  # the largest page Certifier documents for its lists (`limit` <= 100)


class CertifierAuthError(PlatformAuthError):
    """Certifier refused the API token."""

    platform = "certifier"


class CertifierNotFound(ConnectorError):
    """Certifier has no such credential (404)."""


class CertifierClient(TokenClient):
    base_setting = "certifier_api_base"
    token_setting = "certifier_token"

    # -- API -----------------------------------------------------------------------------------

    def fetch_credential(self, credential_id: str) -> dict:
        what = f"credential {shown_id(credential_id)}"
        response = self._request("GET", self._credential_url(credential_id), what)
        if response.status_code == 404:
            raise CertifierNotFound(f"Certifier has no {what} (HTTP 404)")
        if response.status_code != 200:
            raise ConnectorError(f"Certifier answered {response.status_code} for {what}")
        return json_object(response, f"Certifier {what}")

    def create_credential(self, credential: dict) -> dict:
        """POST /credentials: a draft credential (not yet visible to the recipient)."""
        created = self._post(f"{self.base}/credentials", credential, "create credential")
        if not created.get("id"):
            raise ConnectorError("Certifier answered create credential without an id: check the platform")
        return created

    def issue_credential(self, credential_id: str) -> dict:
        """POST /credentials/{id}/issue: the draft becomes the issued credential."""
        return self._post(self._credential_url(credential_id) + "/issue", {}, "issue credential")

    def create_and_issue(self, credential: dict) -> dict:
        """Create, then issue. A retry after a failed issue creates a second draft, never a second
        issued credential (CertifierAwards reuses the draft within a process)."""
        return self.issue_credential(str(self.create_credential(credential)["id"]))

    def credential_page(self, cursor: str | None, limit: int = LIST_LIMIT) -> dict:
        """GET /credentials?cursor=&limit=: {"data": [credential, ...], "pagination": {"prev", "next"}}."""
        return self._list(f"{self.base}/credentials", {"cursor": cursor, "limit": limit}, "credential list")

    def interaction_page(self, credential_id: str, cursor: str | None, limit: int = LIST_LIMIT) -> dict:
        """GET /credential-interactions?credentialId=&cursor=&limit=: {"data": [{id, credentialId,
        eventType, triggeredBy, triggeredAt}, ...], "pagination": {"prev", "next"}}."""
        params = {"credentialId": credential_id, "cursor": cursor, "limit": limit}
        return self._list(
            f"{self.base}/credential-interactions", params, f"interactions of credential {shown_id(credential_id)}"
        )

    def fetch_group(self, group_id: str) -> dict:
        """GET /groups/{id}: {id, name, ...}; CertifierNotFound for a group Certifier does not have."""
        what = f"group {shown_id(group_id)}"
        response = self._request("GET", f"{self.base}/groups/{_path_segment(group_id, 'group')}", what)
        if response.status_code == 404:
            raise CertifierNotFound(f"Certifier has no {what} (HTTP 404)")
        if response.status_code != 200:
            raise ConnectorError(f"Certifier answered {response.status_code} for {what}")
        return json_object(response, f"Certifier {what}")

    def details(self, body: dict, event_id: str | None = None) -> dict:
        """The webhook body with `data.credential` fetched for its `data.resource.id`."""
        data = body.get("data") or {}
        credential = self.fetch_credential(str((data.get("resource") or {}).get("id")))
        return {**body, "data": {**data, "credential": credential}}

    # -- plumbing ------------------------------------------------------------------------------

    def _credential_url(self, credential_id: str) -> str:
        return f"{self.base}/credentials/{_path_segment(credential_id, 'credential')}"

    def _list(self, url: str, params: dict, what: str) -> dict:
        """One page of a list; the answer must hold a `data` array of objects and may hold `pagination`."""
        query = {key: value for key, value in params.items() if value is not None}
        response = self._request("GET", url, what, params=query)
        if 400 <= response.status_code < 500:
            raise PlatformRefused(f"Certifier refused the {what} (HTTP {response.status_code}): {_message(response)}")
        if response.status_code != 200:
            raise ConnectorError(f"Certifier answered {response.status_code} for the {what}")
        page = json_object(response, f"Certifier {what}")
        data = page.get("data")
        if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
            raise ConnectorError(f"Certifier answered the {what} without a data array of objects")
        if not isinstance(page.get("pagination", {}), dict):
            raise ConnectorError(f"Certifier answered the {what} with a pagination that is not an object")
        return page

    def _post(self, url: str, body: dict, what: str) -> dict:
        response = self._request("POST", url, what, json=body)
        if 400 <= response.status_code < 500:
            raise PlatformRefused(f"Certifier refused to {what} (HTTP {response.status_code}): {_message(response)}")
        if response.status_code not in (200, 201):
            raise ConnectorError(f"Certifier answered {response.status_code} to {what}: check the platform")
        return json_object(response, f"Certifier {what}")

    def _request(self, method: str, url: str, what: str, **kwargs: object) -> requests.Response:
        token = self.token()
        headers = {"Authorization": f"Bearer {token}", "Certifier-Version": API_VERSION, "Accept": "application/json"}
        response = self._send(method, url, f"Certifier {what}", headers=headers, **kwargs)
        if response.status_code in (401, 403):
            raise CertifierAuthError(
                f"Certifier at {host_of(url)} refused the API token (HTTP {response.status_code}) for {what}: "
                "check CERTIFIER_TOKEN"
            )
        return response


def next_cursor(page: dict, current: str | None) -> str | None:
    """The cursor of the page after `page` (its `pagination.next`), None on the last page. A
    `next` that repeats the cursor `page` was read with would loop forever: refused."""
    pagination = page.get("pagination") or {}
    following = pagination.get("next")
    if following is None or following == "":
        return None
    if not isinstance(following, str):
        raise ConnectorError("Certifier's pagination.next is not a string cursor")
    if following == current:
        raise PullStopped("Certifier's pagination.next repeats the page it was given")
    return following


def _path_segment(value: str, what: str) -> str:
    return path_segment(value, lambda shown: ConnectorError(f"not a usable Certifier {what} id: {shown!r}"))


def _message(response: requests.Response) -> str:
    """Certifier's error message ({"error": {"message": ...}} or {"message": ...}), short, no emails."""
    body = answer_body(response)
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and error.get("message"):
        text = str(error["message"])
    elif isinstance(body, dict) and body.get("message"):
        text = str(body["message"])
    else:
        text = str(body)
    return redacted(text)


CLIENT = CertifierClient  # what the registry loads
