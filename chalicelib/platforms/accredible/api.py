"""Accredible API: creating (awarding) a credential in a group; reading credentials and their
analytics for a pull (pull.py).

Auth header `Authorization: Token token=<API key>`. Accounts live on one host (US, EU or
sandbox): a key used against another host's API is refused like a wrong key, so the auth error
names both ACCREDIBLE_API_KEY and ACCREDIBLE_API_BASE. Retries on 429 (honouring Retry-After)
/ 5xx / timeouts come from httpretry and end as httpretry.TransientFailure.

Rate limit (Accredible's API reference, "Rate Limiting"): 2,000 requests every 5 minutes from
one IP address, counted in 30-second periods (200 per period, 6.67 per second). Every request,
each retry included, first takes a token from a bucket shared by the clients of this process
for the same host: `requests_per_second` (default 6) with bursts of `burst` (default 10), so
no 30-second period sees more than 190 of them, leaving room for the other uses of the key.

Accredible does not refuse a second credential for the same recipient and group: the
connector's award ledger is what prevents duplicates.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, Unpack

import requests

from ...errors import ConnectorError, InputError, PlatformAuthError, PlatformRefused, shown_id
from ...httpretry import ClientOptions, host_of, json_object
from ..client import TokenClient
from ..common import Token, answer_body, path_segment, redacted

if TYPE_CHECKING:
    from ...settings import Settings

DEFAULT_REQUESTS_PER_SECOND = 6.0  # below 2,000 per 5 minutes (6.67/s) with room for a burst
DEFAULT_BURST = 10


class AccredibleAuthError(PlatformAuthError):
    """Accredible refused the API key: check ACCREDIBLE_API_KEY (and the region in ACCREDIBLE_API_BASE)."""

    platform = "accredible"


class Pacer:
    """A token bucket: up to `burst` requests at once, then `rate` per second on average.

    wait() reserves the next token and sleeps until it is due (outside the lock, so concurrent
    callers queue up in order instead of all waking at once)."""

    def __init__(
        self,
        rate: float,
        burst: int = 1,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("a pacer needs a positive rate and a burst of at least 1")
        self.rate = float(rate)
        self.burst = int(burst)
        self.clock = clock
        self.sleep = sleep
        self._tokens = float(burst)
        self._updated = clock()
        self._lock = threading.Lock()

    def wait(self) -> float:
        """Take one token; the seconds slept for it."""
        with self._lock:
            now = self.clock()
            self._tokens = min(float(self.burst), self._tokens + (now - self._updated) * self.rate)
            self._updated = now
            self._tokens -= 1.0
            delay = -self._tokens / self.rate if self._tokens < 0 else 0.0
        if delay > 0:
            self.sleep(delay)
        return delay


_SHARED = object()  # a client's default pacer: the bucket this process shares for the host
_pacers: dict[tuple[str, float, int], Pacer] = {}
_pacers_lock = threading.Lock()


def shared_pacer(host: str, rate: float, burst: int) -> Pacer:
    """One bucket per host and pace in this process: the limit is per IP address, not per client."""
    with _pacers_lock:
        key = (host, float(rate), int(burst))
        if key not in _pacers:
            _pacers[key] = Pacer(rate, burst)
        return _pacers[key]


class _PacedSession:
    """A requests session whose every request (each retry of httpretry's included) waits for the pacer."""

    def __init__(self, session: requests.Session, pacer: Pacer | None) -> None:
        self._session = session
        self.pacer = pacer

    def request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        if self.pacer is not None:
            self.pacer.wait()
        return self._session.request(method, url, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._session, name)


class AccredibleClient(TokenClient):
    base_setting = "accredible_api_base"
    token_setting = "accredible_api_key"
    # Class-wide defaults of the pacing; a client may be given its own (or pacer=None: none).
    requests_per_second: ClassVar[float] = DEFAULT_REQUESTS_PER_SECOND
    burst: ClassVar[int] = DEFAULT_BURST

    def __init__(self, api_base: str, token: Token, *, pacer: Any = _SHARED, **options: Unpack[ClientOptions]) -> None:
        """pacer: a Pacer of its own, None for no pacing; by default the process's bucket for this host."""
        super().__init__(api_base, token, **options)
        if pacer is _SHARED:
            pacer = shared_pacer(self.base, self.requests_per_second, self.burst) if self.requests_per_second else None
        self.paced = _PacedSession(self.session, pacer)
        self.session = self.paced  # type: ignore[assignment]  # httpretry calls only request() on it

    @classmethod
    def from_settings(cls, settings: Settings) -> AccredibleClient:
        client = super().from_settings(settings)
        rate = settings.accredible_requests_per_second
        if client.paced.pacer is not None:
            client.paced.pacer = shared_pacer(client.base, rate, cls.burst) if rate else None
        return client

    @property
    def pacer(self) -> Pacer | None:
        return self.paced.pacer

    # -- awarding ------------------------------------------------------------------------------

    def create_credential(self, credential: dict) -> dict:
        """POST /v1/credentials with {"credential": ...}; the created credential object."""
        # Accredible creates a new credential per call: never repeat one that may have gone through.
        response = self._send(
            "POST",
            f"{self.base}/v1/credentials",
            "Accredible create credential",
            headers=self._headers(),
            json={"credential": credential},
            idempotent=False,
        )
        self._check_auth(response)
        if 400 <= response.status_code < 500:
            raise PlatformRefused(
                f"Accredible refused the credential (HTTP {response.status_code}): {_errors(response)}"
            )
        if response.status_code not in (200, 201):  # the credential may exist: the ledger keeps the claim
            raise ConnectorError(f"Accredible answered {response.status_code} to create credential: check the platform")
        created = json_object(response, "Accredible create credential").get("credential")
        if not isinstance(created, dict) or created.get("id") in (None, ""):
            raise ConnectorError("Accredible answered create credential without the credential: check the platform")
        return created

    # -- reading (pull.py) ---------------------------------------------------------------------

    def search_credentials(self, query: dict, sort: dict, size: int, cursor: str | None = None) -> dict:
        """POST /v2/credentials/search with {"query": ..., "sort": ..., "page": {"size", "cursor"?}}
        (cursor paging: offset paging stops at 10,000 results); the answer, checked to hold a
        `credentials` list ({"credentials": [...], "meta": {"count", "from", "size", "cursor"}})."""
        page: dict = {"size": size}
        if cursor:
            page["cursor"] = cursor
        body = {"query": query, "sort": sort, "page": page}
        answer = self._read("POST", f"{self.base}/v2/credentials/search", "credential search", json=body)
        if not isinstance(answer.get("credentials"), list):
            raise ConnectorError("Accredible answered a credential search without a credentials list")
        return answer

    def analytics(
        self, *, page: int, page_size: int, start_date: str | None = None, end_date: str | None = None
    ) -> dict:
        """GET /v1/analytics (the organisation's credential analytics events); the answer, checked
        to hold an `analytics` list ({"analytics": [{"credential": {"id", "license_id"}, "event",
        "created_at"}], "meta": {"current_page", "next_page", ...}})."""
        params: dict = {"page": page, "page_size": page_size}
        if start_date:
            params["start_date"] = start_date
        if end_date:
            params["end_date"] = end_date
        answer = self._read("GET", f"{self.base}/v1/analytics", "analytics", params=params)
        if not isinstance(answer.get("analytics"), list):
            raise ConnectorError("Accredible answered an analytics page without an analytics list")
        return answer

    def credential(self, credential_id: str) -> dict | None:
        """GET /v1/credentials/{id}: the credential object, or None when Accredible has none (404)."""
        segment = path_segment(
            credential_id, lambda shown: InputError("credential.id", f"not a usable Accredible id: {shown}")
        )
        url = f"{self.base}/v1/credentials/{segment}"
        what = f"credential {shown_id(str(credential_id))}"
        answer = self._read("GET", url, what, missing_ok=True)
        if answer is None:
            return None
        credential = answer.get("credential")
        if not isinstance(credential, dict):
            raise ConnectorError(f"Accredible answered {what} without the credential")
        return credential

    # -- plumbing ------------------------------------------------------------------------------

    def _read(self, method: str, url: str, what: str, missing_ok: bool = False, **kwargs: Any) -> Any:
        response = self._send(method, url, f"Accredible {what}", headers=self._headers(), **kwargs)
        self._check_auth(response)
        if response.status_code == 404 and missing_ok:
            return None
        if response.status_code != 200:
            raise PlatformRefused(f"Accredible answered {response.status_code} for {what}: {_errors(response)}")
        return json_object(response, f"Accredible {what}")

    @staticmethod
    def _check_auth(response: requests.Response) -> None:
        if response.status_code in (401, 403):
            raise AccredibleAuthError(
                f"Accredible at {host_of(response.url or '')} refused the API key (HTTP {response.status_code}): "
                "check ACCREDIBLE_API_KEY "
                "and that ACCREDIBLE_API_BASE is the host of that account's region"
            )

    def _headers(self) -> dict:
        key = self.token()
        return {"Authorization": f"Token token={key}", "Accept": "application/json"}


def _errors(response: requests.Response) -> str:
    """Accredible's error message, in any of the shapes its reference shows: {"message": ...}
    (search query errors), {"errors": {field: [msg]}}, {"errors": [msg]}, {"errors": msg},
    {"error": msg}, {"data": msg}. Short, without email addresses."""
    body = answer_body(response)
    if isinstance(body, dict) and isinstance(body.get("message"), str) and body["message"].strip():
        return redacted(body["message"])
    errors = body.get("errors", body.get("error", body.get("data"))) if isinstance(body, dict) else body
    if isinstance(errors, dict):
        text = "; ".join(f"{field} {_joined(messages)}" for field, messages in errors.items())
    else:
        text = _joined(errors)
    return redacted(text or str(body))


def _joined(messages: object) -> str:
    return ", ".join(str(m) for m in messages) if isinstance(messages, list) else str(messages or "")


CLIENT = AccredibleClient  # what the registry loads
