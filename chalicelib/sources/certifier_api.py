"""Certifier's REST API: fetch a credential when a webhook names it without its details."""

from __future__ import annotations

from urllib.parse import quote

from ..errors import ConnectorError, PlatformRefused, SettingsError, PlatformAuthError
from ..httpretry import RetryingClient
from ..secrets import reveal

API_VERSION = "2022-10-26"


class CertifierAuthError(PlatformAuthError):
    """Certifier refused the API token."""


class CertifierClient(RetryingClient):
    def __init__(self, api_base: str, token: str, **options: object) -> None:
        super().__init__(**options)
        self.base = api_base.rstrip("/") + "/"
        self._headers = {"Authorization": f"Bearer {token}", "Certifier-Version": API_VERSION, "Accept": "application/json"}

    @classmethod
    def from_settings(cls, settings: "Settings") -> "CertifierClient":  # noqa: F821
        if settings.certifier_token is None:
            raise SettingsError("CERTIFIER_TOKEN is not set")
        token = reveal(settings, "certifier_token") or ""
        return cls(settings.certifier_api_base, token, retry=cls.policy_from(settings))

    def fetch_credential(self, credential_id: str) -> dict:
        url = self.base + "credentials/" + quote(credential_id, safe="")
        what = f"Certifier credential {credential_id}"
        response = self._send("GET", url, what, headers=self._headers)
        if response.status_code in (401, 403):
            raise CertifierAuthError(f"Certifier refused the API token (HTTP {response.status_code}): check CERTIFIER_TOKEN")
        if response.status_code != 200:
            raise ConnectorError(f"Certifier answered {response.status_code} for {what}")
        return response.json()

    def create_and_issue(self, credential: dict) -> dict:
        """Create the credential, then issue it. A retry after a failed issue creates a second
        draft (never a second issued credential): drafts are visible and harmless in Certifier."""
        created = self._post(self.base + "credentials", credential, "create credential")
        return self._post(self.base + "credentials/" + quote(str(created["id"]), safe="") + "/issue", {}, "issue credential")

    def _post(self, url: str, body: dict, what: str) -> dict:
        response = self._send("POST", url, f"Certifier {what}", headers=self._headers, json=body)
        if response.status_code in (401, 403):
            raise CertifierAuthError(f"Certifier refused the API token (HTTP {response.status_code}): check CERTIFIER_TOKEN")
        if response.status_code not in (200, 201):
            raise PlatformRefused(f"Certifier refused to {what} (HTTP {response.status_code}): {response.text[:300]}")
        return response.json()

    def complete(self, body: dict) -> dict:
        """The webhook body with `data.credential` fetched for its `data.resource.id`."""
        data = body.get("data") or {}
        credential = self.fetch_credential(str((data.get("resource") or {}).get("id")))
        return {**body, "data": {**data, "credential": credential}}
