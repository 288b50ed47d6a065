"""Accredible API: creating (awarding) a credential in a group.

Auth header `Authorization: Token token=<API key>`. Accounts live on one host (US, EU or
sandbox): a key used against another host's API is refused like a wrong key, so the auth error
names both ACCREDIBLE_API_KEY and ACCREDIBLE_API_BASE. Retries on 429 (2000 requests per 5
minutes per IP) / 5xx / timeouts come from httpretry and end as httpretry.TransientFailure.

Accredible does not refuse a second credential for the same recipient and group: the
connector's award ledger is what prevents duplicates.
"""

from __future__ import annotations

import requests

from ...errors import ConnectorError, PlatformAuthError, PlatformRefused
from ...httpretry import json_object
from ..client import TokenClient
from ..common import answer_body, redacted


class AccredibleAuthError(PlatformAuthError):
    """Accredible refused the API key: check ACCREDIBLE_API_KEY (and the region in ACCREDIBLE_API_BASE)."""

    platform = "accredible"


class AccredibleClient(TokenClient):
    base_setting = "accredible_api_base"
    token_setting = "accredible_api_key"

    def create_credential(self, credential: dict) -> dict:
        """POST /v1/credentials with {"credential": ...}; the created credential object."""
        # Accredible creates a new credential per call: never repeat one that may have gone through.
        response = self._send("POST", f"{self.base}/v1/credentials", "Accredible create credential",
                              headers=self._headers(), json={"credential": credential}, idempotent=False)
        if response.status_code in (401, 403):
            raise AccredibleAuthError(
                f"Accredible refused the API key (HTTP {response.status_code}): check ACCREDIBLE_API_KEY "
                "and that ACCREDIBLE_API_BASE is the host of that account's region"
            )
        if 400 <= response.status_code < 500:
            raise PlatformRefused(f"Accredible refused the credential (HTTP {response.status_code}): {_errors(response)}")
        if response.status_code not in (200, 201):  # the credential may exist: the ledger keeps the claim
            raise ConnectorError(f"Accredible answered {response.status_code} to create credential: "
                                 "check the platform")
        created = json_object(response, "Accredible create credential").get("credential")
        if not isinstance(created, dict) or created.get("id") in (None, ""):
            raise ConnectorError("Accredible answered create credential without the credential: check the platform")
        return created

    def _headers(self) -> dict:
        key = self.token()
        return {"Authorization": f"Token token={key}", "Accept": "application/json"}


def _errors(response: requests.Response) -> str:
    """Accredible's validation errors, in any of the shapes seen: {"errors": {field: [msg]}},
    {"errors": [msg]}, {"error": msg}. Short, without email addresses."""
    body = answer_body(response)
    errors = body.get("errors", body.get("error")) if isinstance(body, dict) else body
    if isinstance(errors, dict):
        text = "; ".join(f"{field} {_joined(messages)}" for field, messages in errors.items())
    else:
        text = _joined(errors)
    return redacted(text or str(body))


def _joined(messages: object) -> str:
    return ", ".join(str(m) for m in messages) if isinstance(messages, list) else str(messages or "")


CLIENT = AccredibleClient  # what the registry loads
