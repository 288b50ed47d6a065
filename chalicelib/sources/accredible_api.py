"""Accredible API: creating (awarding) a credential in a group."""

from __future__ import annotations

from ..errors import PlatformAuthError, PlatformRefused, SettingsError
from ..httpretry import RetryingClient
from ..secrets import reveal


class AccredibleAuthError(PlatformAuthError):
    """Accredible refused the API key: check ACCREDIBLE_API_KEY."""


class AccredibleClient(RetryingClient):
    def __init__(self, api_base: str, api_key: str, **options: object) -> None:
        super().__init__(**options)
        self.base = api_base.rstrip("/")
        self._headers = {"Authorization": f"Token token={api_key}", "Accept": "application/json"}

    @classmethod
    def from_settings(cls, settings: "Settings") -> "AccredibleClient":  # noqa: F821
        key = reveal(settings, "accredible_api_key")
        if not key:
            raise SettingsError("ACCREDIBLE_API_KEY is needed to award on Accredible")
        return cls(settings.accredible_api_base, key, retry=cls.policy_from(settings))

    def create_credential(self, credential: dict) -> dict:
        response = self._send("POST", f"{self.base}/v1/credentials", "Accredible credential",
                              headers=self._headers, json={"credential": credential})
        if response.status_code in (401, 403):
            raise AccredibleAuthError(f"Accredible refused the API key (HTTP {response.status_code}): check ACCREDIBLE_API_KEY")
        if response.status_code not in (200, 201):
            raise PlatformRefused(f"Accredible refused the credential (HTTP {response.status_code}): {response.text[:300]}")
        return response.json()["credential"]
